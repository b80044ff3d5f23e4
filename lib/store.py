"""pyroTorrent's own store: what it keeps between requests and across restarts of rTorrent.

An embedded SQLite database by default (WAL, so pages read while the worker writes), with
a schema version and an ordered list of migrations written in SQL that PostgreSQL runs as
well (portable types, upserts with ON CONFLICT, '?' placeholders translated in one place:
Store._sql).  Nothing here knows torrents: rows are keyed by a target name and a key, and
values are JSON.

    store = Store.open('sqlite:////home/rt/pyrotorrent/data/store.sqlite3')   # or a plain path
    store.put_values('home', 'desired', {'down_limit': 512000})
    store.values('home', 'desired')           -> {'down_limit': StoredValue(512000, set_at)}
    store.acquire_lease('worker', holder, host, pid, seconds)  -> Lease (who holds it)
    store.beat('worker', holder, host, pid, tick_seconds); store.heartbeat('worker')

The single active worker is a lease row (holder, host, pid, expires_at): taken or renewed
with one conditional upsert, so two workers can never both hold it, on SQLite or PostgreSQL
(where an advisory lock could later stand in for it behind the same three methods).
"""
import dataclasses
import json
import os
import pwd
import sqlite3
import threading
import time
import urllib.parse
import uuid

