"""Breeding (issue #21): rounds of whole faces bred from the ones a user chose, replayed from their
parameters alone, on the montage backend and on a tiny StyleGAN."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from facegen import breeding
from facegen.attributes import Attributes, Edit
from facegen.breeding import adjust, breed, first_round, next_round
from facegen.facecode import FaceCode
from facegen.montage import MontageBackend, decode
from facegen.recipes import RecipeError, candidate_set, clean_face_params, clean_set, make_face
from facegen.sheet import array_columns, candidate_sheet

BACKEND = MontageBackend()
MODEL = BACKEND.describe()
ANCHOR = BACKEND.sample(5)


def stored(round_set: dict) -> dict:
    """A round as the sheet job and the face node keep it: checked, then through JSON."""
    return json.loads(json.dumps(clean_set(json.loads(json.dumps(round_set)), MODEL)))


def pictures(codes: list[FaceCode], size: int = 48, backend=BACKEND) -> list[np.ndarray]:
    return [np.asarray(image, dtype=np.int16) for image in backend.render(codes, size)]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def three_rounds(locks=(), n: int = 9, backend=BACKEND, anchor: FaceCode = ANCHOR) -> list[list[FaceCode]]:
    """Round 1, then 3 of 9 chosen, then 2 chosen: each round's faces."""
    r1 = first_round(n, 11, locks=locks)
    r2 = next_round(r1, [3, 5, 8], 12)
    r3 = next_round(r2, [6, 2], 13)
    return [breed(backend, anchor, r) for r in (r1, r2, r3)]


# --- rounds replay exactly ------------------------------------------------------------------------

def test_the_same_parameters_give_the_same_faces_bit_for_bit():
    r1 = first_round(9, 11)
    r2 = stored(next_round(r1, [3, 5, 8], 12, locks=["eyes"], edits=[Edit("smile", 0.5)]))
    faces = candidate_set(BACKEND, ANCHOR, r2)
    again = candidate_set(MontageBackend(), FaceCode.from_bytes(ANCHOR.to_bytes()), stored(r2))
    assert [f.to_bytes() for f in faces] == [f.to_bytes() for f in again]
    assert len({f.to_bytes() for f in faces}) == 9                        # nine different faces
    assert breed(BACKEND, ANCHOR, {**r2, "seed": 13}) != faces            # another seed, another array


def test_a_pick_from_a_breed_set_replays_exactly():
    r1 = first_round(12, 11)
    r2 = next_round(r1, [3, 5], 12)
    r3 = next_round(r2, [4, 1, 9], 13, locks=["nose"])
    params = json.loads(json.dumps(clean_face_params("pick", {"set": r3, "number": 7}, MODEL)))
    assert params["set"]["previous"]["chosen"] == [3, 5] and params["set"]["chosen"] == [4, 1, 9]   # every choice kept
    assert make_face(MontageBackend(), "pick", params, parent=ANCHOR) == breed(BACKEND, ANCHOR, r3)[6]
    with pytest.raises(RecipeError, match="number must be between 1 and 12"):
        clean_face_params("pick", {"set": r3, "number": 13}, MODEL)


# --- elitism, crossover, mutation -----------------------------------------------------------------

def test_member_1_is_the_anchor_then_the_best_liked_face_carried_over_unchanged():
    first, second, third = three_rounds()
    assert first[0] == ANCHOR
    assert second[0] == first[2] and third[0] == second[5]                # chosen [3, 5, 8], then [6, 2]
    assert all(face != second[0] for face in second[1:])


def test_children_resemble_their_parents_more_than_random_faces_do():
    # round 3 (strength 0.36): round 1 is fresh faces and round 2 still moves far (0.6)
    _, second, third = three_rounds(n=12)
    parents = pictures([second[5], second[1]])
    children = pictures(third[1:])
    strangers = pictures([BACKEND.sample(1000 + i) for i in range(11)])

    def nearest(picture: np.ndarray) -> float:
        return min(distance(picture, parent) for parent in parents)

    # every child is nearer one of its parents than most random faces are to either of them
    assert max(map(nearest, children)) < np.median([nearest(s) for s in strangers])
    assert np.mean([nearest(c) for c in children]) < 2 / 3 * np.mean([nearest(s) for s in strangers])


def test_children_mix_their_parents_traits():
    # round 4 (strength 0.22), bred from two faces of round 3 with different hair
    r3 = next_round(next_round(first_round(18, 3), [2, 9], 4), [1, 5, 7], 5)
    r4 = next_round(r3, [2, 11], 6)
    a, b = (decode(face) for face in (breed(BACKEND, ANCHOR, r3)[k - 1] for k in (2, 11)))
    children = [decode(face) for face in breed(BACKEND, ANCHOR, r4)[1:]]
    # hair style is a categorical trait mutation rarely flips: children carry one parent's or the other's
    assert a.hair_style != b.hair_style
    styles = {child.hair_style for child in children}
    assert {a.hair_style, b.hair_style} <= styles


