"""Persistence: SQLAlchemy models, engine and session factories, repositories, migrations."""
