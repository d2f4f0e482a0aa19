"""Storage on SQL databases (SQLite and PostgreSQL): the only place SQLAlchemy is used."""
