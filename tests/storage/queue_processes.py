"""Worker and courier processes for the crash, outage and shutdown tests (run as scripts).

    python tests/storage/queue_processes.py worker  URL LOGDIR [--lease S] [--batch N]
    python tests/storage/queue_processes.py courier URL LOGDIR [--lease S]

The worker runs the `echo` kind: each job sleeps `ms` and is done with one reply to
telegram chat `n`, written in the finalize transaction; jobs with "fail" raise every time.
The courier "sends" a reply by appending `nonce` to LOGDIR/sent-<pid>.log (flushed before
it returns), which stands for the platform accepting the message. Each process touches
LOGDIR/ready-<pid> once SIGTERM would stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.jobkinds import JobKind  # noqa: E402
from storage.worker import Done, Worker  # noqa: E402
from storage.courier import Courier  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.outbox import Destination, Outbox, Routes  # noqa: E402


def _echo_payload(payload):
    return {"n": int(payload["n"]), "ms": float(payload.get("ms", 0)), "fail": bool(payload.get("fail", False))}


ECHO = JobKind("echo", _echo_payload, batch_key=lambda p: "echo:fail" if p["fail"] else "echo:ok",
               max_attempts=10)


def echo_handler(outbox: Outbox):
    def handle(jobs):
        outcomes = []
        for job in jobs:
            time.sleep(job.payload["ms"] / 1000)
            if job.payload["fail"]:
                raise RuntimeError(f"echo job {job.payload['n']} always fails")

            async def write(session, job=job):
                await outbox.add(session, Destination("telegram", str(job.payload["n"])),
                                 {"n": job.payload["n"]}, job_id=job.id)
            outcomes.append(Done({"n": job.payload["n"], "attempt": job.attempt}, write))
        return outcomes
    return handle


async def run(args: argparse.Namespace) -> None:
    engine = create_engine(args.url, pool_size=3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    (Path(args.logdir) / f"ready-{os.getpid()}").touch()  # from here on SIGTERM means a clean stop
    if args.role == "worker":
        worker = Worker(engine, {"echo": echo_handler(Outbox(engine))}, queues=["default"],
                        batch_size=args.batch, lease_seconds=args.lease, poll_seconds=0.1, retry_base=0.05)
        await worker.run(stop)
    else:
        log = open(Path(args.logdir) / f"sent-{os.getpid()}.log", "a", buffering=1)
        marks = open(Path(args.logdir) / f"marked-{os.getpid()}.log", "a", buffering=1)

        async def send(delivery):
            log.write(f"{delivery.nonce}\n")
            log.flush()

        courier = Courier(engine, Routes(("telegram",)), send, lease_seconds=args.lease, poll_seconds=0.1)
        mark_sent = courier.outbox.mark_sent

        async def marked(delivery, owner):   # what was sent and recorded: never the send-to-mark window
            await mark_sent(delivery, owner)
            marks.write(f"{delivery.nonce}\n")
            marks.flush()
        courier.outbox.mark_sent = marked
        await courier.run(stop)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["worker", "courier"])
    parser.add_argument("url")
    parser.add_argument("logdir")
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
