"""Every SQL statement of the job queue, the delivery outbox and the process heartbeats, each
named with a one-line purpose, so a reader can list every query shape in a minute.

`{now}` stands for the database clock in seconds since the epoch (one clock for every
process on every machine); a statement with a `postgresql` text uses it there and `sql`
on SQLite. Parameters named in `lists` take a Python sequence (an expanding IN, typed so an
empty sequence still compares with the right type). UNFINISHED_JOB is "state IN ('queued',
'running')", spelled once in storage/models.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import JSON, BigInteger, Boolean, Double, Integer, String, bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

from storage.models import UNFINISHED_JOB

CLOCK = {
    "postgresql": "CAST(extract(epoch FROM statement_timestamp()) AS double precision)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}

JOB_COLUMNS = ("id, kind, queue, route, batch_key, priority, turn, payload, state, user_id, dedupe_key, attempt, "
               "max_attempts, run_at, expires_at, worker_id, lease_expires_at, cancel_requested, "
               "progress, result, error, created_at, started_at, finished_at")
_JOB_TYPES: Mapping[str, TypeEngine] = {"payload": JSON(), "result": JSON(), "cancel_requested": Boolean(),
                                        "run_at": Double(), "lease_expires_at": Double(), "progress": Double()}

DELIVERY_COLUMNS = ("id, nonce, job_id, platform, chat_id, target, payload, state, attempt, max_attempts, "
                    "run_at, owner, lease_expires_at, error, created_at, sent_at")
_DELIVERY_TYPES: Mapping[str, TypeEngine] = {"payload": JSON()}


@dataclass(frozen=True, eq=False)  # identity hash: each statement is compiled once per dialect
class Query:
    purpose: str
    sql: str
    postgresql: str | None = None
    params: Mapping[str, TypeEngine] = field(default_factory=dict)   # binds that need a type (JSON, bool)
    lists: Mapping[str, TypeEngine] = field(default_factory=dict)   # binds that take a sequence
    columns: Mapping[str, TypeEngine] = field(default_factory=dict)  # result columns that need decoding

    def for_dialect(self, dialect: str) -> TextClause:
        return _compile(self, dialect)


@cache
def _compile(query: Query, dialect: str) -> TextClause:
    sql = query.postgresql if dialect == "postgresql" and query.postgresql else query.sql
    clause = text(sql.replace("{now}", CLOCK[dialect]))
    binds = [bindparam(name, type_=kind) for name, kind in query.params.items()]
    binds += [bindparam(name, expanding=True, type_=kind) for name, kind in query.lists.items()]
    if binds:
        clause = clause.bindparams(*binds)
    if query.columns:
        clause = clause.columns(**query.columns)  # type: ignore[assignment]
    return clause


# --- clock -------------------------------------------------------------------------------------

NOW = Query("Read the database clock.", "SELECT {now}")

# --- the order of the line --------------------------------------------------------------------
# Fair turns: within a priority, jobs run by turn, then as before (run_at, id). A job's turn is
# stamped at enqueue (INSERT_JOB): one past its user's latest unfinished job in the queue, and
# never before the turn now at the head of the queue's line of that priority. So a user's second
# waiting job goes behind everyone's first, a newcomer joins the turn being served (behind at
# most one job of each other user), and the order of waiting jobs never changes as jobs leave.
# A job without a user (the clean-up) joins the turn at the head. A turn worked out at claim
# time instead (row_number() over each user's waiting jobs) would not hold: once a user's first
# job is claimed, their second becomes a first, older than a newcomer's, and goes ahead of it,
# so a newcomer behind one user's burst would still wait for all of it.
JOB_ORDER = "priority, turn, run_at, id"

# --- jobs: enqueue ------------------------------------------------------------------------------
# The common enqueue is INSERT_JOB alone: one statement that checks the per-user and crowd caps
# and the dedupe key, stamps the job's turn, inserts, and (PostgreSQL) wakes the workers.
# ENQUEUE_REFUSAL runs only when it inserted nothing, to say why.

LOCK_USER = Query(
    "Hold one user's row until commit, so that concurrent enqueues for that user each count the "
    "others' jobs (PostgreSQL only: a statement that waited on a lock still reads its older "
    "snapshot, so the lock must come first; SQLite's BEGIN IMMEDIATE serializes writers already).",
    "SELECT id FROM users WHERE id = :user_id FOR UPDATE",
)

CROWD_LOCK_CLASS = 0x6466   # the first key of LOCK_CROWD's two-key advisory locks ("df")

LOCK_CROWD = Query(
    "Hold a crowd (storage/models.py Job.crowd) until commit, so that concurrent enqueues of its "
    "users each count the others' jobs (PostgreSQL only, after LOCK_USER: always in that order).",
    f"SELECT pg_advisory_xact_lock({CROWD_LOCK_CLASS}, hashtext(:crowd))",
    params={"crowd": String()},
)


def _insert_job(greatest: str) -> str:
    """INSERT_JOB's text; `greatest` is the larger-of-two function (SQLite's max, PostgreSQL's greatest)."""
    turn = f"""{greatest}(
                  coalesce((SELECT turn FROM jobs WHERE state = 'queued' AND queue = :queue AND priority = :priority
                            ORDER BY {JOB_ORDER} LIMIT 1), 1),
                  coalesce((SELECT max(turn) FROM jobs
                            WHERE user_id = :user_id AND queue = :queue AND {UNFINISHED_JOB}), 0) + 1)"""
    return f"""INSERT INTO jobs (kind, queue, route, batch_key, priority, turn, payload, state, user_id, crowd,
                         dedupe_key, attempt, max_attempts, run_at, expires_at, cancel_requested, created_at)
       SELECT :kind, :queue, :route, :batch_key, :priority, {turn}, :payload, 'queued', :user_id, :crowd,
              :dedupe_key, 0, :max_attempts, {{now}} + :run_after, {{now}} + :expires_in, FALSE, {{now}}
       WHERE (:user_id IS NULL
              OR (EXISTS (SELECT 1 FROM users WHERE id = :user_id)
                  AND (SELECT count(*) FROM jobs WHERE user_id = :user_id AND {UNFINISHED_JOB}) < :user_cap
                  AND (:user_rate IS NULL
                       OR (SELECT count(*) FROM jobs WHERE user_id = :user_id AND created_at > {{now}} - :rate_window)
                          < :user_rate)))
         AND (:crowd IS NULL
              OR (SELECT count(*) FROM jobs WHERE crowd = :crowd AND {UNFINISHED_JOB}) < :crowd_cap)
       ON CONFLICT (dedupe_key) WHERE {UNFINISHED_JOB} DO NOTHING
       RETURNING id"""

