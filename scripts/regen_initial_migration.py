"""Regenerate the single initial migration from storage/models.py.

Until the first release there is exactly one revision, migrations/versions/0001_initial.py.
After changing the models, run

    .venv/bin/python scripts/regen_initial_migration.py

then read the new file, and run tests/storage/test_migrations.py (it proves that models and
migrations agree on SQLite and PostgreSQL). Existing development databases must be deleted
(SQLite) or dropped and upgraded again (PostgreSQL), since the revision id stays the same.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alembic import command  # noqa: E402

from storage.migrate import MIGRATIONS_DIR, alembic_config  # noqa: E402

REVISION_ID = "0001"


def main() -> None:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob(f"{REVISION_ID}_*.py"):
        old.unlink()
    leftovers = [p.name for p in versions.glob("*.py") if p.name != "__init__.py"]
    if leftovers:
        sys.exit(f"other revisions exist ({', '.join(leftovers)}); after a release, add a new revision instead")
    with tempfile.TemporaryDirectory() as tmp:
        # Compare the models against an empty database, so every table is created.
        config = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
        script = command.revision(config, message="initial schema", autogenerate=True, rev_id=REVISION_ID)
    print(f"wrote {Path(script.path).relative_to(REPO)}")


if __name__ == "__main__":
    main()
