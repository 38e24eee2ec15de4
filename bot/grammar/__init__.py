"""Text in Korean or English → a typed Command (see bot.commands). Pure: no I/O.

    parse("나 70% 아이유 30%로 섞어줘", "ko")  →  Morph(GalleryName("아이유"), 0.7, "linear")
"""

from bot.grammar.parse import parse
from bot.grammar.text import MAX_TEXT_CHARS

__all__ = ["parse", "MAX_TEXT_CHARS"]
