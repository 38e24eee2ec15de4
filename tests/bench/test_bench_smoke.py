"""Every script in bench/ runs with --smoke (tiny sizes) and prints its figures. A check that the
scripts still work against the current code, not a timing: no figure is compared with anything.

Scripts that use PostgreSQL get the suite's admin URL; with CI=true the server is mandatory,
elsewhere they are run without one too and must say what they skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ADMIN_URL, REPO, process_env

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Bench:
    script: str
    figures: tuple[str, ...]            # regexes, each matching some line of the output
    postgres: tuple[str, ...] = ()      # more of them when a PostgreSQL server answers
    no_postgres: tuple[str, ...] = ()   # or these when none does

    @property
    def uses_postgres(self) -> bool:
        return bool(self.postgres)


BENCHES = [
    Bench("attribute_probe.py", (r"^trained on 36 pictures at 16 px, 10 steps of 16, \d+ s; saved "
                                 r"probe-smoke/probe\.pt$",
                                 r"^glasses +accuracy +clean \d\.\d{3} +blurred \d\.\d{3} +majority \d\.\d{3}",
                                 r"^skin_tone +r / rmse +clean -?\d\.\d{3} / \d\.\d{3} +blurred -?\d\.\d{3} / "
                                 r"\d\.\d{3} +mean 0\.000 / \d\.\d{3}",
                                 r"^  glasses off → on +clean \d/\d \(mean [+-]\d\.\d{3}\) +blurred \d/\d",
                                 r"^  hair blond → black +clean \d/\d",
                                 r"^samples +hair_colour +most likely: black \d+, brown \d+, blond \d+, red \d+, "
                                 r"grey \d+, white \d+$",
                                 r"^montage +skin_tone +mean [+-]\d\.\d{3}, sd \d\.\d{3}, 5–95% ",
                                 r"^sharpness \(mean \|Laplacian\| / mean \|picture − σ 1 px blur\|\): samples "
                                 r"\d\.\d{3} / \d\.\d{3}; montage ",
                                 r"^grid of the samples, 4 times enlarged: probe-smoke/grid\.png$")),
    Bench("duplicate_margin.py", (r"^  halved +\d+\.\d{3}$", r"^  the same man another day +\d+\.\d{3}$",
                                  r"^montage faces: \d+ of 6 found, \d+ pairs, smallest score \d+\.\d{3}, pairs under 1: \d+")),
    Bench("ada_target.py", (r"^ada +rt mean +-?\d\.\d\d \(target 0\.6, off by \d\.\d\d\), p \d\.\d{3} at the end, \d+ s$",
                            r"^noaug +rt mean +-?\d\.\d\d \(target 0\.6, off by \d\.\d\d\), no augmentation, \d+ s$",
                            r"^ +\d\.\d{3} +\d\.\d{3} +-?\d\.\d\d +-?\d\.\d\d$",
                            r"^ada +final snapshot: ada-target/seed-0/ada/snapshot-\d{9}\.safetensors$")),
    Bench("likeness.py", (r"^obama +identity +\d\.\d{3} +\d\.\d{3} +\d\.\d{3} \(biden +\) +(yes|no) +\d+\.\ds$",
                          r"^measured +rank-1 \d/4 +own photo 2 mean \d\.\d{3} .* made faces apart median \d\.\d{3}",
                          r"^identity +rank-1 \d/4 +own photo 2 mean \d\.\d{3}",
                          r"^caricature 1\.0 +rank-1 \d/4",
                          r"^identity +made faces apart: \d+ pairs told apart on their photos 1: min \d\.\d{3} \(",
                          r"^--- random montage faces \(seeds 1000–1005, \d found\), \d+ pairs apart: min \d\.\d{3}, "
                          r"5th percentile \d\.\d{3}, median \d\.\d{3}",
                          r"^known parameters \(2 montage people\): .* \d\.\d{3} after the identity fit$",
                          r"^--- likeness levels: photos of one person 6 pairs \d\.\d\d–\d\.\d\d apart; of different "
                          r"people 9 pairs \d\.\d\d–\d\.\d\d; levels: high under 0\.6, low from 0\.8$",
                          r"^--- real people's made faces \(identity fit; 4 people, 6 pairs\): \d of 6 pairs 0\.6 or more",
                          r"^  collins–hopper: made faces \d\.\d{3} apart, photos \d\.\d{3}$",
                          r"^same photo x2: 1 distinct face\(s\)$",
                          r"^time per fit, identity: mean \d+\.\d s, max \d+\.\d s")),
    Bench("skin_tone.py", (r"^collins_astronaut\.jpg +\(\d+, \d+, \d+\) +\d+ +\d\.\d\d +\d\.\d\d +\d\.\d\d$",
                           r"^two_faces\.jpg \(right\) ")),
    Bench("login_flood.py", (r"^idle +render 512 px +p50 +\d+\.\d ms", r"^after +render 512 px .*logins answered: ",
                             r"^before +render 512 px .*logins answered: ", r"^p50 / idle p50: after \d+\.\d\d, before ")),
    Bench("morph_share.py", (r"^obama +Sora Bae +linear +(\d\.\d{3} ){11} (monotone|rises by up to \d\.\d{3})$",
                             r"^linear: distance falls at every step in \d of 2 curves$")),
    Bench("moderation_log.py", (),
          postgres=(r"^seeded 10,000 faces", r"^first page, no filter +\d+\.\d+ +50$", r"^--- EXPLAIN ANALYZE: reported$"),
          no_postgres=(r"^moderation log bench skipped: PostgreSQL unreachable at ",)),
    Bench("picture_formats.py", (r"^png +lossless +\d+\.\d +\d+\.\d +\d+ +inf +1\.0000$",
                                 r"^jpeg +90 +\d+\.\d +\d+\.\d +\d+ +\d+\.\d\d +0\.\d{4}$",
                                 r"^webp +90 +\d+\.\d +\d+\.\d +\d+ +\d+\.\d\d +0\.\d{4}$",
                                 r"^  the photo +as stylegan image/jpeg +wall +\d+\.\d ms",
                                 r"^  a montage face as montage +image/png +wall")),
    Bench("queue_bench.py", (r"^dreamface sqlite +1 +\d+ +\d+ +\d+ +\d+\.\d\d",),
          postgres=(r"^dreamface postgresql +1 +\d+ +\d+ +\d+ +\d+\.\d\d",),
          no_postgres=(r"^\(PostgreSQL unreachable at .*: its rows skipped\)$",)),
    Bench("render.py", (r"^face 512 px +\(3 faces\) +wall mean +\d", r"^  region-only / whole: mean \d\.\d\d",
                        r"^parse per description \(4 parses")),
    Bench("stylegan_bench.py", (r"^  ours fp32 +batch +1: +\d+\.\d\d images/s",
                                r"^  \(NVIDIA's official code skipped: no --official PATH given\)$")),
    Bench("stylegan_memory.py", (r"^synthesis batch 1: peak live activations \d+ MiB",
                                 r"^inversion: the loss keeps \d+ MiB")),
    Bench("worker_throughput.py", (r"^sqlite +zero-cost 1024 px png +4 jobs +\d+\.\d jobs/s  claim \d+\.\d\d",
                                   r"^sqlite +zero-cost 1024 px none +4 jobs .* finalize \d+\.\d\d",
                                   r"^sqlite +courier \(render_delivery\) +4 dlvs +\d+\.\d dlvs/s",
                                   r"^sqlite +montage render-bound +\d+\.\d jobs/s"),
          postgres=(r"^postgresql +zero-cost 1024 px none +4 jobs +\d+\.\d jobs/s",
                    r"^postgresql +courier \(render_delivery\) +4 dlvs"),
          no_postgres=(r"^\(PostgreSQL unreachable at .*: its rows skipped\)$",)),
    Bench("text_directions.py", (r"^glasses +en\+ko +[+-]\d\.\d\d +\d+% +\d+% +\d+% +[+-]\d\.\d{3}$",
                                 r"^ko prompts: \d+ of 10 edits move at least 90% of the faces both ways$",
                                 r"^  'a face with glasses' +CLIP similarity -?\d\.\d{3} → -?\d\.\d{3}; glasses ",
                                 r"per direction edit with its render \(\d+×\)$")),
    Bench("clip_probe.py", (r"^  glasses +\d\.\d\d / \d\.\d\d +\d+\.\d% +\d+\.\d%$",
                            r"^  hair_colour +\d\.\d\d / \d\.\d\d +\d+\.\d% +\d+\.\d%$")),
    Bench("shape_visibility.py", (r"^  32 px  mean +\d+\.\d\d  largest +\d+  changed +\d+$",
                                  r"^step +3  loss \d\.\d{3}  held out: glasses \d+\.\d%  beard \d+\.\d%  \(\d+ s\)$")),
    Bench("sentence_rank.py", (r"^skin tone: dark +\d+% +\d+% +[+-]\d\.\d{3} +[+-]\d\.\d{3}  '까무잡잡한 피부'$",
                               r"^\d+ of 30 sentence-attribute pairs pick faces above the pool's middle",
                               r"^ranked_description\('a face with glasses'\) keeps seed \d+, as above; \d+ ms for 16 ")),
    Bench("train_bench.py", (r"^16 px, batch 4, at most 32 feature maps:$",
                             r"^  dreamface fp32 +\d+\.\d{4} kimg per CPU s$")),
    Bench("train_learning.py", (r"^scored snapshot-000000016\.safetensors: fd_dlib \d+\.\d{4}  face_rate \d\.\d{3}$",
                                r"^\| 0\.016 \| \d+ min \| \d+\.\d{3} \| \d+\.\d% \|$")),
    Bench("train_metrics.py", (r"^per picture: generating \d+\.\d{3} s, a descriptor \d+\.\d{3} s, detecting faces",
                               r"^fd_dlib +N=4: \d+ s at a run's first snapshot, \d+ s at later ones",
                               r"^ppl +N=4: \d+ s")),
    Bench("train_metrics_choices.py", (r"^dlib's chip on \d/2 montage faces: centre \(0\.\d\d, 0\.\d\d\), side 0\.\d\d",
                                       r"^rounding floor: squared distance ",
                                       r"^ε 0\.03: pixels move \d+\.\d{3} grey levels")),
    Bench("web_load.py", (r"^  delivered 4/4, lost 0; \d+\.\d faces/s end to end",
                          r"^  message → face: p50 \d+ ms")),
    Bench("web_latency.py", (r"^  message → image delivered +p50 +\d+\.\d ms +p95 +\d+\.\d ms",
                             r"^  goal p50 < 300 ms: ")),
]


def postgres_answers(request: pytest.FixtureRequest) -> bool:
    """The suite's check: in CI a missing server fails the test; elsewhere it is just False."""
    try:
        return request.getfixturevalue("postgres_available")
    except pytest.skip.Exception:
        return False


@pytest.mark.parametrize("bench", BENCHES, ids=lambda b: b.script.removesuffix(".py"))
def test_smoke(bench: Bench, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    command = [sys.executable, str(REPO / "bench" / bench.script), "--smoke"]
    expected = list(bench.figures)
    if bench.uses_postgres:
        command += ["--admin-url", ADMIN_URL]
        expected += bench.postgres if postgres_answers(request) else bench.no_postgres
    env = process_env() | {"PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    missing = [pattern for pattern in expected if not re.search(pattern, output, re.MULTILINE)]
    assert not missing, f"no line matches {missing} in:\n{output}"
