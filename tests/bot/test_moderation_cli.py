"""`dreamface mod add` and `dreamface mod list`: the only way to make a moderator. The password
comes from stdin (or a hidden prompt), is stored as a scrypt hash at the full default cost, and
the account can then log in."""

from __future__ import annotations

import asyncio
import io
import shutil

import pytest

from bot.moderation.passwords import DEFAULT_COST, verify_password
from dreamface import cli
from storage.db import create_engine, session_factory
from storage.moderation import Moderators


@pytest.fixture
def mod_cli(monkeypatch, tmp_path, migrated_templates, capsys):
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DREAMFACE_DATABASE_URL", url)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["bot.moderation.commands"])

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = cli.main(["mod", *argv])
        out = capsys.readouterr()
        return status, out.out, out.err
    run.url = url
    return run


async def _credentials(url: str, name: str):
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await Moderators(session).credentials(name)
    finally:
        await engine.dispose()


def test_mod_add_stores_a_full_cost_scrypt_hash_and_refuses_repeats(mod_cli):
    status, out, _ = mod_cli("add", "alice", stdin="a long enough password\n")
    assert status == 0 and "alice" in out
    _, stored = asyncio.run(_credentials(mod_cli.url, "alice"))
    assert stored.startswith(f"scrypt${DEFAULT_COST.log2_n}${DEFAULT_COST.r}${DEFAULT_COST.p}$")
    assert "a long enough password" not in stored
    assert verify_password("a long enough password", stored) and not verify_password("a long enough passwore", stored)

    status, _, err = mod_cli("add", "alice", stdin="another long password\n")
    assert status == 1 and "already exists" in err, err
    status, _, err = mod_cli("add", "bob", stdin="short\n")
    assert status == 2 and "at least" in err
    status, _, err = mod_cli("add", "Bob Smith", stdin="a long enough password\n")
    assert status == 2 and "lowercase" in err
    status, out, _ = mod_cli("list")
    assert status == 0 and out.splitlines()[0].startswith("alice\t") and "never" in out and "bob" not in out


def test_two_hashes_of_one_password_differ():
    from bot.moderation.passwords import ScryptCost, hash_password
    cheap = ScryptCost(log2_n=12)
    first, second = hash_password("same password!", cheap), hash_password("same password!", cheap)
    assert first != second                       # a salt of its own per hash
    assert verify_password("same password!", first) and verify_password("same password!", second)
    assert not verify_password("same password!", "plain text") and not verify_password("x", "scrypt$1$2$3$4$5")


async def _face_with_picture(url: str, photoreal: bool) -> tuple[int, str, bytes]:
    """A face stored as the worker stores one: its picture (JPEG for a photoreal face, else PNG)
    encoded with the public id the face is stored under."""
    from facegen.provenance import encode_picture
    from PIL import Image
    from storage.faces import FaceRepository
    from storage.models import new_public_id
    public_id = new_public_id()
    picture = encode_picture(Image.new("RGB", (16, 16), "white"), photoreal=photoreal, kind="face", face_id=public_id)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            repo = FaceRepository(session)
            user = await repo.get_or_create_user("telegram", "4242", "en")
            face = await repo.add_face(user, parent=None, operation="new", params={}, backend="montage",
                                       checkpoint_id="montage-2", code=b"code", image=picture.data,
                                       image_content_type=picture.content_type, public_id=public_id)
        return face.id, face.public_id, picture.data
    finally:
        await engine.dispose()


@pytest.mark.parametrize("photoreal, name", [(False, "shared.png"), (True, "shared.jpg")])
def test_mod_picture_resolves_a_pictures_provenance_id_or_the_file_itself(mod_cli, tmp_path, photoreal, name):
    face_id, public_id, data = asyncio.run(_face_with_picture(mod_cli.url, photoreal))
    (tmp_path / name).write_bytes(data)
    for argument in (public_id, str(tmp_path / name), str(face_id)):   # the id, the file, an old picture's id
        status, out, err = mod_cli("picture", argument)
        assert status == 0 and out.startswith(f"face {face_id}\tuser ") and "(telegram:4242) #1" in out, (out, err)
        assert f"/mod/faces/{face_id}" in out
    status, _, err = mod_cli("picture", "df-aaaaaaaaaaaaaaaa")
    assert status == 1 and "no face carries" in err
    (tmp_path / "plain.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert mod_cli("picture", str(tmp_path / "plain.png"))[0] in (1, 2)


def test_mod_block_closes_the_web_chat_to_a_network_and_unblock_opens_it(mod_cli):
    status, out, _ = mod_cli("block", "203.0.113.77/24", "--hours", "12", "--reason", "identity farm")
    assert status == 0 and "203.0.113.0/24" in out and "identity farm" in out
    status, out, _ = mod_cli("blocks")
    (line,) = out.splitlines()
    number, network, until, actor, reason = line.split("\t")
    assert (network, actor, reason) == ("203.0.113.0/24", "by cli", "identity farm") and until.endswith("UTC")
    for bad in (["block", "everyone"], ["block", "0.0.0.0/0"], ["block", "10.0.0.0/8", "--hours", "0"],
                ["block", "10.0.0.0/8", "--hours", "nan"]):
        status, _, err = mod_cli(*bad)
        assert status == 2 and err.startswith("dreamface mod block: "), (bad, err)
    status, _, err = mod_cli("unblock", "999")
    assert status == 1 and "no block 999" in err
    assert mod_cli("unblock", number)[0] == 0
    assert mod_cli("blocks")[1] == ""