def test_mutation_strength_falls_round_by_round():
    strengths = [breeding.strength_for(r) for r in range(1, breeding.MAX_ROUNDS + 1)]
    assert strengths == sorted(strengths, reverse=True) and strengths[0] > 2 * strengths[-1] > 0
    # one face chosen each round: the array is that face's mutations alone
    spread_latent, spread_pixels = [], []
    for anchor in (BACKEND.sample(0), BACKEND.sample(3)):
        round_set, latent, pixel = first_round(12, 7), [], []
        for r in range(1, 7):
            faces = breed(BACKEND, anchor, round_set)
            latent.append(np.mean([np.sqrt(((f.base - faces[0].base) ** 2).mean()) for f in faces[1:]]))
            if r in (1, 6):
                drawn = pictures(faces, 32)
                pixel.append(np.mean([distance(p, drawn[0]) for p in drawn[1:]]))
            round_set = next_round(round_set, [4], 7 + r)
        spread_latent.append(latent)
        spread_pixels.append(pixel)
    latent = np.mean(spread_latent, axis=0)
    assert all(later < earlier for earlier, later in zip(latent, latent[1:]))     # closer every round
    first, sixth = np.mean(spread_pixels, axis=0)
    assert sixth < 0.7 * first                                                  # and visibly so


# --- locks and edits ------------------------------------------------------------------------------

EYES_BOX = tuple(round(v * 64) for v in BACKEND.region_box("eyes"))


def eyes_on(face: FaceCode, donor: FaceCode, region: str = "eyes") -> FaceCode:
    return face.with_part(region, donor.part(region))


def test_locked_eyes_stay_the_same_across_rounds_to_the_pixel():
    """Each member's eyes, drawn on the anchor's face, are the anchor's eyes to the pixel, in every
    round (the rest of the face goes on changing); without the lock they are not."""
    for locks, same in ((["eyes"], True), ([], False)):
        rounds = three_rounds(locks=locks)
        faces = [face for faces in rounds for face in faces]
        drawn = BACKEND.render([ANCHOR] + [eyes_on(ANCHOR, face) for face in faces], 64)
        eyes = [np.asarray(picture.crop(EYES_BOX), dtype=np.int16) for picture in drawn]
        differences = [distance(e, eyes[0]) for e in eyes[1:]]
        if same:
            assert max(differences) == 0
            assert len({f.to_bytes() for f in faces}) > 20          # while the faces themselves differ
        else:
            assert sum(d > 0.2 for d in differences) > 0.75 * len(differences)   # most members' eyes change


def test_a_whole_face_scale_applies_to_the_whole_array():
    round_set = next_round(first_round(9, 11), [2, 4], 12)
    plain = [decode(face) for face in breed(BACKEND, ANCHOR, round_set)]
    older = [decode(face) for face in breed(BACKEND, ANCHOR, adjust(round_set, edits=[Edit("age", 1.0)]))]
    for before, after in zip(plain, older):
        assert after.wrinkles > before.wrinkles and after.eye_bags > before.eye_bags
        assert after.hair_grey >= before.hair_grey
        assert (after.eye_size, after.hair_style, after.face_width) == (before.eye_size, before.hair_style,
                                                                        before.face_width)   # the same faces
    # the next round breeds from the older faces and does not age them again
    aged = adjust(round_set, edits=[Edit("age", 1.0)])
    assert breed(BACKEND, ANCHOR, next_round(aged, [3], 13))[0] == breed(BACKEND, ANCHOR, aged)[2]


def test_adjust_keeps_the_round_and_replaces_its_locks():
    round_set = next_round(first_round(9, 11, locks=["eyes"]), [2, 4], 12)
    assert next_round(round_set, [1], 13)["locks"] == ["eyes"]                       # None keeps them
    freed = adjust(round_set, locks=["nose", "mouth"])
    assert freed["locks"] == ["nose", "mouth"] and {**freed, "locks": ["eyes"]} == round_set
    faces = breed(BACKEND, ANCHOR, freed)
    assert all(np.array_equal(f.part("nose"), faces[0].part("nose")) for f in faces)


def test_described_marks_and_colours_survive_breeding():
    """A blue iris said, a red beard, a mole: mutation used to wear them away (a blue iris turned
    green in round 1)."""
    anchor = BACKEND.from_attributes(Attributes(eye_colour="blue", beard="full", beard_colour="red",
                                                moles=("cheek",), glasses=False), 3)
    assert {(decode(c).eye_colour, decode(c).beard_colour) for c in BACKEND.variations(anchor, 6, 0.45, 1)} \
        == {("blue", "red")}                                                 # single-pick variations too
    round_set = first_round(9, 1)
    for r in range(4):
        faces = [decode(face) for face in breed(BACKEND, anchor, round_set)]
        assert {(p.eye_colour, p.beard_colour) for p in faces} == {("blue", "red")}
        assert all(p.mole_cheek is not None for p in faces)
        round_set = next_round(round_set, [2, 3], 10 + r)


