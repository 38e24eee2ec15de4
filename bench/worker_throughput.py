"""Worker throughput: jobs per second of ONE worker process running face jobs end to end (the
real storage.worker.Worker and facegen.handlers.FaceJobs: claim, payload, render, encode, the
finalize transaction with the face row, its image blob and the outbox reply), on SQLite and
PostgreSQL, with the time per stage; then the courier side (claim replies, render them with the
conversation core's render_delivery, mark them sent) per delivery.

Renderers:
- zero-cost 1024 px: a stub render that returns a precomputed 1024-px photo (tests/data), so
  what is left is encoding and the job's overhead (what a GPU worker would add to its GPU);
- montage 512 px: the built-in renderer at the chat's default size.
Encoders, each the handler's own facegen.provenance.encode_picture with its provenance: png (the
format of drawn faces), jpeg (the format of photoreal ones: the backend marked photoreal, as
the StyleGAN backend is), and none (a precomputed JPEG: no encoding at all, the per-job
overhead alone).

    .venv/bin/python bench/worker_throughput.py                  # --jobs 300 --png-jobs 40 --runs 3
    .venv/bin/python bench/worker_throughput.py --smoke          # 4 jobs a row, one run

Jobs are queued as the chat core queues a "new" face (bot/conversation/core.py _enqueue: the
same payload, per-user cap checked), 4 per user, before the clock starts; the worker (batch size
DREAMFACE_WORKER_BATCH_SIZE's default, 8) then runs in this process from "go" until its last job
is settled. Stage times come from timers wrapped around the production functions in this
process (nothing in the code is changed): claim (JobControl.claim), payload (FaceJobs._load_all),
render (Backend.render), encode (FaceJobs._picture, summed over the threads that encode a batch's
pictures side by side), finalize (a batch's settling, wall clock: encoding the pictures, then one
transaction), and inside finalize: outbox (Outbox.add_many); "other" is the rest of the wall
clock (the loop, waits, thread hand-offs). A batch settles while the next one is claimed and
handled, so the stages can add up to more than the wall clock and "other" goes negative.
Statements are SQL statements sent per job (SQLite's BEGIN IMMEDIATE included, COMMIT not; a
multi-row statement sent with many rows' values counts once). --batch-size sets the worker's.

--adaptive N also measures each row with the batch size adapting (storage/batch_sizer.py),
starting at --batch-size, up to N, interleaved with the fixed runs, and prints the ratio and the
mean batch claimed (the sizer needs a few hundred jobs to climb: use --jobs 1000 or more):

    .venv/bin/python bench/worker_throughput.py --databases postgresql --only "zero-cost 1024 px none" --jobs 1500 --adaptive 32
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import io
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from _common import ADMIN_URL, postgres_unreachable, scratch_database

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
PHOTO = REPO / "tests" / "data" / "obama_official_portrait.jpg"
BATCH_SIZE = 8           # ground.config worker_batch_size's default
JOBS_PER_USER = 4        # under the default cap of 5 unfinished jobs per user
JPEG_QUALITY = 92
SHOW_STATEMENTS = False   # --statements: print the SQL statements per job, by time


@dataclass(frozen=True)
class Config:
    renderer: str   # zero-cost | montage
    size: int
    encode: str     # png | jpeg | none

    @property
    def label(self) -> str:
        return f"{self.renderer} {self.size} px {self.encode}"


CONFIGS = (Config("zero-cost", 1024, "png"), Config("zero-cost", 1024, "jpeg"), Config("zero-cost", 1024, "none"),
           Config("montage", 512, "png"))


# --- timers -------------------------------------------------------------------------------------

class Stages:
    """Seconds spent per stage, from timers wrapped around functions (sync or async)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.statements = 0
        self.by_statement: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])   # first words → count, seconds
        self._undo: list = []

    def wrap(self, owner, attr: str, stage: str, after=None) -> None:
        original = getattr(owner, attr)
        had_own = attr in vars(owner)

        if inspect.iscoroutinefunction(original):
            async def timed(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.seconds[stage] += time.perf_counter() - start
                    if after is not None:
                        after()
        else:
            def timed(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.seconds[stage] += time.perf_counter() - start
                    if after is not None:
                        after()
        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original if had_own else None))

    def replace(self, owner, attr: str, value) -> None:
        self._undo.append((owner, attr, getattr(owner, attr) if attr in vars(owner) else None))
        setattr(owner, attr, value)

    def count_statements(self, engine) -> None:
        """Count (and time, by their first words) the SQL statements the engine sends."""
        from sqlalchemy import event

        def before(conn, _cursor, statement, *_args) -> None:
            self.statements += 1
            conn.info["bench_started"] = time.perf_counter()

        def after(conn, _cursor, statement, *_args) -> None:
            entry = self.by_statement[" ".join(statement.split()[:4])[:48]]
            entry[0] += 1
            entry[1] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)

    def statement_lines(self, per: int) -> list[str]:
        top = sorted(self.by_statement.items(), key=lambda item: -item[1][1])
        return [f"    {count / per:5.2f} × {1000 * seconds / per:6.2f} ms  {words}" for words, (count, seconds) in top]

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            if original is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


