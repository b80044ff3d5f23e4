"""The Store: values, events, the outbox, preferences, the lease and heartbeats, in
transactions through its engine; OnLease, the worker's lease-checked view of it.
"""
import contextlib
import copy
import dataclasses
import json
import threading
import time
import uuid

from lib.store import migrations
from lib.store.engines import engine_for, first_line
from lib.store.errors import LeaseLost, StoreError, StoreTooNew
from lib.store.stats import StatsTables


@dataclasses.dataclass(frozen=True)
class StoredValue:
    value: object                 # as given to put_values (JSON round trip)
    set_at: float                 # unix time
    set_by: str = ''              # who set it ('alice', 'worker', ...)


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    seq: int                      # grows with every event of the store: "since" for pollers
    target: str
    key: str                      # unique a target: the same event is never kept twice
    at: float
    kind: str
    subject: str                  # what it is about (an item's key), '' for the target itself
    detail: dict

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Message:
    key: str
    body: str
    attempts: int
    next_at: float
    created_at: float
    last_error: str


@dataclasses.dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    host: str
    pid: int
    acquired_at: float
    expires_at: float

    def held_by(self, holder):
        return self.holder == holder


@dataclasses.dataclass(frozen=True)
class Heartbeat:
    name: str
    holder: str
    host: str
    pid: int
    ticked_at: float
    tick_seconds: float

    def recent(self, now=None, ticks=3):
        """Whether it ticked within the last few ticks (a worker that stopped does not)."""
        now = time.time() if now is None else now
        return now - self.ticked_at <= ticks * self.tick_seconds + 2


class Transaction:
    """What `with store.transaction() as tx` gives: tx.execute(sql, params) with '?'
    placeholders, the rows back; tx.now() the store's clock."""

    def __init__(self, engine, db):
        self.engine, self.db = engine, db

    def execute(self, sql, params=()):
        return self.engine.execute(self.db, sql, params)

    def executemany(self, sql, rows):
        self.engine.executemany(self.db, sql, rows)

    def now(self):
        return self.engine.now(self.db)


