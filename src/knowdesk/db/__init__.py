"""Database access: the PostgreSQL server, engine and sessions, declarative base, migrations."""
