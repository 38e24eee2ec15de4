"""Regenerate the montage pictures under docs/ (run from the repository root):

    .venv/bin/python scripts/make_docs_pictures.py [--out docs] [--only NAME.png ...]

grid_eyes.png        10 eye candidates for one face, as close-ups numbered as the chat shows them
morph_linear.png     A → B at λ = 0, .25, .5, .75, 1 (λ is A's share), in each morph mode
morph_style.png
morph_attribute.png
remix.png            one face with its coarse / middle / fine layers redrawn from fresh seeds
random_faces.png     20 random faces (seeds 0–19)
seed_sentence.png    the face from the seed paper's sentence (facegen.describe)
remix_described.png  that face and five style (fine-layer) remixes of it, which keep what the sentence said
marks.png            issue #14's marks, close up: freckles, a mole and a scar at each place, dimples
features.png         issue #14's features at both ends (forehead, cheekbones, cheeks, eye depth, nose
                     bridge, ears), the brow shapes and hairlines, eye and beard colours
age_bands.png        one woman and one man described at each age band, child to senior
breed_telegram.png   issue #21's breeding arrays at each platform's size, as the chat shows them: Telegram's
breed_web.png        9 (3 × 3) bred from 3 chosen of the first 9; the web's 12 (4 × 3) bred from 3
breed_discord.png    chosen; Discord's 18 (6 × 3), a third round with the eyes kept (locked), all around
                     one described face (each sheet's face 1 is the best-liked face, carried over)
photo_likeness.png   two portraits (tests/data, public domain) → the measured fit → the identity-guided
                     fit → caricatures 0.5 and 1, each with its descriptor distance to the photo
morph_share.png      "me" (the face made from a portrait) morphed with a gallery face at me's share
                     0, 0.1, …, 1, each with its descriptor distance to me (bench/morph_share.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from facegen import breeding  # noqa: E402
from facegen.attributes import MARK_PLACES, Attributes  # noqa: E402
from facegen.candidates import region_candidates, render_candidates  # noqa: E402
from facegen.latent import MORPH_MODES, remix  # noqa: E402
from facegen.montage import MontageBackend  # noqa: E402
from facegen.recipes import asked  # noqa: E402
from facegen.sheet import candidate_sheet, contact_sheet, drawn_side  # noqa: E402

SEED_SENTENCE = ("바가지 모양의 헤어 스타일이 촌스럽게 보이지만 내려간 눈꼬리와 살짝 올라간 입꼬리는 선한 이미지로 보여진다.\n"
                 " 중간 톤의 피부에 주름 없고 깔끔하게 정리된 수염은 건강하고 성실해 보이며 믿음이 가는 인상이다.")
TILE = 256
RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0)
FACE_BOX = (0.1, 0.07, 0.9, 0.87)  # the face without hair ends and clothes, for close-ups
# the plain faces the feature pictures change one thing on
PLAIN_MAN = dict(gender="male", age_band="twenties", skin_tone="fair", hair_colour="black", hair_style="short",
                 smile=-0.2)
PLAIN_WOMAN = dict(gender="female", age_band="twenties", skin_tone="medium", hair_colour="brown",
                   hair_style="ponytail", smile=-0.2)
PORTRAITS = Path(__file__).resolve().parent.parent / "tests" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--only", nargs="+", metavar="NAME.png", help="make only these pictures")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    backend = MontageBackend()

    def wanted(name: str) -> bool:
        return not args.only or name in args.only

    def save(image, name: str) -> None:
        if wanted(name):
            image.save(out / name, optimize=True)
            print(out / name, f"{image.width}×{image.height}")

    # a plain face so the eyes read clearly: no glasses, no fringe over the brows
    face = backend.from_attributes(Attributes(glasses=False, hair_style="short", beard="none", age_band="thirties",
                                              smile=0.0), seed=12)
    candidates = region_candidates(backend, face, "eyes", n=10, seed=3)
    box = backend.region_box("eyes")
    save(candidate_sheet(render_candidates(backend, face, candidates, "eyes", drawn_side(512, box)), box),
         "grid_eyes.png")

    a = backend.from_attributes(Attributes(gender="female", hair_style="long", skin_tone="fair",
                                           hair_colour="black", glasses=False), seed=21)
    b = backend.from_attributes(Attributes(gender="male", hair_style="short", skin_tone="tan", hair_colour="brown",
                                           beard="full", glasses=True, age_band="middle"), seed=22)
    labels = [f"{r:g}" for r in RATIOS]   # λ, the share of A (the default font has no Greek)
    for mode in MORPH_MODES:
        faces = backend.render([backend.morph(a, b, r, mode) for r in RATIOS], TILE)
        save(contact_sheet(faces, labels=labels), f"morph_{mode}.png")

    original = backend.sample(7)
    remixed, names = [original], ["original"]
    for layers, rows in backend.layer_ranges.items():
        for k in range(3):
            remixed.append(remix(original, backend.sample(100 + 10 * k + len(names)).base, rows))
            names.append(f"{layers} {k + 1}")
    save(contact_sheet(backend.render(remixed, TILE), labels=names), "remix.png")

    save(contact_sheet(backend.render([backend.sample(seed) for seed in range(20)], TILE)), "random_faces.png")

    from facegen.describe import parse_description
    description = parse_description(SEED_SENTENCE)
    if description.unknown:
        print("seed sentence: not understood:", description.unknown)
    described = backend.from_attributes(description.attributes, seed=3)
    (seed_face,) = backend.render([described], 512)
    save(seed_face, "seed_sentence.png")
    keep = asked([("describe", {"attributes": description.attributes.specified()})])
    fine = backend.layer_ranges["fine"]
    remixes = [described] + [backend.remix(described, 200 + k, fine, keep) for k in range(5)]
    labels = ["said", *(f"fine {k + 1}" for k in range(5))]
    save(contact_sheet(backend.render(remixes, TILE), columns=6, labels=labels), "remix_described.png")

    save(described_sheet(backend, marks(), columns=6), "marks.png")
    save(described_sheet(backend, features(), columns=6), "features.png")
    bands = ("child", "teen", "twenties", "thirties", "middle", "senior")
    save(described_sheet(backend, [(f"{band} {who}", dict(gender=gender, age_band=band, skin_tone="fair",
                                                           hair_style="short" if gender == "male" else "ponytail"), 5)
                                   for who, gender in (("F", "female"), ("M", "male")) for band in bands], columns=6),
         "age_bands.png")
    for name, sheet in breeding_arrays(backend).items():
        save(sheet, name)
    if wanted("photo_likeness.png"):
        save(photo_likeness(backend), "photo_likeness.png")
    if wanted("morph_share.png"):
        save(morph_share(backend), "morph_share.png")
    return 0


def breeding_arrays(backend: MontageBackend) -> dict[str, Image.Image]:
    """Breeding sheets at each platform's size, as the sheet job draws them (facegen.breeding)."""
    anchor = backend.from_attributes(Attributes(gender="female", age_band="thirties", hair_style="long",
                                                hair_colour="brown", glasses=False), seed=8)

    def sheet(round_set: dict) -> Image.Image:
        faces = breeding.breed(backend, anchor, round_set)
        return candidate_sheet(backend.render(faces, drawn_side(512, None)), array=True)

    # the choices a witness of "a woman in her thirties with long brown hair" made, best-liked first
    telegram = breeding.next_round(breeding.first_round(breeding.TELEGRAM_ARRAY, 1), [5, 1, 8], 2)
    web = breeding.next_round(breeding.first_round(breeding.WEB_ARRAY, 3), [2, 12, 7], 4)
    discord = breeding.first_round(breeding.DISCORD_ARRAY, 5)
    discord = breeding.next_round(breeding.next_round(discord, [3, 4, 17, 11], 6), [8, 12], 7, locks=["eyes"])
    return {"breed_telegram.png": sheet(telegram), "breed_web.png": sheet(web), "breed_discord.png": sheet(discord)}


