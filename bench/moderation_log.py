"""The moderation dashboard's generation log at a million faces on PostgreSQL: time of one page
(the real storage/moderation.py query) for each filter, first page and deep pages, with the
plan of the slowest shapes.

    .venv/bin/python bench/moderation_log.py [--faces 1000000] [--admin-url postgresql://postgres@127.0.0.1/test]
    .venv/bin/python bench/moderation_log.py --smoke     # 10 000 faces: checks the script, not the figures

Makes a scratch database (dropped at the end), migrates it, seeds users and faces with
generate_series (10 000 users: 5 % on cli, the rest on telegram, discord and web; faces a few seconds apart over ~100 days, seven
operations, 0.1 % flagged, 0.05 % hidden, 200 reported), then prints the median of 7 runs per
page shape in milliseconds. Without a PostgreSQL server it says so and exits 0. The admin URL
defaults to DREAMFACE_TEST_POSTGRES_URL, else the one above.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

from sqlalchemy import select, text

from storage.db import create_engine, session_factory
from storage.migrate import upgrade_database
from storage.models import Face
from storage.moderation import Cursor, LogFilter, ModerationLog

from _common import ADMIN_URL, postgres_unreachable, scratch_database

SEED = """
INSERT INTO blobs (sha256, content_type, size, data, created_at) VALUES (repeat('0', 64), 'image/png', 1, '\\x00', now());
INSERT INTO users (platform, platform_user_id, owner_key, locale, locale_chosen, banned, face_count, created_at)
SELECT CASE WHEN g % 20 = 0 THEN 'cli' ELSE (ARRAY['telegram', 'discord', 'web'])[1 + g % 3] END, 'u' || g,
       left(md5('u' || g), 12), 'ko', false, false, 0, now() - interval '200 days'
FROM generate_series(1, 10000) g;
INSERT INTO faces (user_id, number, operation, params, backend, checkpoint_id, code, image_blob_id,
                   hidden, flagged, created_at)
SELECT 1 + (g % 10000), g / 10000 + 1,
       (ARRAY['new','describe','pick','morph','remix','edit','photo'])[1 + g % 7], '{}', 'montage', 'montage-2',
       '\\x00', 1, g % 2000 = 7, g % 1000 = 3,
       timestamptz '2026-08-01' + make_interval(secs => g * 8.64)
FROM generate_series(1, :faces) g;
INSERT INTO moderation_events (actor, action, target_user_id, target_face_id, reason, created_at)
SELECT 'user:1', 'report', 1, g * (:faces / 200), 'bench', now() FROM generate_series(1, 200) g;
UPDATE users SET face_count = :faces / 10000 + 1;
ANALYZE;
"""


async def _timed(engine, wanted: LogFilter, after: Cursor | None, runs: int = 7) -> tuple[float, int]:
    sessions = session_factory(engine)
    times, rows = [], 0
    for _ in range(runs):
        async with sessions() as session:
            started = time.perf_counter()
            page = await ModerationLog(session).generations(wanted, after=after, limit=50)
            times.append((time.perf_counter() - started) * 1000)
            rows = len(page.rows)
    return statistics.median(times), rows


async def _deep_cursor(engine, offset: int) -> Cursor:
    async with session_factory(engine)() as session:
        row = (await session.execute(select(Face.created_at, Face.id)
                                     .order_by(Face.created_at.desc(), Face.id.desc()).offset(offset).limit(1))).one()
    return Cursor(row[0], row[1])


async def bench(url: str, faces: int) -> None:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in filter(str.strip, SEED.split(";\n")):
                await conn.execute(text(statement), {"faces": faces} if ":faces" in statement else {})
        print(f"seeded {faces:,} faces in {time.perf_counter() - started:.0f} s")
        deep = await _deep_cursor(engine, faces // 2)
        day = deep.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
        shapes = {
            "first page, no filter": (LogFilter(), None),
            f"page after row {faces // 2:,}": (LogFilter(), deep),
            "platform=cli (5 % of users)": (LogFilter(platform="cli"), None),
            "platform=web, deep": (LogFilter(platform="web"), deep),
            "one user": (LogFilter(user_id=4242), None),
            "operation=morph": (LogFilter(operation="morph"), None),
            "flagged": (LogFilter(flagged=True), None),
            "flagged, deep": (LogFilter(flagged=True), deep),
            "hidden": (LogFilter(hidden=True), None),
            "reported": (LogFilter(reported=True), None),
            "one day": (LogFilter(since=day, until=day + timedelta(days=1)), None),
            "flagged + platform=telegram + morph": (LogFilter(flagged=True, platform="telegram", operation="morph"), None),
        }
        print(f"{'page shape':40} {'ms (median of 7)':>16} {'rows':>5}")
        for name, (wanted, after) in shapes.items():
            ms, rows = await _timed(engine, wanted, after)
            print(f"{name:40} {ms:16.2f} {rows:5d}")
        for name in ("platform=cli (5 % of users)", "reported", f"page after row {faces // 2:,}"):
            wanted, after = shapes[name]
            async with session_factory(engine)() as session:
                from storage.moderation import _after, _select_entries, _where
                query = (_select_entries().where(*_where(wanted), _after((Face.created_at, Face.id), after))
                         .order_by(Face.created_at.desc(), Face.id.desc()).limit(51))
                compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
                plan = (await session.execute(text(f"EXPLAIN ANALYZE {compiled}"))).scalars().all()
            print(f"\n--- EXPLAIN ANALYZE: {name}")
            print("\n".join(plan))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--smoke", action="store_true", help="10 000 faces: a quick check that the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.faces = 10_000      # the seed's smallest sensible size: one face per user
    if why := postgres_unreachable(args.admin_url):
        print(f"moderation log bench skipped: {why}")
        return
    with scratch_database(args.admin_url) as url:
        asyncio.run(bench(url, args.faces))


if __name__ == "__main__":
    main()
