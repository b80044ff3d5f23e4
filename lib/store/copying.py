"""Moving a store: every row of one into another, empty one (SQLite to PostgreSQL, or back).
"""
import dataclasses

from lib.store.errors import StoreError


COPIER = 'store copy'                 # the lease holder while a copy reads its source


def copy_store(source, destination, lease_name='worker', host='', pid=0):
    """Copy every row of every table of `source` (a Store) into `destination` (an empty Store
    of the same schema) in one transaction, then check the counts; {table: rows}.  While it
    reads, it holds the source's worker lease: a running worker (a second writer) makes it
    refuse in words.  The source is only read (an expired lease row it replaced while it
    read is put back as it was, and copied as it was)."""
    previous = source.lease(lease_name)               # an expired one: put back afterwards
    lease = source.acquire_lease(lease_name, COPIER, host, pid, 3600)
    if not lease.held_by(COPIER):
        raise StoreError('a worker (%s, pid %d) is using the store %s: stop "pyrotorrent.py worker" on every '
                         'host, then copy again; nothing was copied' % (lease.host, lease.pid, source.path))
    try:
        if source.version() != destination.version():
            raise StoreError('the stores %s and %s have different schema versions (%d, %d): nothing was copied'
                             % (source.path, destination.path, source.version(), destination.version()))
        with source.transaction(write=False) as read:
            tables = [t for t in read.engine.tables(read.db) if t != 'schema_version']
            rows = {}
            for table in tables:
                columns = [c for c in _columns(read, table)]
                found = read.execute('SELECT %s FROM %s' % (', '.join(columns), table))
                if table == 'lease':          # our own lease is not the store's content
                    found = [r for r in found if r[columns.index('holder')] != COPIER]
                    if previous is not None:
                        found.append(tuple(getattr(previous, c) for c in columns))
                rows[table] = (columns, found)
        copied = {}
        with destination.transaction() as write:
            tables = set(write.engine.tables(write.db))
            unknown = sorted(set(rows) - tables)
            if unknown:
                raise StoreError('the store %s has no table %s that %s has: nothing was copied'
                                 % (destination.path, unknown[0], source.path))
            for table in sorted(tables - {'schema_version'}):
                count = write.execute('SELECT COUNT(*) FROM %s' % table)[0][0]
                if count:
                    raise StoreError('the store %s is not empty (table %s holds %d row(s)): pyroTorrent copies '
                                     'only into an empty store, and deletes nothing; nothing was copied'
                                     % (destination.path, table, count))
            for table, (columns, found) in rows.items():
                if found:
                    write.executemany('INSERT INTO %s (%s) VALUES (%s)' % (
                        table, ', '.join(columns), ', '.join('?' * len(columns))), found)
                count = write.execute('SELECT COUNT(*) FROM %s' % table)[0][0]
                if count != len(found):
                    raise StoreError('copying table %s into %s gave %d rows, not %d: nothing was copied'
                                     % (table, destination.path, count, len(found)))
                copied[table] = count
    finally:
        with source.transaction() as tx:
            if tx.execute('DELETE FROM lease WHERE name = ? AND holder = ? RETURNING name', (lease_name, COPIER)) \
                    and previous is not None:
                tx.execute('INSERT INTO lease (name, holder, host, pid, acquired_at, expires_at) '
                           'VALUES (?, ?, ?, ?, ?, ?)', dataclasses.astuple(previous))
    return copied


def _columns(tx, table):
    if tx.engine.kind == 'sqlite':
        return [row[1] for row in tx.execute('PRAGMA table_info(%s)' % table)]
    return [row[0] for row in tx.execute('SELECT column_name FROM information_schema.columns WHERE '
                                         'table_schema = current_schema() AND table_name = ? '
                                         'ORDER BY ordinal_position', (table,))]
