"""The Prefect server as `lepton-flow up` and the tests run it: `prefect server start`, with SQLite's write transactions begun IMMEDIATE.

    python -m lepton_flow.prefect_server server start --host 127.0.0.1 --port 4200

Prefect begins its SQLite transactions DEFERRED. A transaction that reads
before it writes (a worker's heartbeat reads its work pool, then upserts the
worker) must then turn its read lock into a write lock, and when another
connection has committed in between, SQLite answers SQLITE_BUSY at once: the
busy timeout does not cover that upgrade. The server logs it as a "database is
locked" traceback and drops the worker's channel. Begun IMMEDIATE, the second
writer takes the write lock first and waits its turn under the busy timeout.
Reads outside transactions are untouched (WAL readers run beside the writer);
a PostgreSQL server is untouched. `benchmarks/server_locks.py` measures both.
"""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager


def immediate_sqlite_transactions() -> bool:
    """Make the SQLite configuration begin every transaction IMMEDIATE; False when this Prefect has no such hook (then nothing changes)."""
    try:
        from prefect.server.database.configurations import AioSqliteConfiguration
    except ImportError:
        return False
    deferred = getattr(AioSqliteConfiguration, "begin_transaction", None)
    if deferred is None or getattr(deferred, "_lepton_immediate", False):
        return deferred is not None

    @asynccontextmanager
    async def begin_transaction(self, session, with_for_update: bool = False):
        async with deferred(self, session, with_for_update=True) as transaction:
            yield transaction

    begin_transaction._lepton_immediate = True
    AioSqliteConfiguration.begin_transaction = begin_transaction
    return True


def main(argv: list[str] | None = None) -> None:
    immediate_sqlite_transactions()
    from prefect.cli import app

    if argv is not None:
        sys.argv = ["prefect", *argv]
    sys.exit(app())


if __name__ == "__main__":
    main()