INSERT_JOB = Query(
    "Add a queued job in its fair turn (see JOB_ORDER) unless its user is unknown, at the cap or "
    "over the rate (jobs created in the last :rate_window seconds), its crowd is at :crowd_cap, or "
    "an unfinished job holds its dedupe key (then no row comes back); on PostgreSQL it also wakes "
    "the queue's workers at commit.",
    _insert_job("max"),
    postgresql=f"WITH job AS ({_insert_job('greatest')}) SELECT id, pg_notify('dreamface_jobs', :queue) FROM job",
    params={"payload": JSON(none_as_null=True), "expires_in": Double(), "run_after": Double(),
            "user_id": BigInteger(), "user_rate": Integer(), "rate_window": Double(), "crowd": String(),
            "crowd_cap": Integer(), "queue": String(), "priority": Integer()},
)

ENQUEUE_REFUSAL = Query(
    "Why INSERT_JOB inserted nothing: the unfinished job holding the dedupe key, whether the "
    "user exists, how many unfinished jobs the user and the crowd have and how many jobs the "
    "user created in the window.",
    f"""SELECT (SELECT id FROM jobs WHERE dedupe_key = :dedupe_key AND {UNFINISHED_JOB}) AS holder,
              EXISTS (SELECT 1 FROM users WHERE id = :user_id) AS user_found,
              (SELECT count(*) FROM jobs WHERE user_id = :user_id AND {UNFINISHED_JOB}) AS unfinished,
              (SELECT count(*) FROM jobs WHERE crowd = :crowd AND {UNFINISHED_JOB}) AS crowded,
              (SELECT count(*) FROM jobs WHERE user_id = :user_id AND created_at > {{now}} - :rate_window) AS recent""",
    params={"user_id": BigInteger(), "rate_window": Double(), "crowd": String()},
    columns={"user_found": Boolean()},
)

