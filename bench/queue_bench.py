"""Job queue benchmark: enqueue, then drain no-op jobs with 1, 2 and 4 worker processes;
prints throughput (jobs/s) and claim latency for dreamface on SQLite and PostgreSQL, and for
procrastinate on the same PostgreSQL, with the ratios. Claim latency is given per statement
(p50, p99: one dreamface claim hands out up to 16 jobs, one procrastinate fetch one job) and
per job handed out (time spent claiming ÷ jobs claimed). dreamface enqueue is timed twice:
jobs without a user (what procrastinate's defer does) and jobs of chat users (per-user cap:
the user's row is locked and their unfinished jobs counted), 400 users taking turns, timed on
the same database after the drain.

    .venv/bin/python bench/queue_bench.py [--jobs 2000] [--workers 1,2,4] [--skip-procrastinate]
                                          [--pool-pre-ping on|off] [--admin-url URL]
    .venv/bin/python bench/queue_bench.py --smoke     # 50 jobs, 1 worker, start-up counted: checks the script

PostgreSQL is DREAMFACE_TEST_POSTGRES_URL's server (else postgresql://postgres@127.0.0.1:5432/test);
without one the PostgreSQL rows are skipped, and said so.

procrastinate runs from its own environment (never a project dependency):

    python -m venv bench/.venv-procrastinate
    bench/.venv-procrastinate/bin/pip install "procrastinate==3.*" "psycopg[binary]"

Rows are measured one worker count at a time, the systems one after another, so that load from
elsewhere on the machine falls on them alike. Each measurement uses a fresh database. Worker processes start, connect, then wait for a "go"
file; the clock runs from "go" until every job is finished, so start-up is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ADMIN_URL, postgres_unreachable, scratch_database

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
PROCRASTINATE_PYTHON = HERE / ".venv-procrastinate" / "bin" / "python"
BATCH_SIZE = 16
CONCURRENCY = 4   # procrastinate jobs in flight per worker process, as in NOTES.md's reference run


# --- worker processes ---------------------------------------------------------------------------

async def dreamface_worker(pre_ping: bool, url: str, go: Path, out: Path) -> None:
    """A real facegen Worker with a no-op handler; records how long each claim took and how
    many jobs it handed out."""
    from storage.worker import Done, Worker
    from storage.db import create_engine

    async def noop(jobs):
        return [Done() for _ in jobs]

    engine = create_engine(url, pool_pre_ping=pre_ping)
    worker = Worker(engine, {"noop": noop}, batch_size=BATCH_SIZE, poll_seconds=0.05)
    claim, latencies = worker.queue.claim, []

    async def timed_claim(*args, **kwargs):
        start = time.perf_counter()
        jobs = await claim(*args, **kwargs)
        if jobs:
            latencies.append((time.perf_counter() - start, len(jobs)))
        return jobs

    worker.queue.claim = timed_claim
    await worker.queue.now()      # connected
    while not go.exists():
        await asyncio.sleep(0.005)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    while not (go.parent / "stop").exists():
        await asyncio.sleep(0.05)
    stop.set()
    await task
    out.write_text(json.dumps(latencies))
    await engine.dispose()


# --- databases ----------------------------------------------------------------------------------

def open_counter(url: str, sql: str):
    """A connection kept open for the whole drain (a new connection per look would cost the
    server a process start every 10 ms) and a function returning `sql`'s count through it."""
    if url.startswith("sqlite"):
        import sqlite3
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
    else:
        import psycopg
        conn = psycopg.connect(url.replace("+asyncpg", ""), autocommit=True)
    return conn, lambda: conn.execute(sql).fetchone()[0]


# --- one measurement ----------------------------------------------------------------------------

