"""Job queue benchmark: enqueue, then drain no-op jobs with 1, 2 and 4 worker processes;
prints throughput (jobs/s) and claim latency p50/p99 for dreamface on SQLite and PostgreSQL,
and for procrastinate on the same PostgreSQL, with the ratios.

    .venv/bin/python bench/queue_bench.py [--jobs 2000] [--workers 1,2,4] [--skip-procrastinate]

procrastinate runs from its own environment (never a project dependency):

    python -m venv bench/.venv-procrastinate
    bench/.venv-procrastinate/bin/pip install "procrastinate==3.*" "psycopg[binary]"

Each measurement uses a fresh database. Worker processes start, connect, then wait for a "go"
file; the clock runs from "go" until every job is finished, so start-up is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
ADMIN_URL = os.environ.get("DREAMFACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PROCRASTINATE_PYTHON = HERE / ".venv-procrastinate" / "bin" / "python"
BATCH_SIZE = 16
CONCURRENCY = 4   # procrastinate jobs in flight per worker process, as in NOTES.md's reference run


# --- worker processes ---------------------------------------------------------------------------

async def dreamface_worker(url: str, go: Path, out: Path) -> None:
    """A real facegen Worker with a no-op handler; records how long each claim took."""
    from facegen.worker import Done, Worker
    from storage.db import create_engine

    async def noop(jobs):
        return [Done() for _ in jobs]

    engine = create_engine(url)
    worker = Worker(engine, {"noop": noop}, batch_size=BATCH_SIZE, poll_seconds=0.05)
    claim, latencies = worker.queue.claim, []

    async def timed_claim(*args, **kwargs):
        start = time.perf_counter()
        jobs = await claim(*args, **kwargs)
        if jobs:
            latencies.append(time.perf_counter() - start)
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

def scratch_postgres() -> str:
    import psycopg
    from sqlalchemy.engine import make_url
    name = f"dreamface_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def count_open(url: str, sql: str) -> int:
    if url.startswith("sqlite"):
        import sqlite3
        with sqlite3.connect(url.split("///", 1)[1], timeout=30) as conn:
            return conn.execute(sql).fetchone()[0]
    import psycopg
    with psycopg.connect(url.replace("+asyncpg", "")) as conn:
        return conn.execute(sql).fetchone()[0]


# --- one measurement ----------------------------------------------------------------------------

def drain(url: str, worker_cmd: list[str], workers: int, jobs: int, open_sql: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        go = tmp_path / "go"
        outs = [tmp_path / f"latency-{i}.json" for i in range(workers)]
        procs = [subprocess.Popen(worker_cmd + [url, str(go), str(out)]) for out in outs]
        time.sleep(3.0)                         # imports and connections
        started = time.perf_counter()
        go.touch()
        while count_open(url, open_sql) > 0:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        (tmp_path / "stop").touch()
        for proc in procs:
            proc.wait(60)
        latencies = sorted(x for out in outs for x in json.loads(out.read_text()))
    return {"jobs_per_s": jobs / elapsed, "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99)}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def enqueue_dreamface(url: str, jobs: int) -> float:
    from facegen.jobkinds import JobKind, JobKinds
    from storage.db import create_engine
    from storage.migrate import upgrade_database
    from storage.queue import Queue
    engine = create_engine(url)
    await upgrade_database(engine)
    queue = Queue(engine, JobKinds({"noop": JobKind("noop", dict)}))
    started = time.perf_counter()
    for _ in range(jobs):
        await queue.enqueue("noop", {})
    rate = jobs / (time.perf_counter() - started)
    await engine.dispose()
    return rate


def measure_dreamface(database: str, workers: int, jobs: int) -> dict:
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.db" if database == "sqlite" else scratch_postgres()
    try:
        enqueue_rate = asyncio.run(enqueue_dreamface(url, jobs))
        result = drain(url, [sys.executable, __file__, "dreamface-worker"], workers, jobs,
                       "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
    finally:
        if database == "postgresql":
            drop_postgres(url)
    return {"enqueue_per_s": enqueue_rate, **result}


def measure_procrastinate(workers: int, jobs: int) -> dict:
    url = scratch_postgres()
    try:
        side = [str(PROCRASTINATE_PYTHON), str(HERE / "procrastinate_side.py")]
        enqueue = subprocess.run(side + ["setup", url, str(jobs)], check=True, capture_output=True, text=True)
        result = drain(url, side + ["worker", str(CONCURRENCY)], workers, jobs,
                       "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
    finally:
        drop_postgres(url)
    return {"enqueue_per_s": float(enqueue.stdout.strip()), **result}


# --- report -------------------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "dreamface-worker":
        asyncio.run(dreamface_worker(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--skip-procrastinate", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with_procrastinate = not args.skip_procrastinate and PROCRASTINATE_PYTHON.exists()
    if not args.skip_procrastinate and not with_procrastinate:
        print(f"(procrastinate skipped: no {PROCRASTINATE_PYTHON}; see the docstring)")

    print(f"{args.jobs} no-op jobs; dreamface batch size {BATCH_SIZE}, procrastinate concurrency {CONCURRENCY}; "
          f"{os.cpu_count()} CPUs")
    header = f"{'system':<26}{'workers':>8}{'enqueue/s':>11}{'drain jobs/s':>14}{'claim p50 ms':>14}{'claim p99 ms':>14}"
    print(header)
    rows: dict[tuple[str, int], dict] = {}
    for system in ["dreamface sqlite", "dreamface postgresql"] + (["procrastinate postgresql"] if with_procrastinate else []):
        for workers in counts:
            if system.startswith("dreamface"):
                result = measure_dreamface(system.split()[1], workers, args.jobs)
            else:
                result = measure_procrastinate(workers, args.jobs)
            rows[(system, workers)] = result
            print(f"{system:<26}{workers:>8}{result['enqueue_per_s']:>11.0f}{result['jobs_per_s']:>14.0f}"
                  f"{result['p50_ms']:>14.2f}{result['p99_ms']:>14.2f}", flush=True)
    if with_procrastinate:
        print("\ndreamface postgresql ÷ procrastinate (same server, same run):")
        for workers in counts:
            ours, theirs = rows[("dreamface postgresql", workers)], rows[("procrastinate postgresql", workers)]
            print(f"  {workers} workers: drain ×{ours['jobs_per_s'] / theirs['jobs_per_s']:.2f}, "
                  f"enqueue ×{ours['enqueue_per_s'] / theirs['enqueue_per_s']:.2f}, "
                  f"claim p50 ×{theirs['p50_ms'] / ours['p50_ms']:.2f} faster")


if __name__ == "__main__":
    main()