# --- jobs: claim, lease, finish -----------------------------------------------------------------

# :any_route: a worker that serves every route (no model of its own, e.g. in tests); otherwise
# it takes unrouted jobs and those of the routes it serves
_READY_JOB = ("state = 'queued' AND queue IN :queues AND run_at <= {now} "
              "AND (expires_at IS NULL OR expires_at > {now}) "
              "AND (route IS NULL OR :any_route OR route IN :routes)")
_CLAIM_SET = ("state = 'running', worker_id = :worker_id, attempt = attempt + 1, started_at = {now}, "
              "lease_expires_at = {now} + :lease_seconds, progress = NULL")

# The claim on PostgreSQL: `head` reads the best ready job's batch key, `picked` locks up to
# :limit ready jobs of that key (both walk ix_jobs_claim in order, SKIP LOCKED, so concurrent
# workers step past each other's rows instead of waiting), and the UPDATE finds them by primary
# key: `id = ANY(ARRAY(...))` keeps that an index lookup, where a join with `picked` let the
# planner hash-join against a sequential scan of the whole table, finished jobs included.
CLAIM_JOBS = Query(
    "Take up to :limit ready jobs sharing the best ready job's batch key, in the line's order (JOB_ORDER).",
    f"""UPDATE jobs SET {_CLAIM_SET}
        WHERE id IN (
            SELECT id FROM jobs
            WHERE {_READY_JOB}
              AND batch_key = (SELECT batch_key FROM jobs WHERE {_READY_JOB}
                               ORDER BY {JOB_ORDER} LIMIT 1)
            ORDER BY {JOB_ORDER} LIMIT :limit)
        RETURNING {JOB_COLUMNS}""",
    postgresql=f"""WITH head AS MATERIALIZED (
            SELECT batch_key FROM jobs WHERE {_READY_JOB}
            ORDER BY {JOB_ORDER} LIMIT 1
            FOR UPDATE SKIP LOCKED
        ), picked AS MATERIALIZED (
            SELECT id FROM jobs
            WHERE {_READY_JOB} AND batch_key = (SELECT batch_key FROM head)
            ORDER BY {JOB_ORDER} LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        UPDATE jobs SET {_CLAIM_SET}
        WHERE id = ANY(ARRAY(SELECT id FROM picked))
        RETURNING {JOB_COLUMNS}""",
    params={"lease_seconds": Double(), "any_route": Boolean()},
    lists={"queues": String(), "routes": String()},
    columns=_JOB_TYPES,
)

EXTEND_JOB_LEASES = Query(
    "Extend the leases of jobs a worker still owns; tells which of them were asked to cancel.",
    """UPDATE jobs SET lease_expires_at = {now} + :lease_seconds
       WHERE id IN :ids AND state = 'running' AND worker_id = :worker_id
       RETURNING id, cancel_requested""",
    params={"lease_seconds": Double()},
    lists={"ids": BigInteger()},
    columns={"cancel_requested": Boolean()},
)

SET_JOB_PROGRESS = Query(
    "Record how far a running job has got (a fraction), only while this worker still owns it on this attempt. "
    "Never backwards: the worker's writes run side by side, and an earlier fraction may commit last.",
    """UPDATE jobs SET progress = CASE WHEN progress IS NULL OR progress < :progress THEN :progress ELSE progress END
       WHERE id = :id AND state = 'running' AND worker_id = :worker_id AND attempt = :attempt
       RETURNING id""",
    params={"progress": Double()},
)