def drain(url: str, worker_cmd: list[str], workers: int, jobs: int, open_sql: str, settle: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        go = tmp_path / "go"
        outs = [tmp_path / f"latency-{i}.json" for i in range(workers)]
        procs = [subprocess.Popen(worker_cmd + [url, str(go), str(out)]) for out in outs]
        conn, count_open = open_counter(url, open_sql)
        time.sleep(settle)                      # imports and connections
        started = time.perf_counter()
        go.touch()
        while count_open() > 0:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        conn.close()
        (tmp_path / "stop").touch()
        for proc in procs:
            proc.wait(60)
        claims = [(seconds, count) for out in outs for seconds, count in json.loads(out.read_text())]
    latencies = sorted(seconds for seconds, _ in claims)
    return {"jobs_per_s": jobs / elapsed, "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99),
            "per_job_ms": 1000 * sum(latencies) / max(1, sum(count for _, count in claims))}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


CHAT_USERS = 400   # × the default cap of 5 unfinished jobs each = 2000 jobs


async def enqueue_dreamface(url: str, jobs: int, *, for_users: bool, pre_ping: bool) -> float:
    """Jobs per second enqueueing `jobs` no-op jobs one by one: without a user, or each for
    one of CHAT_USERS users taking turns (created first, not timed)."""
    from storage.jobkinds import JobKind, JobKinds
    from storage.db import create_engine, session_factory
    from storage.models import User
    from storage.queue import Queue
    engine = create_engine(url, pool_pre_ping=pre_ping)
    queue = Queue(engine, JobKinds({"noop": JobKind("noop", dict)}))
    owners: list[int | None] = [None]
    if for_users:
        async with session_factory(engine)() as session, session.begin():
            users = [User(platform="web", platform_user_id=f"bench-{n}") for n in range(CHAT_USERS)]
            session.add_all(users)
        owners = [user.id for user in users]
    started = time.perf_counter()
    for n in range(jobs):
        await queue.enqueue("noop", {}, user_id=owners[n % len(owners)])
    rate = jobs / (time.perf_counter() - started)
    await engine.dispose()
    return rate


async def migrate(url: str) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade_database
    engine = create_engine(url)
    await upgrade_database(engine)
    await engine.dispose()


def measure_dreamface(database: str, workers: int, jobs: int, pre_ping: bool, admin_url: str, settle: float) -> dict:
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
        else:
            url = stack.enter_context(scratch_database(admin_url))
        asyncio.run(migrate(url))
        enqueue_rate = asyncio.run(enqueue_dreamface(url, jobs, for_users=False, pre_ping=pre_ping))
        result = drain(url, [sys.executable, __file__, "dreamface-worker", "on" if pre_ping else "off"], workers, jobs,
                       "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')", settle)
        user_rate = asyncio.run(enqueue_dreamface(url, jobs, for_users=True, pre_ping=pre_ping))   # after the drain: not drained
    return {"enqueue_per_s": enqueue_rate, "user_enqueue_per_s": user_rate, **result}


def measure_procrastinate(workers: int, jobs: int, admin_url: str, settle: float) -> dict:
    with scratch_database(admin_url) as url:
        side = [str(PROCRASTINATE_PYTHON), str(HERE / "procrastinate_side.py")]
        enqueue = subprocess.run(side + ["setup", url, str(jobs)], check=True, capture_output=True, text=True)
        result = drain(url, side + ["worker", str(CONCURRENCY)], workers, jobs,
                       "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')", settle)
    return {"enqueue_per_s": float(enqueue.stdout.strip()), "user_enqueue_per_s": float("nan"), **result}


# --- report -------------------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "dreamface-worker":
        asyncio.run(dreamface_worker(sys.argv[2] == "on", sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--skip-procrastinate", action="store_true")
    parser.add_argument("--pool-pre-ping", choices=["on", "off"], default="off",
                        help="dreamface engines' pool_pre_ping (storage/db.py leaves it off; 'on' shows what it costs)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL admin connection (scratch databases beside it)")
    parser.add_argument("--smoke", action="store_true", help="50 jobs, 1 worker, start-up counted: a quick check")
    args = parser.parse_args()
    settle = 3.0                    # seconds for workers' imports and connections before "go"
    if args.smoke:
        args.jobs, args.workers, settle = 50, "1", 0.0
    counts = [int(n) for n in args.workers.split(",")]
    no_postgres = postgres_unreachable(args.admin_url)
    if no_postgres:
        print(f"({no_postgres}: its rows skipped)")
    with_procrastinate = not args.skip_procrastinate and not no_postgres and PROCRASTINATE_PYTHON.exists()
    if not args.skip_procrastinate and not no_postgres and not with_procrastinate:
        print(f"(procrastinate skipped: no {PROCRASTINATE_PYTHON}; see the docstring)")

    print(f"{args.jobs} no-op jobs; dreamface batch size {BATCH_SIZE}, pool_pre_ping {args.pool_pre_ping}; "
          f"procrastinate concurrency {CONCURRENCY}; {os.cpu_count()} CPUs")
    header = (f"{'system':<26}{'workers':>8}{'enqueue/s':>11}{'with user':>11}{'drain jobs/s':>14}"
              f"{'claim p50 ms':>14}{'claim p99 ms':>14}{'ms per job':>12}")
    print(header)
    rows: dict[tuple[str, int], dict] = {}
    systems = (["dreamface sqlite"] + ([] if no_postgres else ["dreamface postgresql"])
               + (["procrastinate postgresql"] if with_procrastinate else []))
    for workers in counts:          # systems side by side, so load from elsewhere falls on each alike
        for system in systems:
            if system.startswith("dreamface"):
                result = measure_dreamface(system.split()[1], workers, args.jobs, args.pool_pre_ping == "on",
                                           args.admin_url, settle)
            else:
                result = measure_procrastinate(workers, args.jobs, args.admin_url, settle)
            rows[(system, workers)] = result
            print(f"{system:<26}{workers:>8}{result['enqueue_per_s']:>11.0f}{result['user_enqueue_per_s']:>11.0f}"
                  f"{result['jobs_per_s']:>14.0f}{result['p50_ms']:>14.2f}{result['p99_ms']:>14.2f}"
                  f"{result['per_job_ms']:>12.2f}", flush=True)
    if with_procrastinate:
        print("\ndreamface postgresql ÷ procrastinate (same server, same run):")
        for workers in counts:
            ours, theirs = rows[("dreamface postgresql", workers)], rows[("procrastinate postgresql", workers)]
            print(f"  {workers} workers: drain ×{ours['jobs_per_s'] / theirs['jobs_per_s']:.2f}, "
                  f"enqueue ×{ours['enqueue_per_s'] / theirs['enqueue_per_s']:.2f}, "
                  f"claim p50 per statement ×{theirs['p50_ms'] / ours['p50_ms']:.2f} faster, "
                  f"per job ×{theirs['per_job_ms'] / ours['per_job_ms']:.2f} faster")


if __name__ == "__main__":
    main()
