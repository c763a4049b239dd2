"""Persistence: SQLAlchemy models, sessions with the right locking, Alembic migrations."""
