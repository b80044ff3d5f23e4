"""pyroTorrent's own store: what it keeps between requests and across restarts of rTorrent.

An embedded SQLite database by default (WAL, so pages read while the worker writes), or
a PostgreSQL database (psycopg 3) that several hosts share, with a schema version and an
ordered list of migrations written in SQL that both run (portable types, upserts with ON
CONFLICT, '?' placeholders).  An engine (SQLiteEngine, PostgresEngine) is the only code that
knows which: connecting, a transaction, placeholders, the clock.  Nothing here knows
torrents: rows are keyed by a target name and a key, and values are JSON.

    store = Store.open('sqlite:////home/rt/pyrotorrent/data/store.sqlite3')   # or a plain path
    store = Store.open('postgresql://pyrotorrent@/pyrotorrent?host=/run/postgresql')
    store.put_values('home', 'desired', {'down_limit': 512000})
    store.values('home', 'desired')           -> {'down_limit': StoredValue(512000, set_at)}
    store.acquire_lease('worker', holder, host, pid, seconds)  -> Lease (who holds it)
    store.beat('worker', holder, host, pid, tick_seconds); store.heartbeat('worker')

The single active worker is a lease row (holder, host, pid, expires_at): taken or renewed
with one conditional upsert, so two workers can never both hold it, on SQLite or PostgreSQL
(measured by the store's clock, so hosts' clocks may differ).  What the worker writes goes
through OnLease: each write checks the lease in its own transaction (LeaseLost if gone).
copy_store() moves a store's rows into another, empty one (SQLite to PostgreSQL).

    errors.py      StoreError, StoreTooNew, LeaseLost
    migrations.py  the schema, one migration a version
    engines.py     SQLite and PostgreSQL: the only code that knows which
    core.py        Store (values, events, outbox, preferences, lease, heartbeats), OnLease
    stats.py       the statistics' tables and their queries (Store's stats_* methods)
    copying.py     copy_store
"""

from lib.store.copying import COPIER, copy_store
from lib.store.core import Heartbeat, Lease, Message, OnLease, Store, StoredEvent, StoredValue, Transaction
from lib.store.engines import (BUSY_SECONDS, IDLE_IN_TRANSACTION_SECONDS, STATEMENT_SECONDS,
                               PostgresEngine, SQLiteEngine, engine_for, sqlite_path, store_exists, store_kind)
from lib.store.errors import LeaseLost, StoreError, StoreTooNew
from lib.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = ['BUSY_SECONDS', 'COPIER', 'Heartbeat', 'IDLE_IN_TRANSACTION_SECONDS', 'Lease', 'LeaseLost', 'MIGRATIONS', 'Message',
           'OnLease', 'PostgresEngine', 'SCHEMA_VERSION', 'SQLiteEngine', 'STATEMENT_SECONDS', 'Store', 'StoreError',
           'StoreTooNew', 'StoredEvent', 'StoredValue', 'Transaction', 'copy_store', 'engine_for', 'sqlite_path',
           'store_exists', 'store_kind']
