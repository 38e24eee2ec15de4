"""Telegram's slash commands as the words the conversation core already understands.

`/describe 눈이 큰 남자` reaches the core as "describe 눈이 큰 남자": the grammar stays the one
place that reads what users write, and a command is only a menu entry for a phrase.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlashCommand:
    name: str          # without the slash
    phrase: str        # what the core is told; the command's arguments follow it
    ko: str            # the menu's description in each language (setMyCommands)
    en: str


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("start", "help", "시작하기", "start here"),
    SlashCommand("help", "help", "할 수 있는 것", "what I can do"),
    SlashCommand("new", "new", "새 얼굴 (무작위)", "a new random face"),
    SlashCommand("describe", "describe", "말로 얼굴 만들기: /describe 눈이 큰 둥근 얼굴", "describe a face: /describe a round face"),
    SlashCommand("eyes", "show eyes", "눈 후보 10개", "ten eyes to pick from"),
    SlashCommand("nose", "show nose", "코 후보 10개", "ten noses to pick from"),
    SlashCommand("mouth", "show mouth", "입 후보 10개", "ten mouths to pick from"),
    SlashCommand("variations", "variations", "비슷한 얼굴들", "similar faces"),
    SlashCommand("breed", "breed", "교배: 닮은 얼굴 여러 개 골라 섞기", "breed: select several faces, mix them"),
    SlashCommand("morph", "morph", "합성: /morph 배소라 0.7", "morph: /morph Sora Bae 0.7"),
    SlashCommand("remix", "remix", "스타일 바꾸기", "remix the style"),
    SlashCommand("undo", "undo", "되돌리기", "undo"),
    SlashCommand("redo", "redo", "다시 하기", "redo"),
    SlashCommand("history", "history", "내 얼굴 기록", "my faces"),
    SlashCommand("words", "describe my face", "지금 얼굴을 말로 설명", "the current face in words"),
    SlashCommand("style", "art style", "화풍 고르기: /style 그림체", "drawing style: /style photo"),
    SlashCommand("gallery", "gallery", "합성할 수 있는 얼굴들", "faces to morph with"),
    SlashCommand("status", "status", "진행 상황", "what is running"),
    SlashCommand("cancel", "cancel", "작업 취소", "cancel my requests"),
    SlashCommand("web", "web", "웹 채팅 로그인 링크", "a login link for the web chat"),
    SlashCommand("lang", "lang", "언어: /lang en, /lang ko", "language: /lang en, /lang ko"),
)
BY_NAME = {command.name: command for command in COMMANDS}


def command_text(name: str, args: list[str]) -> str:
    """The phrase a slash command stands for; an unknown /word reaches the core as the word,
    so it is answered with suggestions rather than silence."""
    command = BY_NAME.get(name.lower())
    return " ".join([command.phrase if command else name, *args]).strip()