def described_sheet(backend: MontageBackend, faces: list[tuple[str, dict, int]], columns: int) -> Image.Image:
    """Close-ups of described faces, (label, Attributes fields, seed) each, captioned above the
    picture so no label hides a hairline or a mark."""
    pictures = backend.render([backend.from_attributes(Attributes(**fields), seed) for _, fields, seed in faces], 512)
    crops = [picture.crop(tuple(round(v * 512) for v in FACE_BOX)).resize((TILE, TILE), Image.LANCZOS)
             for picture in pictures]
    gap, caption = 6, 26
    rows = -(-len(crops) // columns)
    sheet = Image.new("RGB", (columns * (TILE + gap) + gap, rows * (TILE + caption + gap) + gap), (250, 250, 250))
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=17)
    for i, (crop, (label, _, _)) in enumerate(zip(crops, faces)):
        x, y = gap + (i % columns) * (TILE + gap), gap + (i // columns) * (TILE + caption + gap)
        draw.text((x + TILE / 2, y + caption / 2), label, font=font, fill=(24, 24, 28), anchor="mm")
        sheet.paste(crop, (x, y + caption))
    return sheet


def marks() -> list[tuple[str, dict, int]]:
    out = [("plain", PLAIN_MAN, 4), ("freckles .5", {**PLAIN_MAN, "freckles": 0.5}, 4),
           ("freckles 1", {**PLAIN_MAN, "freckles": 1.0}, 4), ("dimples", {**PLAIN_MAN, "dimples": True}, 4),
           ("dimples smiling", {**PLAIN_MAN, "dimples": True, "smile": 0.8}, 4),
           ("freckles dark skin", {**PLAIN_WOMAN, "skin_tone": "dark", "freckles": 1.0}, 6)]
    out += [(f"mole {place}", {**PLAIN_MAN, "moles": (place,)}, 4) for place in MARK_PLACES]
    out += [(f"scar {place}", {**PLAIN_WOMAN, "scars": (place,)}, 6) for place in MARK_PLACES]
    out += [("moles, scar dark", {**PLAIN_WOMAN, "skin_tone": "dark", "moles": ("cheek", "mouth"),
                                  "scars": ("brow",)}, 6),
            ("all marks", {**PLAIN_WOMAN, "moles": ("under_eye", "chin"), "scars": ("cheek",), "freckles": 0.6,
                           "dimples": True}, 6)]
    return out


def features() -> list[tuple[str, dict, int]]:
    out = []
    for field, low, high in (("forehead_height", "low", "high"), ("forehead_width", "narrow", "broad"),
                             ("cheekbones", "flat", "prominent"), ("cheek_fullness", "hollow", "full"),
                             ("eye_depth", "protruding", "deep-set"), ("nose_bridge", "low", "high"),
                             ("ear_size", "small", "big")):
        name = field.replace("_", " ")
        out += [(f"{name} {low}", {**PLAIN_MAN, field: -1.0}, 4), (f"{name} {high}", {**PLAIN_MAN, field: 1.0}, 4)]
    out += [(f"brows {shape}", {**PLAIN_MAN, "brow_shape": shape, "brow_thickness": 0.7}, 4)
            for shape in ("straight", "arched", "angled")]
    out += [(f"hairline {shape}", {**PLAIN_MAN, "hairline": shape}, 4)
            for shape in ("straight", "m_shaped", "receding", "widows_peak")]
    out += [(f"{colour} eyes", {**PLAIN_WOMAN, "eye_colour": colour}, 6)
            for colour in ("dark", "brown", "hazel", "green", "blue", "grey")]
    out += [("black hair, white beard", {**PLAIN_MAN, "beard": "full", "beard_colour": "white"}, 4),
            ("black hair, red beard", {**PLAIN_MAN, "beard": "goatee", "beard_colour": "red"}, 4)]
    return out


def photo_likeness(backend: MontageBackend) -> Image.Image:
    """Each portrait beside the faces made from it, labelled with their descriptor distance to
    it (a tile's render, found and described as the bench does; under 0.6 reads as the person)."""
    from facegen.identity import descriptor, distance
    from facegen.montage import encode
    from facegen.montage.identity_fit import caricature
    from facegen.montage.photo_fit import fit_photo
    from facegen.photo import find_single_face, load_photo
    tiles, labels = [], []
    for name in ("obama_official_portrait.jpg", "biden_official_portrait.jpg"):
        photo = load_photo((PORTRAITS / name).read_bytes(), max_bytes=50_000_000, max_pixels=50_000_000)
        left, top, right, bottom = find_single_face(photo).box
        half = 1.15 * (right - left)           # about the montage's framing of a face, inside the photo
        cx = min(max((left + right) / 2, half), photo.width - half)
        cy = min(max((top + bottom) / 2 - 0.1 * (bottom - top), half), photo.height - half)
        crop = photo.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half))).resize((TILE, TILE))
        fit = fit_photo(photo, backend)
        faces = backend.render([encode(p) for p in (fit.measured, fit.params, caricature(fit.params, 0.5),
                                                   caricature(fit.params, 1.0))], TILE)
        own = descriptor(photo)
        tiles += [crop, *faces]
        labels += ["photo", *(f"{kind} {distance(descriptor(face), own):.2f}"
                              for kind, face in zip(("measured", "identity", "caric. 0.5", "caric. 1"), faces))]
    return contact_sheet(tiles, columns=5, labels=labels)



def morph_share(backend: MontageBackend) -> Image.Image:
    """The face made from Obama's portrait ("me") morphed with Sora Bae at each share of me,
    labelled with the share and the distance to me (facegen.identity.drawn_distances)."""
    from facegen.gallery import FICTIONAL_FACES, code_from_source
    from facegen.identity import drawn_distances
    from facegen.photo import load_photo
    photo = load_photo((PORTRAITS / "obama_official_portrait.jpg").read_bytes(), max_bytes=50_000_000,
                       max_pixels=50_000_000)
    me = backend.from_photo(photo, 0).code
    sora = code_from_source(backend, next(f for f in FICTIONAL_FACES if f.name == "Sora Bae").source)
    shares = [round(0.1 * i, 1) for i in range(11)]
    morphs = [backend.morph(me, sora, r) for r in shares]
    labels = [f"me {r:g}: {d:.2f}" for r, d in zip(shares, drawn_distances(backend, me, morphs))]
    return contact_sheet(backend.render(morphs, TILE), columns=6, labels=labels)


if __name__ == "__main__":
    sys.exit(main())
