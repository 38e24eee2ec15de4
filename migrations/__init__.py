"""Alembic migrations for the dreamface database. Run them with `dreamface db upgrade`;
storage/migrate.py builds the Alembic configuration in code, so no alembic.ini is needed."""