_FINISH_JOB = """UPDATE jobs SET state = :state, result = :result, error = :error,
              run_at = {now} + :delay, attempt = attempt - :refund,
              finished_at = CASE WHEN :final THEN {now} ELSE NULL END,
              worker_id = NULL, lease_expires_at = NULL
       WHERE id = :id AND state = 'running' AND worker_id = :worker_id AND attempt = :attempt
       RETURNING id, state, queue"""

FINISH_JOB = Query(
    "The one guarded transition out of running: applies only while the job is running, owned by "
    "this worker and on the same attempt (a rescued job finished late by a zombie changes nothing). "
    "On PostgreSQL a job back in line wakes its queue's workers at commit.",
    _FINISH_JOB,
    postgresql=f"""WITH finished AS ({_FINISH_JOB})
        SELECT id, CASE WHEN state = 'queued' THEN pg_notify('dreamface_jobs', queue) END AS woke
        FROM finished""",
    params={"result": JSON(none_as_null=True), "final": Boolean(), "delay": Double()},
)

# many jobs' transitions in one statement: each job's outcome is a row of the JSON array :outcomes
# ({id, attempt, state, result, error, delay, refund, final}, as FINISH_JOB's parameters), read
# as a table (json_each on SQLite, json_to_recordset on PostgreSQL) and joined to its job
_FINISH_JOBS_SET = """state = v.state, result = v.result, error = v.error,
              run_at = {now} + v.delay, attempt = jobs.attempt - v.refund,
              finished_at = CASE WHEN v.final THEN {now} ELSE NULL END,
              worker_id = NULL, lease_expires_at = NULL"""
_FINISH_JOBS_WHERE = ("jobs.id = v.id AND jobs.state = 'running' AND jobs.worker_id = :worker_id "
                      "AND jobs.attempt = v.attempt")

FINISH_JOBS = Query(
    "FINISH_JOB for a batch: the same guard per job, each with its own transition; returns the jobs "
    "that were still ours (the others were rescued or cancelled meanwhile and changed nothing).",
    f"""UPDATE jobs SET {_FINISH_JOBS_SET}
       FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.attempt') AS attempt,
                    json_extract(value, '$.state') AS state, json_extract(value, '$.result') AS result,
                    json_extract(value, '$.error') AS error, json_extract(value, '$.delay') AS delay,
                    json_extract(value, '$.refund') AS refund, json_extract(value, '$.final') AS final
             FROM json_each(:outcomes)) AS v
       WHERE {_FINISH_JOBS_WHERE}
       RETURNING id""",
    postgresql=f"""WITH finished AS (
           UPDATE jobs SET {_FINISH_JOBS_SET}
           FROM json_to_recordset(CAST(:outcomes AS json)) AS v(id bigint, attempt integer, state text,
                result json, error text, delay double precision, refund integer, final boolean)
           WHERE {_FINISH_JOBS_WHERE}
           RETURNING jobs.id, jobs.state, jobs.queue)
        SELECT id, CASE WHEN state = 'queued' THEN pg_notify('dreamface_jobs', queue) END AS woke
        FROM finished""",
)

# a queued job is cancelled at once; a running one is flagged for its worker's next heartbeat
_CANCEL_SET = """state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
              finished_at = CASE WHEN state = 'queued' THEN {now} ELSE finished_at END,
              error = CASE WHEN state = 'queued' THEN :reason ELSE error END,
              cancel_requested = TRUE"""

CANCEL_JOB = Query(
    "Cancel a job: a queued one at once, a running one is flagged for its worker's next heartbeat.",
    f"""UPDATE jobs SET {_CANCEL_SET}
       WHERE id = :id AND {UNFINISHED_JOB}
       RETURNING state""",
)

CANCEL_USER_JOBS = Query(
    "Cancel every unfinished job of a user, as CANCEL_JOB does one (a ban, a cancel, deleting their data).",
    f"""UPDATE jobs SET {_CANCEL_SET}
       WHERE user_id = :user_id AND {UNFINISHED_JOB}
       RETURNING id""",
    params={"user_id": BigInteger()},
)