# --- what a request may hold ----------------------------------------------------------------------

def rounds_deep(depth: int) -> dict:
    """A chain of `depth` rounds written out by hand (next_round stops at MAX_ROUNDS)."""
    round_set = first_round(9, 0)
    for r in range(2, depth + 1):
        round_set = {**round_set, "round": r, "chosen": [1], "previous": round_set}
    return round_set


R2 = next_round(first_round(9, 1), [1, 2], 2)


@pytest.mark.parametrize("bad, message", [
    (rounds_deep(breeding.MAX_ROUNDS + 1), "round must be between 1 and 30, got 31"),
    ({**R2, "previous": {**R2["previous"], "round": 2}}, "round 2 must nest round 1, got round 2"),
    ({**R2, "previous": None}, "round 2 needs the previous round"),
    ({**R2, "chosen": [3, 10]}, "chosen faces are numbers 1 to 9, got 10"),
    ({**R2, "chosen": [2, 2]}, "each face is chosen once"),
    ({**R2, "chosen": []}, "choose at least one face"),
    ({**R2, "chosen": [1, 2, 3, 4, 5, 6, 7]}, "choose at most 6 faces"),
    ({**R2, "locks": ["eyes", "horns"]}, "cannot lock 'horns'; regions: eyes, brows"),
    ({**R2, "locks": ["eyes", "eyes"]}, "locks must be a list of regions, each once"),
    ({**R2, "locks": "eyes"}, "locks must be a list of regions"),
    ({**R2, "previous": {**R2["previous"], "locks": ["horns"]}}, "cannot lock 'horns'"),
    ({**R2, "edits": [{"amount": 1}]}, "an edit needs a field name"),
    ({**R2, "n": 19}, "n must be between 4 and 18"),
    ({**first_round(9, 1), "chosen": [1]}, "round 1 is bred from the anchor face"),
])
def test_bad_breed_sets_are_refused_at_enqueue_with_a_clear_message(bad, message):
    with pytest.raises(RecipeError, match=message):
        clean_set(bad, MODEL)
    with pytest.raises(RecipeError, match=message):
        clean_face_params("pick", {"set": bad, "number": 1}, MODEL)


def test_a_deep_session_is_accepted_and_stays_small_and_quick():
    deepest = stored(rounds_deep(breeding.MAX_ROUNDS))
    assert deepest["round"] == breeding.MAX_ROUNDS and len(json.dumps(deepest)) < 8_000
    assert len(breed(BACKEND, ANCHOR, deepest)) == 9


@pytest.mark.parametrize("chosen, message", [
    ([], "choose at least one face"), ([4, 4], "each face is chosen once"), ([0], "numbers 1 to 9, got 0"),
    ([10], "numbers 1 to 9, got 10"), (list(range(1, 8)), "at most 6"), (["2"], "numbers 1 to 9, got '2'"),
])
def test_next_round_refuses_bad_choices(chosen, message):
    with pytest.raises(ValueError, match=message):
        next_round(first_round(9, 1), chosen, 2)


def test_next_round_stops_after_the_last_round_and_arrays_keep_their_size():
    with pytest.raises(ValueError, match="at most 30 rounds"):
        next_round(rounds_deep(breeding.MAX_ROUNDS), [1], 3)
    with pytest.raises(ValueError, match="4 to 18 faces, got 3"):
        first_round(3, 1)
    assert next_round(first_round(breeding.DISCORD_ARRAY, 1), [1], 2)["n"] == 18


# --- the arrays on each platform ------------------------------------------------------------------

@pytest.mark.parametrize("n, columns, rows", [(breeding.TELEGRAM_ARRAY, 3, 3), (breeding.WEB_ARRAY, 4, 3),
                                              (16, 4, 4), (breeding.DISCORD_ARRAY, 6, 3)])