# The schema, one migration a version, applied in order inside one transaction each.
# Never edit one that has shipped: add the next.  Never drop data.
MIGRATIONS = (
    # 1: values a target keeps (per kind: 'desired' settings, 'state' the worker tracks),
    #    the worker's lease and its heartbeat.
    (
        """CREATE TABLE target_value (
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               name TEXT NOT NULL,
               value TEXT NOT NULL,
               set_at DOUBLE PRECISION NOT NULL,
               set_by TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, kind, name))""",
        """CREATE TABLE lease (
               name TEXT PRIMARY KEY,
               holder TEXT NOT NULL,
               host TEXT NOT NULL,
               pid INTEGER NOT NULL,
               acquired_at DOUBLE PRECISION NOT NULL,
               expires_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE heartbeat (
               name TEXT PRIMARY KEY,
               holder TEXT NOT NULL,
               host TEXT NOT NULL,
               pid INTEGER NOT NULL,
               ticked_at DOUBLE PRECISION NOT NULL,
               tick_seconds DOUBLE PRECISION NOT NULL)""",
    ),
    # 2: schedules, rules and events (issue 13): what a target's client had at the last
    #    tick (to see what changed), the items a schedule stopped (to start exactly those
    #    again), which rule already acted on which item, the events (each once: its key),
    #    and messages waiting for the webhook.
    (
        """CREATE TABLE seen (
               target TEXT NOT NULL,
               item TEXT NOT NULL,
               data TEXT NOT NULL,
               seen_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, item))""",
        """CREATE TABLE held (
               target TEXT NOT NULL,
               item TEXT NOT NULL,
               held_by TEXT NOT NULL,
               held_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, item))""",
        """CREATE TABLE fired (
               target TEXT NOT NULL,
               rule TEXT NOT NULL,
               item TEXT NOT NULL,
               fired_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, rule, item))""",
        """CREATE TABLE event (
               target TEXT NOT NULL,
               event_key TEXT NOT NULL,
               seq BIGINT NOT NULL,
               at DOUBLE PRECISION NOT NULL,
               kind TEXT NOT NULL,
               subject TEXT NOT NULL DEFAULT '',
               detail TEXT NOT NULL,
               batch TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, event_key))""",
        'CREATE INDEX event_by_seq ON event (target, seq)',
        """CREATE TABLE outbox (
               message_key TEXT PRIMARY KEY,
               body TEXT NOT NULL,
               attempts INTEGER NOT NULL DEFAULT 0,
               next_at DOUBLE PRECISION NOT NULL,
               created_at DOUBLE PRECISION NOT NULL,
               last_error TEXT NOT NULL DEFAULT '')""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_SECONDS = 10.0               # how long a write waits for another process's write


class StoreError(Exception):
    """The store cannot be opened or used; str() says which file and why, in words."""


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


def sqlite_path(url, base=None):
    """The file of a STORE value: 'sqlite:///relative', 'sqlite:////absolute' or a plain path;
    a relative one is taken from `base` (config.py's folder).  StoreError for another scheme."""
    if not isinstance(url, str) or not url.strip():
        raise StoreError('STORE must be a path or a URL like sqlite:////var/lib/pyrotorrent/store.sqlite3, not %r' % (url,))
    scheme = url.split(':', 1)[0].lower() if '://' in url else ''
    if scheme in ('postgresql', 'postgres'):
        raise StoreError('STORE %s: PostgreSQL is not supported yet (the schema is ready for it: '
                         'docs/setup.rst); use an SQLite file for now' % _redact(url))
    if scheme and scheme != 'sqlite':
        raise StoreError("STORE %s: unknown kind of store '%s' (pyroTorrent keeps an SQLite file: "
                         "sqlite:///PATH or a plain path)" % (_redact(url), scheme))
    path = urllib.parse.unquote(url[len('sqlite:///'):]) if scheme else url
    if not path:
        raise StoreError('STORE %s names no file' % url)
    return os.path.normpath(os.path.join(base or os.getcwd(), os.path.expanduser(path)))


def _redact(url):
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return url.replace(':%s@' % parts.password, ':***@')
    return url


class Store:
    """One store.  Safe to share between threads (one connection, one lock); every process
    opens its own."""

    def __init__(self, path):
        self.path = path
        self.url = 'sqlite:///' + path
        self._lock = threading.RLock()
        self._db = None

    @classmethod
    def open(cls, url, base=None, create=True):
        """The store of a STORE value, migrated to this version of pyroTorrent; created (with
        its folder) on first use unless create=False (then StoreError if it is missing)."""
        store = cls(sqlite_path(url, base))
        store.connect(create)
        return store

    def connect(self, create=True):
        with self._lock:
            if self._db is not None:
                return self
            folder = os.path.dirname(self.path)
            if not os.path.exists(self.path):
                if not create:
                    raise StoreError('the store %s does not exist yet' % self.path)
                try:
                    os.makedirs(folder, mode=0o750, exist_ok=True)
                except OSError as exc:
                    raise StoreError(self._unwritable(folder, exc.strerror)) from None
            # WAL keeps its -wal and -shm files beside the database: the folder must be writable
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreError(self._unwritable(folder, 'permission denied'))
            try:
                db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None,
                                     check_same_thread=False)
                db.execute('PRAGMA journal_mode=WAL')
                db.execute('PRAGMA synchronous=NORMAL')
                db.execute('PRAGMA busy_timeout=%d' % int(BUSY_SECONDS * 1000))
            except sqlite3.Error as exc:
                raise StoreError('the store %s cannot be opened: %s' % (self.path, exc)) from None
            self._db = db
            try:
                self.migrate()
            except BaseException:
                self._db = None
                db.close()
                raise
            return self

    def _unwritable(self, folder, why):
        try:
            user = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            user = 'uid %d' % os.geteuid()
        return ("the store %s cannot be created: its folder %s is not writable by %s (%s). Make the "
                "folder writable by the web server's user and the worker's, or set STORE in config.py "
                "to a file in a folder that is" % (self.path, folder, user, why))

    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- SQL in one place ---------------------------------------------------------------

    @staticmethod
    def _sql(text):
        """The statement for this database's driver: '?' placeholders (sqlite3); psycopg
        would get '%s' here."""
        return text

    def _run(self, statements, write=True):
        """Run [(sql, params)] in one transaction; the rows of the last one."""
        with self._lock:
            if self._db is None:
                self.connect()
            db = self._db
            try:
                db.execute('BEGIN IMMEDIATE' if write else 'BEGIN')
                rows = []
                for sql, params in statements:
                    rows = db.execute(self._sql(sql), params).fetchall()
                db.execute('COMMIT')
                return rows
            except sqlite3.Error as exc:
                if db.in_transaction:
                    db.execute('ROLLBACK')
                raise StoreError('the store %s failed: %s' % (self.path, exc)) from None

    def migrate(self):
        """Bring the schema to SCHEMA_VERSION, one migration a transaction (the version read
        inside it: two processes opening a new store at once apply each step once);
        StoreError if the store was made by a newer pyroTorrent."""
        with self._lock:
            db = self._db
            while True:
                try:
                    db.execute('BEGIN IMMEDIATE')
                    db.execute('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
                    rows = db.execute('SELECT version FROM schema_version').fetchall()
                    if not rows:
                        db.execute('INSERT INTO schema_version (version) VALUES (0)')
                    version = rows[0][0] if rows else 0
                    if version > SCHEMA_VERSION:
                        raise StoreError('the store %s has schema version %d, newer than this pyroTorrent '
                                         'knows (%d): update pyroTorrent' % (self.path, version, SCHEMA_VERSION))
                    if version == SCHEMA_VERSION:
                        db.execute('COMMIT')
                        return
                    for sql in MIGRATIONS[version]:
                        db.execute(self._sql(sql))
                    db.execute(self._sql('UPDATE schema_version SET version = ?'), (version + 1,))
                    db.execute('COMMIT')
                except sqlite3.Error as exc:
                    if db.in_transaction:
                        db.execute('ROLLBACK')
                    raise StoreError('the store %s cannot be migrated: %s' % (self.path, exc)) from None
                except BaseException:
                    if db.in_transaction:
                        db.execute('ROLLBACK')
                    raise

    def version(self):
        return self._run([('SELECT version FROM schema_version', ())], write=False)[0][0]

    # -- values of a target ---------------------------------------------------------------

    def values(self, target, kind):
        """{name: StoredValue} of one target and kind."""
        rows = self._run([('SELECT name, value, set_at, set_by FROM target_value WHERE target = ? AND kind = ?',
                           (target, kind))], write=False)
        return {name: StoredValue(json.loads(value), set_at, set_by) for name, value, set_at, set_by in rows}

    def put_values(self, target, kind, values, set_by='', now=None):
        """Set several values of a target at once (one transaction); None deletes a value."""
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
            self._run(statements)

    def targets(self, kind):
        """The targets holding values of this kind."""
        return [row[0] for row in self._run([('SELECT DISTINCT target FROM target_value WHERE kind = ?', (kind,))],
                                            write=False)]

    # -- the worker's lease and heartbeat -------------------------------------------------

    def acquire_lease(self, name, holder, host, pid, seconds, now=None):
        """Take or renew the lease `name` for `seconds`, if it is free, expired or already
        ours; the Lease as it is now (compare .holder with yours).  One statement: two
        workers asking at once cannot both get it."""
        now = time.time() if now is None else now
        rows = self._run([
            ('INSERT INTO lease (name, holder, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) '
             'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, '
             'pid = excluded.pid, expires_at = excluded.expires_at, '
             'acquired_at = CASE WHEN lease.holder = excluded.holder THEN lease.acquired_at ELSE excluded.acquired_at END '
             'WHERE lease.holder = excluded.holder OR lease.expires_at < ?',
             (name, holder, host, pid, now, now + seconds, now)),
            ('SELECT name, holder, host, pid, acquired_at, expires_at FROM lease WHERE name = ?', (name,)),
        ])
        return Lease(*rows[0])

    def release_lease(self, name, holder):
        """Give the lease up (only if we hold it), so a waiting worker takes over at once."""
        self._run([('DELETE FROM lease WHERE name = ? AND holder = ?', (name, holder))])

    def lease(self, name):
        rows = self._run([('SELECT name, holder, host, pid, acquired_at, expires_at FROM lease WHERE name = ?',
                           (name,))], write=False)
        return Lease(*rows[0]) if rows else None

    def beat(self, name, holder, host, pid, tick_seconds, now=None):
        """Record that a worker finished a tick."""
        now = time.time() if now is None else now
        self._run([('INSERT INTO heartbeat (name, holder, host, pid, ticked_at, tick_seconds) VALUES (?, ?, ?, ?, ?, ?) '
                    'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, '
                    'pid = excluded.pid, ticked_at = excluded.ticked_at, tick_seconds = excluded.tick_seconds',
                    (name, holder, host, pid, now, tick_seconds))])

    def heartbeat(self, name):
        """The last tick of the worker `name`, or None if no worker ever ticked here."""
        rows = self._run([('SELECT name, holder, host, pid, ticked_at, tick_seconds FROM heartbeat WHERE name = ?',
                           (name,))], write=False)
        return Heartbeat(*rows[0]) if rows else None

    # -- what a target had, what was held, what fired, events (issue 13) -----------------

    def seen(self, target):
        """{item: (data, seen_at)} as kept at the last look."""
        rows = self._run([('SELECT item, data, seen_at FROM seen WHERE target = ?', (target,))], write=False)
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
