"""The terminal chat of `dreamface chat` (dreamface/chat.py), with the same core every chat uses.

Interactive in a terminal. When stdin is not a terminal it reads one message per line, waits
until that message's jobs have finished, and prints one JSON object per reply:

    {"text": "...", "images": ["out/0003-dreamface-2.png"], "buttons": [{"label": "3", "payload": "d1:…"}]}

Lines starting with a slash are actions rather than messages:
    /press N         press button N (1-based) of the replies to the previous line
    /button PAYLOAD  press a button by its payload
    /photo PATH      send a photo
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.adapters import ChatCore
from bot.messages import Button, Incoming, Reply
from storage.courier import Courier
from storage.outbox import DeliveryRecord, Routes
from storage.platforms import CLI as PLATFORM

POLL_SECONDS = 0.05


class CliChat:
    """One user's session: sends lines to the core and writes replies (images into `out`)."""

    def __init__(self, conversation, engine, user: str, out: Path, locale: str | None,
                 emit: Callable[[Reply, list[Path]], None]) -> None:
        self.conversation = conversation
        self.user = user
        self.locale = locale
        self.out = out
        self.emit = emit
        self.last_buttons: list[Button] = []
        self._written = 0
        self.courier = Courier(engine, Routes(targets=((PLATFORM, user),)), self._deliver)

    def incoming(self, *, text: str | None = None, photo: bytes | None = None, button: str | None = None) -> Incoming:
        return Incoming(PLATFORM, self.user, self.user, text=text, photo=photo, button=button, locale=self.locale,
                        display_name=self.user, target=self.user)

    async def line(self, line: str) -> Incoming | None:
        """The Incoming a typed line stands for (None: nothing to send, a note was printed)."""
        if line.startswith("/press "):
            index = line.split(maxsplit=1)[1].strip()
            if not index.isdigit() or not 1 <= int(index) <= len(self.last_buttons):
                print(f"no button {index}; the last replies had {len(self.last_buttons)}", file=sys.stderr)
                return None
            return self.incoming(button=self.last_buttons[int(index) - 1].payload)
        if line.startswith("/button "):
            return self.incoming(button=line.split(maxsplit=1)[1].strip())
        if line.startswith("/photo "):
            path = Path(line.split(maxsplit=1)[1].strip())
            try:
                return self.incoming(photo=path.read_bytes())
            except OSError as exc:
                print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
                return None
        return self.incoming(text=line)

    async def send(self, incoming: Incoming) -> None:
        self.last_buttons = []
        for reply in await self.conversation.handle(incoming):
            self._show(reply)

    async def wait_for_jobs(self, timeout: float) -> bool:
        """Wait until the user's jobs have finished, then deliver their replies."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        finished = False
        while loop.time() < deadline:
            if not await self.conversation.pending_jobs(PLATFORM, self.user):
                finished = True
                break
            await asyncio.sleep(POLL_SECONDS)
        while await self.courier.run_once():
            pass
        return finished

    async def _deliver(self, delivery: DeliveryRecord) -> None:
        for reply in await self.conversation.render_delivery(delivery):
            self._show(reply)

    def _show(self, reply: Reply) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        paths = []
        for picture in reply.pictures:
            self._written += 1
            path = self.out / f"{self._written:04d}-{picture.filename}"
            path.write_bytes(picture.data)
            paths.append(path)
        self.last_buttons += [b for row in reply.buttons for b in row]
        self.emit(reply, paths)


def _json_line(reply: Reply, paths: list[Path]) -> None:
    buttons = [{"label": b.label, "payload": b.payload} for row in reply.buttons for b in row]
    print(json.dumps({"text": reply.text, "images": [str(p) for p in paths], "buttons": buttons},
                     ensure_ascii=False), flush=True)


def _pretty(offset: Callable[[], int]) -> Callable[[Reply, list[Path]], None]:
    def show(reply: Reply, paths: list[Path]) -> None:
        print(reply.text)
        for path in paths:
            print(f"  [image] {path}")
        labels = [b.label for row in reply.buttons for b in row]
        if labels:
            start = offset() - len(labels)
            print("  " + "  ".join(f"[{start + i + 1}] {label}" for i, label in enumerate(labels)))
        print(flush=True)
    return show


async def terminal_session(app: ChatCore, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """The conversation on this terminal until the end of input or a signal (`stop`); a signal
    ends a wait for jobs at once. `args`: the options of `dreamface chat` (dreamface/chat.py)."""
    interactive = sys.stdin.isatty()
    chat: CliChat
    emit = _pretty(lambda: len(chat.last_buttons)) if interactive else _json_line
    chat = CliChat(app.conversation, app.engine, args.user or getpass.getuser(), args.out, args.lang, emit)
    courier_stop = asyncio.Event()
    courier = asyncio.create_task(chat.courier.run(courier_stop)) if interactive else None
    if interactive:
        print("dreamface chat — type 'help' (도움말), Ctrl-D to leave.\n")
    try:
        if args.photo is not None:
            await chat.send(chat.incoming(photo=args.photo.read_bytes()))
            await _unless_stopped(chat.wait_for_jobs(args.wait), stop)
        async for line in _input_lines(stop, prompt="> " if interactive else None):
            incoming = await chat.line(line) if line else None
            if incoming is None:
                continue
            await chat.send(incoming)
            if not interactive:   # piped: one message's results before the next line
                await _unless_stopped(chat.wait_for_jobs(args.wait), stop)
    finally:
        courier_stop.set()
        if courier is not None:
            await courier


async def _unless_stopped(work, stop: asyncio.Event) -> None:
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, stopping):
        pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _input_lines(stop: asyncio.Event, prompt: str | None) -> AsyncIterator[str]:
    """Stripped lines of standard input until its end or `stop`. A daemon thread reads each line
    when the previous one has been handled, so a signal is handled at once and a half-typed
    line never holds up the exit."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    wanted = threading.Event()

    def read() -> None:
        line = "…"
        while line:
            wanted.wait()
            wanted.clear()
            if prompt:
                print(prompt, end="", flush=True)
            line = sys.stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line.strip() if line else None)
            except RuntimeError:   # the loop has closed: the process is exiting
                return

    threading.Thread(target=read, name="stdin", daemon=True).start()
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            wanted.set()
            next_line = asyncio.ensure_future(lines.get())
            await asyncio.wait({next_line, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not next_line.done():
                next_line.cancel()
                return
            line = next_line.result()
            if line is None:
                return
            yield line
    finally:
        stopping.cancel()