RESCUE_EXPIRED_JOBS = Query(
    "Put running jobs whose lease ran out back in line (the attempt counts), or fail them after the last attempt.",
    """UPDATE jobs SET
              state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
              finished_at = CASE WHEN attempt >= max_attempts THEN {now} ELSE NULL END,
              error = :reason, run_at = {now}, worker_id = NULL, lease_expires_at = NULL
       WHERE state = 'running' AND lease_expires_at < {now}
       RETURNING id, state""",
)

EXPIRED_LEASE_OWNERS = Query(
    "Workers whose leases ran out: they stopped responding, so they no longer count as up.",
    "SELECT DISTINCT worker_id FROM jobs WHERE state = 'running' AND lease_expires_at < {now} AND worker_id IS NOT NULL",
)

FORGET_PROCESSES = Query("Remove processes that stopped responding (a live one re-registers with its next beat).",
                         "DELETE FROM workers WHERE id IN :ids", lists={"ids": String()})

EXPIRE_STALE_JOBS = Query(
    "Fail queued jobs that nobody started before their expiry.",
    """UPDATE jobs SET state = 'failed', finished_at = {now}, error = :reason
       WHERE state = 'queued' AND expires_at IS NOT NULL AND expires_at <= {now}
       RETURNING id""",
)

# --- jobs: reading ------------------------------------------------------------------------------

