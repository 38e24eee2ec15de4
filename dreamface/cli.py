"""`dreamface` command line. Each area registers its own subcommands, so this file stays a
table of contents: add a module to COMMAND_MODULES with a `register(subparsers)` function
that adds parsers whose `func(args) -> int` does the work."""

from __future__ import annotations

import argparse
import importlib
import sys

from ground.config import ConfigError
from facegen.backends import BackendUnavailable

COMMAND_MODULES = [
    "storage.commands",   # db upgrade, db check
    "facegen.commands",   # generate, parse, grid, morph
    "facegen.stylegan.commands",  # convert
    "facegen.training.commands",  # dataset montage, train
    "facegen.training.clip_commands",  # clip train
    "dreamface.worker",   # worker
    "bot.gallery",        # gallery add, list, remove
    "dreamface.chat",     # chat
    "dreamface.run",      # run
    "dreamface.bot",      # bot telegram, bot discord
    "bot.moderation.commands",   # mod add, mod list
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dreamface", description="Build a face by chatting.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"dreamface: configuration error: {exc}", file=sys.stderr)
        return 2
    except BackendUnavailable as exc:
        print(f"dreamface: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
