"""Statements spread over a few connections of one warehouse, one thread each.

DuckDB releases the GIL while it runs a statement, so a step with many small independent
statements (a month's exports, gold's row rules) runs them on two connections at once."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb

T = TypeVar("T")
R = TypeVar("R")


def map_on_connections(
    cons: Sequence[duckdb.DuckDBPyConnection], work: Callable[[duckdb.DuckDBPyConnection, T], R], items: Iterable[T]
) -> list[R]:
    """``work(con, item)`` for every item, in order, each on a connection no other thread is using;
    as many threads as connections. The first error is raised once the running items finish."""
    free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    for con in cons:
        free.put(con)

    def one(item: T) -> R:
        con = free.get()
        try:
            return work(con, item)
        finally:
            free.put(con)

    with ThreadPoolExecutor(len(cons), thread_name_prefix="warehouse") as pool:
        return list(pool.map(one, items))