JOB_BY_ID = Query("One job.", f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = :id", columns=_JOB_TYPES)

JOBS_AHEAD = Query(
    "How many queued jobs of the same queue and route run before this one: those before it in "
    "JOB_ORDER (a more urgent priority, an earlier turn, or the same turn and in line sooner).",
    """SELECT count(*) FROM jobs j, jobs me
       WHERE me.id = :id AND j.state = 'queued' AND j.queue = me.queue
         AND coalesce(j.route, '') = coalesce(me.route, '')
         AND (j.priority, j.turn, j.run_at, j.id) < (me.priority, me.turn, me.run_at, me.id)""",
)

RECENT_RUN_SECONDS = Query(
    "Mean run time of the latest finished jobs of a queue (for the wait estimate).",
    """SELECT avg(finished_at - started_at) FROM (
           SELECT finished_at, started_at FROM jobs
           WHERE state = 'done' AND queue = :queue ORDER BY finished_at DESC LIMIT 50) recent""",
    columns={"avg": Double()},
)

# --- process heartbeats -------------------------------------------------------------------------

BEAT = Query(
    "Record that a worker or chat process is alive (first beat registers it).",
    """INSERT INTO workers (id, kind, host, pid, queues, routes, started_at, last_seen)
       VALUES (:id, :kind, :host, :pid, :queues, :routes, {now}, {now})
       ON CONFLICT (id) DO UPDATE SET last_seen = {now}""",
)

FORGET_PROCESS = Query("Remove a process that stopped cleanly.", "DELETE FROM workers WHERE id = :id")

LIVE_PROCESSES = Query(
    "Processes of a kind seen within the last :within seconds.",
    "SELECT id, queues, routes FROM workers WHERE kind = :kind AND last_seen > {now} - :within",
    params={"within": Double()},
)

PRUNE_PROCESSES = Query(
    "Forget processes silent for longer than :after seconds.",
    "DELETE FROM workers WHERE last_seen < {now} - :after",
    params={"after": Double()},
)

# --- deliveries (the outbox) --------------------------------------------------------------------

_INSERT_DELIVERY = """INSERT INTO deliveries (nonce, job_id, platform, chat_id, target, payload, state, attempt,
                                         max_attempts, run_at, created_at)
       VALUES (:nonce, :job_id, :platform, :chat_id, :target, :payload, 'pending', 0, :max_attempts,
               {now}, {now})
       RETURNING id, platform"""

INSERT_DELIVERY = Query(
    "Add a pending reply for a destination; on PostgreSQL the same statement wakes listening chat "
    "processes of its platform when the transaction commits.",
    _INSERT_DELIVERY,
    postgresql=f"""WITH inserted AS ({_INSERT_DELIVERY})
        SELECT id, pg_notify('dreamface_deliveries', platform) AS woke FROM inserted""",
    params={"payload": JSON()},
)

_READY_DELIVERY = ("state = 'pending' AND run_at <= {now} AND (platform IN :platforms "
                   "OR (target IS NOT NULL AND platform || '|' || target IN :routes))")
_DELIVERY_CLAIM_SET = ("state = 'sending', owner = :owner, attempt = attempt + 1, "
                       "lease_expires_at = {now} + :lease_seconds")
# the chat process that answered the turn which queued a delivery's job (Incoming.process)
_ANSWERED_BY = {"sqlite": "json_extract(j.payload, '$.reply_to.process')",
                "postgresql": "j.payload -> 'reply_to' ->> 'process'"}


def _claimable_delivery(dialect: str) -> str:
    """Ready, and not a reply of a job that another chat process answered while it is live (seen
    within a lease): that process posted the job's progress message and edits its status, so the
    reply is its to send. Another process would race it: post the result as a new message before
    the placeholder is remembered, or have a status edit land on top of the result."""
    return (f"{_READY_DELIVERY} AND NOT EXISTS (SELECT 1 FROM jobs j JOIN workers w ON w.id = {_ANSWERED_BY[dialect]} "
            "WHERE j.id = deliveries.job_id AND w.id <> :owner AND w.last_seen > {now} - :lease_seconds)")


CLAIM_DELIVERIES = Query(
    "Take up to :limit pending replies this process can deliver: whole platforms, or 'platform|target' "
    "routes, but not those of jobs another live chat process answers for.",
    f"""UPDATE deliveries SET {_DELIVERY_CLAIM_SET}
        WHERE id IN (SELECT id FROM deliveries WHERE {_claimable_delivery("sqlite")} ORDER BY run_at, id LIMIT :limit)
        RETURNING {DELIVERY_COLUMNS}""",
    postgresql=f"""WITH picked AS MATERIALIZED (
            SELECT id FROM deliveries WHERE {_claimable_delivery("postgresql")}
            ORDER BY run_at, id LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        UPDATE deliveries SET {_DELIVERY_CLAIM_SET}
        WHERE id = ANY(ARRAY(SELECT id FROM picked))
        RETURNING {DELIVERY_COLUMNS}""",
    params={"lease_seconds": Double()},
    lists={"platforms": String(), "routes": String()},
    columns=_DELIVERY_TYPES,
)

EXTEND_DELIVERY_LEASES = Query(
    "Extend the leases of replies a chat process is still sending.",
    """UPDATE deliveries SET lease_expires_at = {now} + :lease_seconds
       WHERE id IN :ids AND state = 'sending' AND owner = :owner
       RETURNING id""",
    params={"lease_seconds": Double()},
    lists={"ids": BigInteger()},
)

FINISH_DELIVERY = Query(
    "The one guarded transition out of sending: only while this process still owns that attempt.",
    """UPDATE deliveries SET state = :state, error = :error, run_at = {now} + :delay,
              sent_at = CASE WHEN :state = 'sent' THEN {now} ELSE NULL END,
              owner = NULL, lease_expires_at = NULL
       WHERE id = :id AND state = 'sending' AND owner = :owner AND attempt = :attempt
       RETURNING id""",
    params={"delay": Double(), "state": String()},
)

RESCUE_EXPIRED_DELIVERIES = Query(
    "Put replies whose sender stopped responding back to pending, or fail them after the last attempt.",
    """UPDATE deliveries SET
              state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'pending' END,
              error = :reason, run_at = {now}, owner = NULL, lease_expires_at = NULL
       WHERE state = 'sending' AND lease_expires_at < {now}
       RETURNING id""",
)

DELIVERY_BY_ID = Query("One delivery.", f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = :id",
                       columns=_DELIVERY_TYPES)

DELIVERIES_FOR_JOB = Query("The replies a job produced.",
                           f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE job_id = :job_id ORDER BY id",
                           columns=_DELIVERY_TYPES)
