"""Thin PostgreSQL access layer: every query goes through here, always with bound parameters."""
import os

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

# @flows Shop.Api -> Shop.Db via TLS
# @comment -- "sslmode=verify-full: the API refuses to talk to a database it cannot authenticate"
_pool = ConnectionPool(
    conninfo=os.environ["SHOP_DATABASE_URL"] + "?sslmode=verify-full",
    min_size=2,
    max_size=10,
    kwargs={"row_factory": dict_row},
)


def query(sql: str, params: tuple = ()) -> list[dict]:
    with _pool.connection() as conn:
        return conn.execute(sql, params).fetchall()


def query_one(sql: str, params: tuple = ()) -> dict | None:
    with _pool.connection() as conn:
        return conn.execute(sql, params).fetchone()


def execute(sql: str, params: tuple = ()) -> None:
    with _pool.connection() as conn:
        conn.execute(sql, params)
