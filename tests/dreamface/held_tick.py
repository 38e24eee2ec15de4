"""`python held_tick.py ARGS…` runs `dreamface ARGS…` with its first clean-up tick held in
flight: the tick writes the file named by $HELD_TICK_MARKER and then never finishes, so a test
can stop the process exactly while a tick is running (the moment an APScheduler tick used to
be cancelled inside a database call and log a traceback). The shutdown grace for a tick is cut
to half a second to keep the tests short."""

import asyncio
import os
import sys
from pathlib import Path

import storage.cleanup
from dreamface.cli import main


async def held_enqueue(queue, period_seconds):
    Path(os.environ["HELD_TICK_MARKER"]).write_text("in flight")
    await asyncio.Event().wait()   # never set: only the shutdown ends this tick


storage.cleanup.enqueue_cleanup = held_enqueue
storage.cleanup.TICK_GRACE_SECONDS = 0.5

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