def test_an_array_is_one_numbered_grid_of_whole_faces(n, columns, rows):
    assert array_columns(n) == columns
    tile = 64
    images = [Image.new("RGB", (tile, tile), (200, 170 + 4 * i, 150)) for i in range(n)]
    sheet = np.asarray(candidate_sheet(images, array=True), dtype=np.int16)
    gap = tile // 32
    assert sheet.shape[:2] == (rows * tile + (rows + 1) * gap, columns * tile + (columns + 1) * gap)
    for i in range(n):
        x, y = gap + (i % columns) * (tile + gap), gap + (i // columns) * (tile + gap)
        cell = sheet[y:y + tile, x:x + tile]
        assert (np.abs(cell[-8:, -8:] - (200, 170 + 4 * i, 150)).max() <= 1)   # face i in cell i, in order
        corner = cell[:tile // 3, :tile // 3]
        assert (corner.max(axis=2) < 60).mean() > 0.15 and (corner.min(axis=2) > 230).mean() > 0.01   # its number


@pytest.fixture
async def jobs(engine):
    from facegen.handlers import FaceJobs, job_kinds
    from storage.db import session_factory
    from storage.faces import FaceRepository
    from storage.queue import Queue
    from storage.worker import Worker
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user("web", "u1", "en")
    queue = Queue(engine, job_kinds(), user_job_cap=50)
    worker = Worker(engine, FaceJobs(engine).handlers(), queues=("default",), batch_size=8)

    async def run(kind: str, **payload) -> list[dict]:
        from storage.outbox import Outbox
        job = await queue.enqueue(kind, {"user_id": user.id, "reply_to": {"platform": "web", "chat_id": "c1",
                                                                           "target": "u1"}, "size": 64, **payload},
                                  user_id=None)
        while await worker.run_once():
            pass
        return [d.payload for d in await Outbox(engine).for_job(job.id)]

    return sessions, user, run


async def test_a_breeding_sheet_job_draws_a_3_by_3_array_and_a_pick_keeps_every_round(jobs):
    from facegen.handlers import MAKE, SHEET
    from storage.blobs import read_blob
    from storage.faces import FaceRepository
    sessions, user, run = jobs
    await run(MAKE, operation="new", params={"seed": 5})
    async with sessions() as session:
        anchor = await FaceRepository(session).get_face_by_number(user, 1)
    r2 = next_round(first_round(9, 1), [2, 7, 4], 3, locks=["eyes"])
    (reply,) = await run(SHEET, face_id=anchor.id, set=r2)
    async with sessions() as session:
        sheet = Image.open(io.BytesIO((await read_blob(session, reply["blob_id"])).data))
    assert reply["type"] == "sheet" and sheet.size == (3 * 64 + 4 * 2, 3 * 64 + 4 * 2)   # 3 × 3 faces
    (reply,) = await run(MAKE, operation="pick", parent_id=anchor.id, params={"set": r2, "number": 6})
    async with sessions() as session:
        picked = await FaceRepository(session).get_face_by_number(user, reply["number"])
    assert picked.parent_id == anchor.id
    assert picked.params["set"]["chosen"] == [2, 7, 4] and picked.params["set"]["previous"]["round"] == 1
    assert FaceCode.from_bytes(picked.code) == breed(BACKEND, FaceCode.from_bytes(anchor.code), r2)[5]
    drawn = np.asarray(sheet.convert("RGB"), dtype=np.int16)[2 + 64 + 2:2 + 128 + 2, 2 + 128 + 4:2 + 192 + 4]
    (alone,) = pictures([FaceCode.from_bytes(picked.code)], 64)
    assert distance(drawn[24:, 24:], alone[24:, 24:]) < 2                  # face 6 on the sheet is the face picked


# --- every backend: the tiny StyleGAN the suite builds --------------------------------------------

@pytest.fixture(scope="module")
def stylegan():
    pytest.importorskip("torch")
    from facegen.stylegan.backend import StyleGANBackend
    from stylegan_fixtures import tiny_sg2
    return StyleGANBackend(tiny_sg2())


def test_breeding_on_stylegan_replays_keeps_member_1_and_its_locked_eyes(stylegan):
    model = stylegan.describe()
    anchor = stylegan.sample(4)
    r1 = first_round(6, 11, locks=["eyes"])
    r2 = json.loads(json.dumps(clean_set(next_round(r1, [3, 5, 2], 12), model)))
    first, second = breed(stylegan, anchor, r1), breed(stylegan, anchor, r2)
    assert first[0] == anchor and second[0] == first[2]
    assert [f.to_bytes() for f in second] == [f.to_bytes() for f in candidate_set(stylegan, anchor, r2)]
    # each member's eyes, blended into the anchor's face, are the anchor's to the pixel
    drawn = pictures([anchor] + [eyes_on(anchor, face) for face in first + second], 16, stylegan)
    assert all(np.array_equal(p, drawn[0]) for p in drawn[1:])
    whole = pictures(second, 16, stylegan)
    assert len({p.tobytes() for p in whole}) == 6                          # six different faces
    free = breed(stylegan, anchor, adjust(r2, locks=[]))
    freed = pictures([eyes_on(anchor, face) for face in free[1:]], 16, stylegan)
    assert sum(not np.array_equal(p, drawn[0]) for p in freed) >= 4       # unlocked, the eyes change
