"""Which file format and quality for photoreal pictures: encode time, bytes and the difference
from the lossless picture, for PNG, JPEG and WebP with Pillow (a script that prints figures;
not a timed test).

    .venv/bin/python bench/picture_formats.py            # 1024 px, median of 7 encodes
    .venv/bin/python bench/picture_formats.py --smoke    # 128 px, one encode each

The picture is a real photo (tests/data/biden_official_portrait.jpg, its top square, resized
to the size asked), what a StyleGAN face or a gallery photo fit looks like. Differences are
measured against that lossless picture: PSNR over RGB (dB, higher is closer) and SSIM of the
luma (8×8 windows; 1.0 = identical). The last lines time what the worker runs,
facegen.provenance.encode_picture with its metadata: the photo as a StyleGAN picture (JPEG)
and a montage face of the same size (PNG).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facegen.montage import MontageBackend  # noqa: E402
from facegen.provenance import encode_picture  # noqa: E402

DATA = ROOT / "tests" / "data"
PHOTO = DATA / "biden_official_portrait.jpg"
OTHER_PHOTOS = (DATA / "obama_official_portrait.jpg", DATA / "two_faces.jpg")
QUALITIES = (80, 85, 90, 92, 95)


def photo(size: int, path: Path = PHOTO) -> Image.Image:
    with Image.open(path) as image:
        side = min(image.size)
        return image.convert("RGB").crop((0, 0, side, side)).resize((size, size), Image.LANCZOS)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def median_ms(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn` (Pillow encodes on one thread: on a quiet
    machine the two agree; other work on a shared one inflates only the wall time)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _window_mean(a: np.ndarray, k: int = 8) -> np.ndarray:
    c = np.pad(a.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of the luma over every 8×8 window (Wang et al. 2004, uniform windows)."""
    luma = np.array([0.299, 0.587, 0.114])
    x, y = a @ luma, b @ luma
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _window_mean(x), _window_mean(y)
    vx, vy = _window_mean(x * x) - mx * mx, _window_mean(y * y) - my * my
    cov = _window_mean(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def kib_per_db(image: Image.Image) -> list[tuple[int, int, float]]:
    lossless = np.asarray(image, dtype=np.float64)
    points = []
    for quality in QUALITIES:
        data = encode(image, "JPEG", quality=quality)
        points.append((quality, len(data) / 1024, psnr(lossless, pixels(data))))
    return [(qa, qb, (kb - ka) / (pb - pa)) for (qa, ka, pa), (qb, kb, pb) in zip(points, points[1:])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="picture formats: encode time, bytes, difference")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a quick check that the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.repeats = 128, 1
    image = photo(args.size)
    lossless = np.asarray(image, dtype=np.float64)
    rows = [("PNG", None, {})]
    rows += [("JPEG", q, {"quality": q}) for q in QUALITIES]
    rows += [("JPEG", "90 4:4:4", {"quality": 90, "subsampling": 0})]   # full-resolution colour
    rows += [("WEBP", q, {"quality": q}) for q in QUALITIES]
    print(f"{args.size}-px photo ({PHOTO.name}), median of {args.repeats} encodes, Pillow {Image.__version__}")
    print(f"{'format':<6} {'quality':>8} {'wall ms':>8} {'CPU ms':>7} {'KiB':>6} {'PSNR dB':>8} {'SSIM':>7}")
    for fmt, quality, options in rows:
        data = encode(image, fmt, **options)
        wall, cpu = median_ms(lambda: encode(image, fmt, **options), args.repeats)
        decoded = pixels(data)
        q = "lossless" if quality is None else str(quality)
        print(f"{fmt.lower():<6} {q:>8} {wall:8.1f} {cpu:7.1f} {len(data) / 1024:6.0f} "
              f"{psnr(lossless, decoded):8.2f} {ssim(lossless, decoded):7.4f}")
    print("JPEG: KiB more per dB of PSNR gained, from each quality to the next (the knee is where it jumps):")
    for path in (PHOTO, *OTHER_PHOTOS):
        print(f"  {path.name:<28} " + "  ".join(f"{a}→{b} {cost:5.1f}" for a, b, cost in kib_per_db(photo(args.size, path))))
    print("what the worker stores (facegen.provenance.encode_picture, provenance included):")
    backend = MontageBackend()
    (drawing,) = backend.render([backend.sample(0)], args.size)
    for label, picture_of, backend_name in (("the photo", image, "stylegan"), ("a montage face", drawing, "montage")):
        photoreal = backend_name == "stylegan"

        def encoded():
            return encode_picture(picture_of, photoreal=photoreal, kind="face", face_id="df-aaaaaaaaaaaaaaaa",
                                  backend=backend_name, model="bench")
        wall, cpu = median_ms(encoded, args.repeats)
        print(f"  {label:<14} as {backend_name:<8} {encoded().content_type:<10} wall {wall:6.1f} ms  "
              f"CPU {cpu:6.1f} ms {len(encoded().data) / 1024:6.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
