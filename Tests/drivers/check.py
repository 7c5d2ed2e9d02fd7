"""Connects to the demo sandbox with Python's common drivers, using the exported variables exactly as
`sandbox env` gives them, and prints one line per driver: `DRIVER: VARIABLE TABLE=COUNT`
(the drivers' versions go to standard error).

    eval "$(sandbox env)" && .venv-test/bin/python Tests/drivers/check.py

Run by Tests/IntegrationTests/DriverTests.swift with the venv Scripts/test-deps makes.
"""
import os
import sys

import psycopg
import sqlalchemy


def main() -> int:
    print(f"psycopg {psycopg.__version__}, SQLAlchemy {sqlalchemy.__version__}", file=sys.stderr)
    database_url = os.environ["DATABASE_URL"]
    analytics_url = os.environ["ANALYTICS_URL"]

    # psycopg 3 hands the URL to libpq as a connection string.
    with psycopg.connect(database_url) as conn:
        (count,) = conn.execute("select count(*) from bookmarks").fetchone()
    print(f"psycopg: DATABASE_URL bookmarks={count}")

    # SQLAlchemy picks the driver from the URL's scheme: in 2.0, psycopg2 for postgresql:// (2.1 picks
    # psycopg 3, tested above) and mysqlclient for mysql://. It refuses postgres://.
    for name, url, table in (("DATABASE_URL", database_url, "bookmarks"), ("ANALYTICS_URL", analytics_url, "visits")):
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as conn:
                count = conn.execute(sqlalchemy.text(f"select count(*) from {table}")).scalar_one()
        finally:
            engine.dispose()
        print(f"SQLAlchemy with {engine.dialect.driver}: {name} {table}={count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