# --- setup --------------------------------------------------------------------------------------

def photo(size: int):
    from PIL import Image
    with Image.open(PHOTO) as image:
        return image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)


def jpeg(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


async def prepare(url: str, jobs: int, size: int) -> None:
    """A migrated database with `jobs` "new face" jobs queued as the chat core queues them."""
    from facegen.handlers import MAKE, described_by_loading, job_kinds
    from storage.db import create_engine, session_factory
    from storage.faces import FaceRepository
    from storage.migrate import upgrade_database
    from storage.queue import Queue
    engine = create_engine(url)
    await upgrade_database(engine)
    model = described_by_loading("montage", None)
    queue = Queue(engine, job_kinds())
    async with session_factory(engine)() as session, session.begin():
        repo = FaceRepository(session)
        users = [await repo.get_or_create_user("web", f"bench-{n}", "en")
                 for n in range(-(-jobs // JOBS_PER_USER))]
    for n in range(jobs):
        user = users[n // JOBS_PER_USER]
        payload = {"user_id": user.id, "backend": model.name, "model": model.model_id, "size": size,
                   "reply_to": {"platform": "web", "chat_id": user.platform_user_id, "target": user.platform_user_id},
                   "operation": "new", "params": {"seed": n}}
        await queue.enqueue(MAKE, payload, user_id=user.id)
    await engine.dispose()


# --- the worker ---------------------------------------------------------------------------------

async def timed_run(run, finished: asyncio.Event, stages: "Stages", engine) -> float:
    """Run a loop (`run(stop)`: a worker's or a courier's) from "go" until `finished`; the wall
    clock in seconds. Counts the statements meanwhile, then undoes the stage timers and closes
    the engine."""
    try:
        stages.count_statements(engine)
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(run(stop))
        await finished.wait()
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        return elapsed
    finally:
        stages.restore()
        await engine.dispose()


async def run_worker(url: str, config: Config, jobs: int, batch_size: int, max_batch_size: int | None) -> dict:
    """Drain the queued jobs with one Worker; jobs/s and ms per job per stage."""
    from facegen.provenance import EncodedPicture
    from facegen.backends import load_backend
    from facegen.handlers import FaceJobs, worker_routes
    from storage.db import create_engine
    from storage.worker import Worker

    engine = create_engine(url)
    backend = load_backend("montage")
    faces = FaceJobs(engine)
    worker = Worker(engine, faces.handlers(), batch_size=batch_size, max_batch_size=max_batch_size,
                    poll_seconds=0.05, **worker_routes([backend.describe()]))
    stages = Stages()
    claimed: list[int] = []
    observe = worker.sizer.observe

    def counted(asked: int, got: int, *rest) -> None:
        claimed.append(got)
        observe(asked, got, *rest)

    worker.sizer.observe = counted
    settled, finished = 0, asyncio.Event()

    def one_settled() -> None:
        nonlocal settled
        settled += 1
        if settled >= jobs:
            finished.set()

    if config.renderer == "zero-cost":
        picture = photo(config.size)
        stages.replace(backend, "render", lambda codes, size=config.size: [picture] * len(codes))
    if config.encode == "jpeg":
        stages.replace(backend, "photoreal", True)
    if config.encode == "none":
        precomputed = EncodedPicture(jpeg(photo(config.size)), "image/jpeg")
        stages.replace(faces, "_picture", lambda *args, **kwargs: precomputed)
    stages.wrap(worker.queue, "claim", "claim")
    stages.wrap(faces, "_load_all", "payload")
    stages.wrap(backend, "render", "render")
    stages.wrap(faces, "_picture", "encode")
    stages.wrap(faces.outbox, "add_many", "outbox")
    stages.wrap(worker, "_handle", "handle")
    stages.wrap(worker, "_settle_handled", "settle")
    stages.wrap(worker, "_settled", "settled", after=one_settled)
    await worker.queue.now()   # connected
    elapsed = await timed_run(worker.run, finished, stages, engine)
    s = stages.seconds
    per_job = {name: 1000 * s[name] / jobs for name in ("claim", "payload", "render", "encode", "outbox")}
    per_job["finalize"] = 1000 * s["settle"] / jobs
    # the rest of the wall clock; the settling of one batch overlaps the next one's claim and
    # handling, so the stages can add up to more than the wall clock and this goes negative
    per_job["other"] = 1000 * (elapsed - s["claim"] - s["handle"] - s["settle"]) / jobs + 1000 * (
        s["handle"] - s["payload"] - s["render"] - s["encode"]) / jobs
    if SHOW_STATEMENTS:
        print("\n".join(stages.statement_lines(jobs)))
    return {"rate": jobs / elapsed, "statements": stages.statements / jobs, "batch": jobs / max(1, len(claimed)),
            "last_batch": worker.batch_size, **per_job}


# --- the courier --------------------------------------------------------------------------------

async def run_courier(url: str, deliveries: int) -> dict:
    """Deliver the replies the worker left with the real Courier, `send` rendering each with the
    conversation core (what every adapter does first); deliveries/s and ms per delivery."""
    from bot.conversation.core import Conversation
    from storage.courier import Courier
    from storage.db import create_engine
    from storage.outbox import Routes

    engine = create_engine(url)
    conversation = Conversation(engine)
    stages = Stages()
    marked, finished = 0, asyncio.Event()

    def one_marked() -> None:
        nonlocal marked
        marked += 1
        if marked >= deliveries:
            finished.set()

    async def send(delivery) -> None:
        if not await conversation.render_delivery(delivery):
            raise RuntimeError(f"delivery {delivery.id} rendered to nothing")

    courier = Courier(engine, Routes(platforms=("web",)), send, poll_seconds=0.05)
    stages.wrap(courier.outbox, "claim", "claim")
    stages.wrap(courier, "send", "render")
    stages.wrap(courier.outbox, "mark_sent", "mark", after=one_marked)
    await conversation.styles.refresh()
    elapsed = await timed_run(courier.run, finished, stages, engine)
    if SHOW_STATEMENTS:
        print("\n".join(stages.statement_lines(deliveries)))
    s = stages.seconds
    return {"rate": deliveries / elapsed, "statements": stages.statements / deliveries,
            **{name: 1000 * s[name] / deliveries for name in ("claim", "render", "mark")},
            "other": 1000 * (elapsed - s["claim"] - s["render"] - s["mark"]) / deliveries}


# --- one measurement ----------------------------------------------------------------------------

def measure(database: str, config: Config, jobs: int, admin_url: str, courier: bool,
            batch_size: int, max_batch_size: int | None = None) -> tuple[dict, dict | None]:
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
        else:
            url = stack.enter_context(scratch_database(admin_url))
        asyncio.run(prepare(url, jobs, config.size))
        worker = asyncio.run(run_worker(url, config, jobs, batch_size, max_batch_size))
        delivered = asyncio.run(run_courier(url, jobs)) if courier else None
    return worker, delivered


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300, help="jobs per row")
    parser.add_argument("--png-jobs", type=int, default=40, help="jobs per zero-cost PNG row (166 ms each to encode)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the medians are printed")
    parser.add_argument("--only", default="", help="comma-separated rows to run, e.g. 'zero-cost 1024 px none'")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL admin connection (scratch databases beside it)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="the worker's batch size")
    parser.add_argument("--adaptive", type=int, metavar="N", default=0,
                        help="also measure each row with the batch adapting from --batch-size up to N")
    parser.add_argument("--smoke", action="store_true", help="4 jobs a row, one run: checks the script")
    parser.add_argument("--statements", action="store_true", help="also list the SQL statements per job, by time")
    args = parser.parse_args()
    global SHOW_STATEMENTS
    SHOW_STATEMENTS = args.statements
    if args.smoke:
        args.jobs = args.png_jobs = 4
        args.runs = 1
    databases = args.databases.split(",")
    if "postgresql" in databases and (no_postgres := postgres_unreachable(args.admin_url)):
        print(f"({no_postgres}: its rows skipped)")
        databases.remove("postgresql")
    configs = [c for c in CONFIGS if not args.only or c.label in args.only.split(",")]
    print(f"one worker process, batch size {args.batch_size}, {args.runs} run(s) a row (medians), "
          f"{os.cpu_count()} CPUs; "
          "ms per job (per delivery for the courier)")
    for database in databases:
        for config in configs:
            jobs = args.png_jobs if (config.renderer, config.encode) == ("zero-cost", "png") else args.jobs
            results = [measure(database, config, jobs, args.admin_url, courier=config.encode == "none",
                               batch_size=args.batch_size)
                       for _ in range(args.runs)]
            w = median_of([worker for worker, _ in results])
            rates = ", ".join(f"{worker['rate']:.0f}" for worker, _ in results)
            print(f"{database:<11} {config.label:<24} {jobs:>4} jobs {w['rate']:>7.1f} jobs/s  "
                  f"claim {w['claim']:.2f}  payload {w['payload']:.2f}  render {w['render']:.2f}  "
                  f"encode {w['encode']:.2f}  finalize {w['finalize']:.2f} (outbox {w['outbox']:.2f})  other {w['other']:.2f}  statements {w['statements']:.1f}  "
                  f"(runs: {rates} jobs/s)", flush=True)
            if config.renderer == "montage":
                bound = 1000 / (w["render"] + w["encode"])
                print(f"{database:<11} {'montage render-bound':<24} {bound:>17.1f} jobs/s  "
                      f"(1 / (render + encode)); worker ÷ render-bound: {w['rate'] / bound:.2f}", flush=True)
            if results[0][1] is not None:
                c = median_of([delivered for _, delivered in results])
                print(f"{database:<11} {'courier (render_delivery)':<24} {jobs:>4} dlvs {c['rate']:>7.1f} dlvs/s  "
                      f"claim {c['claim']:.2f}  render {c['render']:.2f}  mark {c['mark']:.2f}  "
                      f"other {c['other']:.2f}  statements {c['statements']:.1f}", flush=True)
            if args.adaptive:
                compare_adaptive(database, config, jobs, args, fixed=[worker for worker, _ in results])


def compare_adaptive(database: str, config: Config, jobs: int, args: argparse.Namespace, fixed: list[dict]) -> None:
    """The same row with the batch adapting, run as many times; the fixed runs came just before."""
    adaptive = [measure(database, config, jobs, args.admin_url, courier=False, batch_size=args.batch_size,
                        max_batch_size=args.adaptive)[0] for _ in range(args.runs)]
    f, a = median_of(fixed), median_of(adaptive)
    rates = ", ".join(f"{run['rate']:.0f}" for run in adaptive)
    label = f"adaptive {args.batch_size}..{args.adaptive}"
    print(f"{database:<11} {label:<24} {jobs:>4} jobs {a['rate']:>7.1f} jobs/s  "
          f"mean batch {a['batch']:.1f} (last {a['last_batch']:.0f}) against {f['batch']:.1f}  "
          f"adaptive ÷ fixed: {a['rate'] / f['rate']:.2f}  "
          f"(runs: {rates} jobs/s)", flush=True)


if __name__ == "__main__":
    main()