class Store(StatsTables):
    """One store.  Safe to share between threads (one connection, one lock); every process
    opens its own."""

    def __init__(self, engine):
        self.engine = engine
        self.path = engine.where          # how messages and logs name it (no password)
        self.url = engine.url
        self.kind = engine.kind
        self._lock = threading.RLock()
        self._db = None

    @classmethod
    def open(cls, url, base=None, create=True):
        """The store of a STORE value, migrated to this version of pyroTorrent; an SQLite
        one is created (with its folder) on first use unless create=False (then StoreError
        if it is missing); a PostgreSQL database gets its tables on first use."""
        store = cls(engine_for(url, base))
        store.connect(create)
        return store

    def connect(self, create=True):
        with self._lock:
            if self._db is not None:
                return self
            db = self.engine.connect(create)
            self._db = db
            try:
                self.migrate()
            except BaseException:
                self._db = None
                self.engine.close(db)
                raise
            return self

    def close(self):
        with self._lock:
            if self._db is not None:
                self.engine.close(self._db)
                self._db = None

    # -- SQL in one place ---------------------------------------------------------------

    def run(self, statements, write=True):
        """Run [(sql, params)] in one transaction (the statistics' tables use it: stats.py);
        params a tuple, or a list of tuples (the statement once for each); the rows of the last one."""
        return self._run(statements, write)

    lease_held = None               # (name, holder) in a worker's view of the store (OnLease)

    @contextlib.contextmanager
    def transaction(self, write=True, lease=None, failed='failed'):
        """One transaction: committed if the block ends, rolled back if it raises.  With
        lease=(name, holder) it first checks (and locks) that lease as held by holder and
        unexpired, else raises LeaseLost and nothing is written: a worker that lost its
        lease can never write as if it were the one acting.  A worker's view (OnLease)
        checks its lease on every write."""
        if lease is None and write:
            lease = self.lease_held
        with self._lock:
            if self._db is None:
                self.connect()
            db, engine = self._db, self.engine
            try:
                engine.begin(db, write)
                tx = Transaction(engine, db)
                if lease is not None:
                    name, holder = lease
                    if not tx.execute('SELECT holder FROM lease WHERE name = ? AND holder = ? AND expires_at >= ?'
                                      + engine.for_update, (name, holder, tx.now())):
                        raise LeaseLost('the store %s: %s no longer holds the lease %r (another worker took '
                                        'over, or it expired): nothing written' % (self.path, holder, name))
                yield tx
                engine.end(db, commit=True)
            except engine.Error as exc:
                self._rollback(db)
                raise StoreError('the store %s %s: %s' % (self.path, failed, first_line(exc))) from None
            except BaseException:
                self._rollback(db)
                raise

    def _rollback(self, db):
        """Undo the transaction; a connection that broke is dropped (a new one next call)."""
        try:
            if not self.engine.broken(db):
                self.engine.end(db, commit=False)
                return
        except self.engine.Error:
            pass
        if self._db is db:
            self._db = None
        try:
            self.engine.close(db)
        except self.engine.Error:
            pass

    def _run(self, statements, write=True, lease=None):
        """Run [(sql, params)] in one transaction; the rows of the last one."""
        with self.transaction(write, lease) as tx:
            rows = []
            for sql, params in statements:
                if isinstance(params, list):        # the statement once for each row
                    tx.executemany(sql, params)
                    rows = []
                else:
                    rows = tx.execute(sql, params)
            return rows

    def migrate(self):
        """Bring the schema to migrations.SCHEMA_VERSION, one migration a transaction (the version read
        inside it, under the engine's migration lock: two processes opening a new store at
        once apply each step once); StoreError if the store was made by a newer pyroTorrent.
        A store already at this version is only read: opening it never waits for a writer."""
        with self._lock:
            db, engine = self._db, self.engine
            if self._read_version(db) == migrations.SCHEMA_VERSION:
                return
            while True:
                try:
                    engine.begin_migration(db)
                    engine.execute(db, 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
                    rows = engine.execute(db, 'SELECT version FROM schema_version')
                    if not rows:
                        engine.execute(db, 'INSERT INTO schema_version (version) VALUES (0)')
                    version = rows[0][0] if rows else 0
                    if version > migrations.SCHEMA_VERSION:
                        raise StoreTooNew('the store %s has schema version %d, newer than this pyroTorrent '
                                         'knows (%d): update pyroTorrent' % (self.path, version, migrations.SCHEMA_VERSION))
                    if version == migrations.SCHEMA_VERSION:
                        engine.end(db, commit=True)
                        return
                    for sql in migrations.MIGRATIONS[version]:
                        engine.execute(db, sql)
                    engine.execute(db, 'UPDATE schema_version SET version = ?', (version + 1,))
                    engine.end(db, commit=True)
                except engine.Error as exc:
                    self._rollback(db)
                    raise StoreError('the store %s cannot be migrated: %s' % (self.path, first_line(exc))) from None
                except BaseException:
                    self._rollback(db)
                    raise

    def _read_version(self, db):
        """The schema version by a read alone, or None when there is none yet (a new store)."""
        try:
            self.engine.begin(db, write=False)
            rows = self.engine.execute(db, 'SELECT version FROM schema_version')
            self.engine.end(db, commit=True)
        except self.engine.Error:
            try:
                self.engine.end(db, commit=False)       # no such table yet: the migration makes it
            except self.engine.Error:
                pass
            return None
        return rows[0][0] if rows else None

    def version(self):
        return self._run([('SELECT version FROM schema_version', ())], write=False)[0][0]

    # -- values of a target ---------------------------------------------------------------

    def values(self, target, kind):
        """{name: StoredValue} of one target and kind."""
        rows = self._run([('SELECT name, value, set_at, set_by FROM target_value WHERE target = ? AND kind = ?',
                           (target, kind))], write=False)
        return {name: StoredValue(json.loads(value), set_at, set_by) for name, value, set_at, set_by in rows}

    def put_values(self, target, kind, values, set_by='', now=None, lease=None):
        """Set several values of a target at once (one transaction); None deletes a value.
        lease=(name, holder): only while holder holds that lease (else LeaseLost)."""
        now = time.time() if now is None else now
        statements = []
        for name, value in values.items():
            if value is None:
                statements.append(('DELETE FROM target_value WHERE target = ? AND kind = ? AND name = ?',
                                   (target, kind, name)))
            else:
                statements.append((
                    'INSERT INTO target_value (target, kind, name, value, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?) '
                    'ON CONFLICT (target, kind, name) DO UPDATE SET value = excluded.value, '
                    'set_at = excluded.set_at, set_by = excluded.set_by',
                    (target, kind, name, json.dumps(value, sort_keys=True), now, set_by)))
        if statements:
            self._run(statements, lease=lease)

    def targets(self, kind):
        """The targets holding values of this kind."""
        return [row[0] for row in self._run([('SELECT DISTINCT target FROM target_value WHERE kind = ?', (kind,))],
                                            write=False)]

    # -- a user's preferences ---------------------------------------------------------------

    def preference(self, user, name, default=None):
        """One preference of a user (what put_preference kept), else default."""
        rows = self._run([('SELECT value FROM user_pref WHERE user_name = ? AND name = ?', (user, name))],
                         write=False)
        return json.loads(rows[0][0]) if rows else default

    def put_preference(self, user, name, value, now=None):
        """Keep one preference of a user (JSON-able); None deletes it."""
        if value is None:
            self._run([('DELETE FROM user_pref WHERE user_name = ? AND name = ?', (user, name))])
            return
        self._run([('INSERT INTO user_pref (user_name, name, value, set_at) VALUES (?, ?, ?, ?) '
                    'ON CONFLICT (user_name, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at',
                    (user, name, json.dumps(value, sort_keys=True), time.time() if now is None else now))])

    # -- the worker's lease and heartbeat -------------------------------------------------

    def acquire_lease(self, name, holder, host, pid, seconds, now=None):
        """Take or renew the lease `name` for `seconds`, if it is free, expired or already
        ours; the Lease as it is now (compare .holder with yours).  One statement: two
        workers asking at once cannot both get it.  Times are the store's clock (PostgreSQL's
        for every host), unless `now` is given."""
        with self.transaction() as tx:
            now = tx.now() if now is None else now
            tx.execute(
                'INSERT INTO lease (name, holder, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) '
                'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, '
                'pid = excluded.pid, expires_at = excluded.expires_at, '
                'acquired_at = CASE WHEN lease.holder = excluded.holder THEN lease.acquired_at ELSE excluded.acquired_at END '
                'WHERE lease.holder = excluded.holder OR lease.expires_at < ?',
                (name, holder, host, pid, now, now + seconds, now))
            rows = tx.execute('SELECT name, holder, host, pid, acquired_at, expires_at FROM lease WHERE name = ?',
                              (name,))
        return Lease(*rows[0])

    def release_lease(self, name, holder):
        """Give the lease up (only if we hold it), so a waiting worker takes over at once."""
        self._run([('DELETE FROM lease WHERE name = ? AND holder = ?', (name, holder))])

    def lease(self, name):
        rows = self._run([('SELECT name, holder, host, pid, acquired_at, expires_at FROM lease WHERE name = ?',
                           (name,))], write=False)
        return Lease(*rows[0]) if rows else None

    def now(self):
        """The store's clock (the one leases are measured by)."""
        with self.transaction(write=False) as tx:
            return tx.now()

    def beat(self, name, holder, host, pid, tick_seconds, now=None):
        """Record that a worker finished a tick."""
        with self.transaction() as tx:
            now = tx.now() if now is None else now
            tx.execute('INSERT INTO heartbeat (name, holder, host, pid, ticked_at, tick_seconds) VALUES (?, ?, ?, ?, ?, ?) '
                       'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, '
                       'pid = excluded.pid, ticked_at = excluded.ticked_at, tick_seconds = excluded.tick_seconds',
                       (name, holder, host, pid, now, tick_seconds))

    def heartbeat(self, name):
        """The last tick of the worker `name`, or None if no worker ever ticked here."""
        rows = self._run([('SELECT name, holder, host, pid, ticked_at, tick_seconds FROM heartbeat WHERE name = ?',
                           (name,))], write=False)
        return Heartbeat(*rows[0]) if rows else None

    # -- what a target had, what was held, what fired, events (issue 13) -----------------

    def seen(self, target, decoded=True):
        """{item: (data, seen_at)} as kept at the last look; decoded=False: data as its JSON
        text, for a caller that decodes one item at a time (10,000 dicts at once are 7 MB)."""
        rows = self._run([('SELECT item, data, seen_at FROM seen WHERE target = ?', (target,))], write=False)
        if not decoded:
            return {item: (data, seen_at) for item, data, seen_at in rows}
        return {item: (json.loads(data), seen_at) for item, data, seen_at in rows}

    def record(self, target, events=(), put=None, drop=(), now=None):
        """In one transaction: keep these events (dicts with key, kind, subject, detail, at),
        each only if its key is new, and change what was seen ({item: data} to put, items to
        drop).  The events that were new, as StoredEvents."""
        now = time.time() if now is None else now
        batch = uuid.uuid4().hex
        statements = []
        for item, data in (put or {}).items():
            statements.append(('INSERT INTO seen (target, item, data, seen_at) VALUES (?, ?, ?, ?) '
                               'ON CONFLICT (target, item) DO UPDATE SET data = excluded.data, seen_at = excluded.seen_at',
                               (target, item, json.dumps(data, sort_keys=True), now)))
        for item in drop:
            statements.append(('DELETE FROM seen WHERE target = ? AND item = ?', (target, item)))
        for event in events:
            statements.append((
                'INSERT INTO event (target, event_key, seq, at, kind, subject, detail, batch) '
                'SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM event WHERE 1 = 1 '
                'ON CONFLICT (target, event_key) DO NOTHING',
                (target, event['key'], event.get('at', now), event['kind'], event.get('subject', ''),
                 json.dumps(event.get('detail', {}), sort_keys=True), batch)))
        statements.append(('SELECT seq, target, event_key, at, kind, subject, detail FROM event '
                           'WHERE target = ? AND batch = ? ORDER BY seq', (target, batch)))
        rows = self._run(statements)
        return [StoredEvent(seq, t, key, at, kind, subject, json.loads(detail))
                for seq, t, key, at, kind, subject, detail in rows]

    def events(self, target, since=0, limit=100, kinds=None):
        """The newest events of a target after seq `since`, newest first."""
        sql = ('SELECT seq, target, event_key, at, kind, subject, detail FROM event WHERE target = ? AND seq > ?')
        params = [target, since]
        if kinds:
            sql += ' AND kind IN (%s)' % ', '.join('?' * len(kinds))
            params += list(kinds)
        sql += ' ORDER BY seq DESC LIMIT ?'
        rows = self._run([(sql, tuple(params) + (int(limit),))], write=False)
        return [StoredEvent(seq, t, key, at, kind, subject, json.loads(detail))
                for seq, t, key, at, kind, subject, detail in rows]

    def prune_events(self, before):
        """Delete the events older than `before` (unix time), of every target, in one
        transaction (a worker's view: its lease checked in it); how many went.  The newest
        event always stays: its seq is where the next one counts from, so a page asking for
        events after the seq it saw never misses one.  Nothing else is touched."""
        where = 'WHERE at < ? AND seq < (SELECT MAX(seq) FROM event)'
        with self.transaction(failed='could not delete old events') as tx:
            count = tx.execute('SELECT COUNT(*) FROM event ' + where, (before,))[0][0]
            if count:
                tx.execute('DELETE FROM event ' + where, (before,))
            return count

    def held(self, target):
        """{item: held_by} of a target."""
        rows = self._run([('SELECT item, held_by FROM held WHERE target = ?', (target,))], write=False)
        return dict(rows)

    def hold(self, target, items, held_by, now=None):
        now = time.time() if now is None else now
        self._run([('INSERT INTO held (target, item, held_by, held_at) VALUES (?, ?, ?, ?) '
                    'ON CONFLICT (target, item) DO NOTHING', (target, item, held_by, now)) for item in items])

    def release(self, target, items):
        self._run([('DELETE FROM held WHERE target = ? AND item = ?', (target, item)) for item in items])

    def fired(self, target, rule):
        """The items a rule has acted on."""
        rows = self._run([('SELECT item FROM fired WHERE target = ? AND rule = ?', (target, rule))], write=False)
        return {row[0] for row in rows}

    def mark_fired(self, target, rule, items, now=None):
        now = time.time() if now is None else now
        self._run([('INSERT INTO fired (target, rule, item, fired_at) VALUES (?, ?, ?, ?) '
                    'ON CONFLICT (target, rule, item) DO NOTHING', (target, rule, item, now)) for item in items])

    def forget_fired(self, target, rule=None):
        """A changed (or removed) rule starts afresh: it may act again on every item."""
        if rule is None:
            self._run([('DELETE FROM fired WHERE target = ?', (target,))])
        else:
            self._run([('DELETE FROM fired WHERE target = ? AND rule = ?', (target, rule))])

    # -- messages waiting to be sent (the webhook) ----------------------------------------

    def enqueue(self, key, body, now=None):
        now = time.time() if now is None else now
        self._run([('INSERT INTO outbox (message_key, body, attempts, next_at, created_at) VALUES (?, ?, 0, ?, ?) '
                    'ON CONFLICT (message_key) DO NOTHING', (key, body, now, now))])

    def due(self, now=None, limit=20):
        now = time.time() if now is None else now
        rows = self._run([('SELECT message_key, body, attempts, next_at, created_at, last_error FROM outbox '
                           'WHERE next_at <= ? ORDER BY created_at LIMIT ?', (now, limit))], write=False)
        return [Message(*row) for row in rows]

    def outbox(self):
        rows = self._run([('SELECT message_key, body, attempts, next_at, created_at, last_error FROM outbox '
                           'ORDER BY created_at', ())], write=False)
        return [Message(*row) for row in rows]

    def sent(self, key):
        self._run([('DELETE FROM outbox WHERE message_key = ?', (key,))])

    def retry(self, key, attempts, next_at, error):
        self._run([('UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE message_key = ?',
                    (attempts, next_at, error[:500], key))])


def OnLease(store, name, holder):
    """The store as the worker holding a lease sees it: every write transaction (put_values,
    run, the events' and statistics' methods, transaction()) first checks, in the same
    transaction, that the lease is still held, so a worker that lost it (killed, paused,
    cut off) and comes back cannot write twice what the new one writes.  Reads are as ever."""
    view = copy.copy(store)         # the same engine and lock; its own connection once it needs one
    view._db, view.lease_held = None, (name, holder)
    return view
