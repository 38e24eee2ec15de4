"""The `/face` slash commands. Each one becomes the English command text the conversation
core already understands ("pick eyes 3", "morph me with Sora at 0.7 style"), so the grammar
stays the one place that knows what a command means; `/face me` carries a photo instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import discord
from discord import app_commands

from facegen.latent import MORPH_MODES, RATIO_MAX, RATIO_MIN

# What a slash command hands the adapter: the interaction, the command text, an attached photo.
OnCommand = Callable[[discord.Interaction, "str | None", "discord.Attachment | None"], Awaitable[None]]

MAX_CHOICES = 25   # Discord's limit on an option's choices


def command_text(command: str, **options: object) -> str:
    """The chat text for one /face subcommand and its options (None: not given)."""
    given = {k: v for k, v in options.items() if v is not None}
    if command == "describe":
        return f"describe {given['text']}"
    if command == "show":
        return f"show {given['region']}"
    if command == "pick":
        return " ".join(str(p) for p in ("pick", given.get("region"), given["number"]) if p is not None)
    if command == "morph":
        text = f"morph me with {given['name']}"
        if "ratio" in given:
            text += f" at {float(given['ratio']):g}"
        return text + (f" {given['mode']}" if "mode" in given else "")
    if command == "style":
        return f"art style {given['name']}" if "name" in given else "styles"
    if command in ("new", "remix", "undo", "history", "help", "breed"):
        return command
    if command == "words":
        return "describe my face"
    raise ValueError(f"no /face {command}")


def face_commands(on_command: OnCommand, regions: Sequence[str]) -> app_commands.Group:
    """The /face group; `regions` are the active backend's grid regions (offered as choices)."""
    face = app_commands.Group(name="face", description="얼굴 만들기 · build a face")
    region_choices = [app_commands.Choice(name=r.replace("_", " "), value=r) for r in regions[:MAX_CHOICES]]
    mode_choices = [app_commands.Choice(name=m, value=m) for m in MORPH_MODES]

    @face.command(name="new", description="새 얼굴 · a new random face")
    async def new(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("new"), None)

    @face.command(name="describe", description="묘사로 얼굴 만들기 · a face from a description")
    @app_commands.describe(text="예: 눈이 큰 둥근 얼굴 · e.g. a round face with big eyes")
    async def describe(interaction: discord.Interaction, text: app_commands.Range[str, 1, 500]) -> None:
        await on_command(interaction, command_text("describe", text=text), None)

    @face.command(name="show", description="후보 보기 · numbered candidates for one part")
    @app_commands.choices(region=region_choices)
    async def show(interaction: discord.Interaction, region: str) -> None:
        await on_command(interaction, command_text("show", region=region), None)

    @face.command(name="pick", description="후보 고르기 · pick a numbered candidate")
    @app_commands.describe(number="후보 번호 · the candidate's number", region="어느 부분 · which part (optional)")
    @app_commands.choices(region=region_choices)
    async def pick(interaction: discord.Interaction, number: app_commands.Range[int, 1, 99],
                   region: str | None = None) -> None:
        await on_command(interaction, command_text("pick", region=region, number=number), None)

    @face.command(name="morph", description="합성 · morph your face with someone from the gallery or #N")
    @app_commands.describe(name="연예인 이름 또는 #번호 · a gallery name or #N",
                           ratio="내 얼굴의 비율 0~1 · your share, 0 to 1", mode="합성 방식 · how to mix")
    @app_commands.choices(mode=mode_choices)
    async def morph(interaction: discord.Interaction, name: app_commands.Range[str, 1, 100],
                    ratio: app_commands.Range[float, RATIO_MIN, RATIO_MAX] | None = None, mode: str | None = None) -> None:
        await on_command(interaction, command_text("morph", name=name, ratio=ratio, mode=mode), None)

    @face.command(name="words", description="지금 얼굴을 말로 · the current face in words")
    async def words(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("words"), None)

    @face.command(name="breed", description="교배 · select several faces, the next array is bred from them")
    async def breed(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("breed"), None)

    @face.command(name="remix", description="스타일 바꾸기 · restyled versions to pick from")
    async def remix(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("remix"), None)

    @face.command(name="undo", description="되돌리기 · back to the previous face")
    async def undo(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("undo"), None)

    @face.command(name="history", description="기록 · your faces")
    async def history(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("history"), None)

    @face.command(name="me", description="내 사진으로 시작 · start from a photo of you")
    @app_commands.describe(photo="얼굴이 한 명만 나온 사진 · a photo with just your face")
    async def me(interaction: discord.Interaction, photo: discord.Attachment) -> None:
        await on_command(interaction, None, photo)

    @face.command(name="style", description="화풍 · the style new faces are drawn in")
    @app_commands.describe(name="화풍 이름 (비우면 목록) · a style's name (empty: the list)")
    async def style(interaction: discord.Interaction, name: app_commands.Range[str, 1, 100] | None = None) -> None:
        await on_command(interaction, command_text("style", name=name), None)

    @face.command(name="help", description="도움말 · what I can do")
    async def help_(interaction: discord.Interaction) -> None:
        await on_command(interaction, command_text("help"), None)

    return face
