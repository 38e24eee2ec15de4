"""A PostgreSQL outage under load: worker and courier processes reach the test's scratch
database through a TCP proxy that the test cuts (dropping every connection and refusing new
ones) and restores. They must reconnect by themselves and lose nothing. The shared server is
never touched."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.jobkinds import JobKinds
from storage.db import create_engine
from storage.outbox import Outbox
from storage.queue import Queue
from storage.migrate import upgrade_database

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from queue_processes import ECHO  # noqa: E402

JOBS = 300


class CuttableProxy:
    """Forwards TCP connections to the database until cut; while cut, drops every open
    connection and closes new ones at once, like a database that went away."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.is_cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


async def counts(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        open_jobs = (await conn.execute(text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"))).scalar()
        unsent = (await conn.execute(text("SELECT count(*) FROM deliveries WHERE state != 'sent'"))).scalar()
    return open_jobs, unsent


@pytest.mark.postgres
@pytest.mark.slow
async def test_workers_and_couriers_ride_out_a_database_outage(scratch_postgres, tmp_path):
    url = scratch_postgres.create()
    engine = create_engine(url)
    await upgrade_database(engine)
    queue, outbox = Queue(engine, JobKinds({"echo": ECHO})), Outbox(engine)
    ids = [(await queue.enqueue("echo", {"n": n, "ms": 15})).id for n in range(JOBS)]

    parsed = make_url(url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    proxied_url = parsed.set(port=await proxy.start()).render_as_string(hide_password=False)
    procs = [subprocess.Popen([sys.executable, str(HERE / "queue_processes.py"), role, proxied_url, str(tmp_path),
                               "--lease", "3"], stderr=open(tmp_path / f"{role}-{i}.err", "w"))
             for i, role in enumerate(["worker", "worker", "courier"])]
    try:
        while (await counts(engine))[0] > JOBS * 0.8:   # under load
            await asyncio.sleep(0.1)
        proxy.cut()
        at_cut = await counts(engine)
        for n in range(JOBS, JOBS + 20):               # work keeps arriving while the workers cannot see it
            ids.append((await queue.enqueue("echo", {"n": n, "ms": 15})).id)
        await asyncio.sleep(4)
        assert all(proc.poll() is None for proc in procs), "a process died during the outage"
        proxy.restore()
        deadline = time.monotonic() + 40
        while await counts(engine) != (0, 0):
            assert time.monotonic() < deadline, f"still open after the outage: {await counts(engine)}"
            await asyncio.sleep(0.25)
        assert all(proc.poll() is None for proc in procs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(proc.wait, 20) for proc in procs]
        await proxy.close()
    assert codes == [0, 0, 0]
    assert at_cut[0] > 0, "the outage came after the work was done"

    for job_id in ids:
        job = await queue.get(job_id)
        assert job.state == "done" and len(await outbox.for_job(job_id)) == 1
    sent = [line for path in tmp_path.glob("sent-*.log") for line in path.read_text().split()]
    assert len(set(sent)) == len(ids)
    stderr = "".join(path.read_text() for path in tmp_path.glob("*.err"))
    print(f"\noutage with {at_cut[0]} jobs open; {len(ids)} jobs done, {len(sent)} sends; "
          f"{stderr.count('database unavailable')} waits logged")
    await engine.dispose()


def test_a_connection_that_breaks_while_being_made_counts_as_an_outage():
    """Seen in the outage test: asyncpg's "connection was closed in the middle of operation"
    raised while the pool makes a new connection (the proxy coming back) is not flagged as an
    invalidated connection, yet it is the database being unreachable, not a bug to stop on."""
    from asyncpg.exceptions import ConnectionDoesNotExistError, UniqueViolationError
    from sqlalchemy.exc import DBAPIError

    from storage.outage import is_unavailable

    def wrapped(cause: BaseException) -> DBAPIError:
        driver_error = Exception("connection was closed in the middle of operation")
        driver_error.__cause__ = cause
        return DBAPIError("SELECT 1", {}, driver_error, connection_invalidated=False)

    assert is_unavailable(wrapped(ConnectionDoesNotExistError("connection was closed in the middle of operation")))
    assert not is_unavailable(wrapped(UniqueViolationError("duplicate key value")))   # a real error stays one


def test_a_deadlock_or_serialization_failure_is_tried_again_not_a_crash():
    """Seen in the topology test: a worker's lease heartbeat hit PostgreSQL's "deadlock detected"
    (another worker was rescuing a killed one's jobs) and the worker process died of it."""
    from asyncpg.exceptions import DeadlockDetectedError, SerializationError
    from sqlalchemy.exc import DBAPIError

    from storage.outage import is_unavailable

    for cause in (DeadlockDetectedError("deadlock detected"), SerializationError("could not serialize access")):
        driver_error = Exception(str(cause))
        driver_error.__cause__ = cause
        assert is_unavailable(DBAPIError("UPDATE jobs …", {}, driver_error, connection_invalidated=False))
