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
"""
import contextlib
import copy
import dataclasses
import errno
import json
import os
import pwd
import sqlite3
import threading
import time
import urllib.parse
import uuid

from lib.transport import redacted

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
    # 2: transfer statistics (model/stats.py).  A series is one target, tracker domain, label
    #    or torrent of a target; its bytes are summed per bucket (resolution 60, 3600 or 86400
    #    seconds: minute, local hour, local day) as whole numbers, so sums are exact.  The
    #    sampler's last totals per torrent, its state per target, and the events (restarts,
    #    gaps, counters that went back) that graphs draw as gaps.
    (
        """CREATE TABLE stats_series (
               id INTEGER PRIMARY KEY,
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               key TEXT NOT NULL,
               name TEXT NOT NULL DEFAULT '',
               first_at DOUBLE PRECISION NOT NULL,
               gone_at DOUBLE PRECISION,
               UNIQUE (target, kind, key))""",
        """CREATE TABLE stats_bucket (
               series INTEGER NOT NULL,
               resolution INTEGER NOT NULL,
               start BIGINT NOT NULL,
               up BIGINT NOT NULL,
               down BIGINT NOT NULL,
               PRIMARY KEY (series, resolution, start))""",
        """CREATE TABLE stats_torrent (
               target TEXT NOT NULL,
               hash TEXT NOT NULL,
               up_total BIGINT NOT NULL,
               down_total BIGINT NOT NULL,
               label TEXT NOT NULL,
               tracker TEXT NOT NULL,
               name TEXT NOT NULL,
               PRIMARY KEY (target, hash))""",
        """CREATE TABLE stats_target (
               target TEXT PRIMARY KEY,
               instance TEXT NOT NULL,
               sampled_at DOUBLE PRECISION NOT NULL,
               details_at DOUBLE PRECISION NOT NULL,
               pruned_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE stats_event (
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               started_at DOUBLE PRECISION NOT NULL,
               ended_at DOUBLE PRECISION NOT NULL,
               detail TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, kind, started_at))""",
    ),
    # 3: schedules, rules and events (issue 13): what a target's client had at the last
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
    # 4: a user's own choices for the pages (issue 16: the list's columns), as JSON.
    (
        """CREATE TABLE user_pref (
               user_name TEXT NOT NULL,
               name TEXT NOT NULL,
               value TEXT NOT NULL,
               set_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (user_name, name))""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_SECONDS = 10.0               # how long a write waits for another process's write
IDLE_IN_TRANSACTION_SECONDS = 5.0  # PostgreSQL: a transaction left idle this long is ended (a frozen process)
STATEMENT_SECONDS = 60.0          # PostgreSQL: the longest one statement may run (a store copy's biggest)


class StoreError(Exception):
    """The store cannot be opened or used; str() says which file and why, in words."""


class StoreTooNew(StoreError):
    """The store was made by a newer pyroTorrent: waiting will not help, updating will."""


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


def store_kind(url):
    """'sqlite' or 'postgresql' for a STORE value; StoreError in words for anything else."""
    if not isinstance(url, str) or not url.strip():
        raise StoreError('STORE must be a path or a URL like sqlite:////var/lib/pyrotorrent/store.sqlite3 '
                         'or postgresql://pyrotorrent@/pyrotorrent?host=/run/postgresql, not %r' % (url,))
    scheme = url.split(':', 1)[0].lower() if '://' in url else ''
    if scheme in ('postgresql', 'postgres'):
        return 'postgresql'
    if scheme and scheme != 'sqlite':
        raise StoreError("STORE %s: unknown kind of store '%s' (pyroTorrent keeps an SQLite file, "
                         "sqlite:///PATH or a plain path, or a PostgreSQL database, postgresql://...)"
                         % (_redact(url), scheme))
    return 'sqlite'


def sqlite_path(url, base=None):
    """The file of an SQLite STORE value: 'sqlite:///relative', 'sqlite:////absolute' or a plain
    path; a relative one is taken from `base` (config.py's folder).  StoreError for another kind."""
    if store_kind(url) != 'sqlite':
        raise StoreError('STORE %s is a PostgreSQL database, not an SQLite file' % _redact(url))
    path = urllib.parse.unquote(url[len('sqlite:///'):]) if '://' in url else url
    if not path:
        raise StoreError('STORE %s names no file' % url)
    return os.path.normpath(os.path.join(base or os.getcwd(), os.path.expanduser(path)))


def store_exists(url, base=None):
    """Whether the store is there already (a PostgreSQL database always is: its tables are
    made on first use like an SQLite file's)."""
    if store_kind(url) == 'postgresql':
        return True
    return os.path.exists(sqlite_path(url, base))


def _redact(url):
    return redacted(url)                # lib.transport's: the one way a URL is shown


# -- engines: the only code that knows which database it speaks to ------------------------

def _create_private(path):
    """An empty file, mode 600 whatever the umask (SQLite takes it for a new database and
    gives its -wal and -shm files the same mode): the store holds who did what, and secrets."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return                          # another process made it first
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SQLiteEngine:
    """An SQLite file in WAL mode; a write transaction takes the file's write lock at once
    (BEGIN IMMEDIATE), so a read-then-write never deadlocks with another process."""
    kind = 'sqlite'
    Error = sqlite3.Error

    def __init__(self, path):
        self.path = path
        self.url = 'sqlite:///' + path
        self.where = path              # how messages name it

    def connect(self, create=True):
        folder = os.path.dirname(self.path)
        if not os.path.exists(self.path):
            if not create:
                raise StoreError('the store %s does not exist yet' % self.path)
            try:
                os.makedirs(folder, mode=0o750, exist_ok=True)
                _create_private(self.path)
            except OSError as exc:
                why = 'it is on a read-only file system' if exc.errno == errno.EROFS else exc.strerror.lower()
                raise StoreError(self._unwritable(folder, why)) from None
        # WAL keeps its -wal and -shm files beside the database: the folder must be writable
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(self._unwritable(folder, _why_unwritable(folder)))
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None,
                                 check_same_thread=False)
            db.execute('PRAGMA journal_mode=WAL')
            db.execute('PRAGMA synchronous=NORMAL')
            db.execute('PRAGMA busy_timeout=%d' % int(BUSY_SECONDS * 1000))
        except sqlite3.Error as exc:
            raise StoreError('the store %s cannot be opened: %s' % (self.path, exc)) from None
        return db

    def _unwritable(self, folder, why):
        try:
            user = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            user = 'uid %d' % os.geteuid()
        return ("the store %s cannot be created: its folder %s is not writable by %s (%s). Make the "
                "folder writable by the web server's user and the worker's, or set STORE in config.py "
                "to a file in a folder that is" % (self.path, folder, user, why))

    def begin(self, db, write):
        db.execute('BEGIN IMMEDIATE' if write else 'BEGIN')

    def begin_migration(self, db):
        db.execute('BEGIN IMMEDIATE')             # the write lock: one migrator at a time

    def execute(self, db, sql, params=()):
        return db.execute(sql, params).fetchall()

    def executemany(self, db, sql, rows):
        db.executemany(sql, rows)

    def end(self, db, commit):
        if db.in_transaction:
            db.execute('COMMIT' if commit else 'ROLLBACK')

    def now(self, db):
        return time.time()                        # one machine: its clock

    def tables(self, db):
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    for_update = ''                               # BEGIN IMMEDIATE already holds the write lock

    def broken(self, db):
        return False

    def close(self, db):
        db.close()


class PostgresEngine:
    """A PostgreSQL database through psycopg 3: explicit BEGIN/COMMIT on an autocommit
    connection, '%s' placeholders, the database's clock (hosts' clocks may differ), an
    advisory lock around migrations, and a lost connection made anew on the next call."""
    kind = 'postgresql'
    MIGRATION_LOCK = 0x70797254        # 'pyrT': the advisory lock key that serialises migrations

    def __init__(self, url):
        try:
            import psycopg
        except ImportError:
            raise StoreError('STORE %s is a PostgreSQL database, but psycopg is not installed: '
                             'pip install -r requirements.txt' % _redact(url)) from None
        self.psycopg = psycopg
        self.Error = psycopg.Error
        self.url = url
        self.path = self.where = _redact(url)

    def connect(self, create=True):
        try:
            db = self.psycopg.connect(self.url, autocommit=True, connect_timeout=int(BUSY_SECONDS),
                                      application_name='pyrotorrent')
            # A process frozen inside a transaction (SIGSTOP, a hung host) would hold its row
            # locks, the lease's among them, for ever: the server ends such a transaction
            # (rolled back: nothing of it is written), and no statement waits unbounded.
            db.execute('SELECT set_config(%s, %s, false), set_config(%s, %s, false), set_config(%s, %s, false)',
                       ('idle_in_transaction_session_timeout', '%dms' % (IDLE_IN_TRANSACTION_SECONDS * 1000),
                        'lock_timeout', '%dms' % (BUSY_SECONDS * 1000),
                        'statement_timeout', '%dms' % (STATEMENT_SECONDS * 1000)))    # one round trip
            return db
        except self.psycopg.Error as exc:
            raise StoreError('the store %s cannot be opened: %s' % (self.where, _first_line(exc))) from None

    def begin(self, db, write):
        db.execute('BEGIN')

    def begin_migration(self, db):
        db.execute('BEGIN')
        db.execute('SELECT pg_advisory_xact_lock(%s)', (self.MIGRATION_LOCK,))

    @staticmethod
    def _sql(text):
        return text.replace('%', '%%').replace('?', '%s')

    def execute(self, db, sql, params=()):
        cursor = db.execute(self._sql(sql), params)
        return cursor.fetchall() if cursor.description else []

    def executemany(self, db, sql, rows):
        with db.cursor() as cursor:
            cursor.executemany(self._sql(sql), rows)

    def end(self, db, commit):
        if db.closed:
            return
        if db.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE:
            db.execute('COMMIT' if commit else 'ROLLBACK')

    def now(self, db):
        return db.execute('SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8').fetchone()[0]

    def tables(self, db):
        return [row[0] for row in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]

    for_update = ' FOR UPDATE'

    def broken(self, db):
        return db.closed or db.broken

    def close(self, db):
        db.close()


def _why_unwritable(folder):
    """In words: a read-only mount (root too is refused there) or the folder's permissions."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return 'it is on a read-only file system'
    except OSError as exc:
        return exc.strerror.lower()
    return 'permission denied'


def _first_line(exc):
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def engine_for(url, base=None):
    if store_kind(url) == 'postgresql':
        return PostgresEngine(url)
    return SQLiteEngine(sqlite_path(url, base))


class LeaseLost(StoreError):
    """A write made on a lease (Store.transaction(lease=...)) found the lease gone or taken."""


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


class Store:
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
        """Run [(sql, params)] in one transaction, for a model module's own tables; params a
        tuple, or a list of tuples (the statement once for each); the rows of the last one."""
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
                raise StoreError('the store %s %s: %s' % (self.path, failed, _first_line(exc))) from None
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
        """Bring the schema to SCHEMA_VERSION, one migration a transaction (the version read
        inside it, under the engine's migration lock: two processes opening a new store at
        once apply each step once); StoreError if the store was made by a newer pyroTorrent.
        A store already at this version is only read: opening it never waits for a writer."""
        with self._lock:
            db, engine = self._db, self.engine
            if self._read_version(db) == SCHEMA_VERSION:
                return
            while True:
                try:
                    engine.begin_migration(db)
                    engine.execute(db, 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
                    rows = engine.execute(db, 'SELECT version FROM schema_version')
                    if not rows:
                        engine.execute(db, 'INSERT INTO schema_version (version) VALUES (0)')
                    version = rows[0][0] if rows else 0
                    if version > SCHEMA_VERSION:
                        raise StoreTooNew('the store %s has schema version %d, newer than this pyroTorrent '
                                         'knows (%d): update pyroTorrent' % (self.path, version, SCHEMA_VERSION))
                    if version == SCHEMA_VERSION:
                        engine.end(db, commit=True)
                        return
                    for sql in MIGRATIONS[version]:
                        engine.execute(db, sql)
                    engine.execute(db, 'UPDATE schema_version SET version = ?', (version + 1,))
                    engine.end(db, commit=True)
                except engine.Error as exc:
                    self._rollback(db)
                    raise StoreError('the store %s cannot be migrated: %s' % (self.path, _first_line(exc))) from None
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


# -- moving a store: SQLite -> PostgreSQL (or back) ----------------------------------------

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
            known = set(write.engine.tables(write.db))
            unknown = sorted(set(rows) - known)
            if unknown:
                raise StoreError('the store %s has no table %s that %s has: nothing was copied'
                                 % (destination.path, unknown[0], source.path))
            for table in sorted(known - {'schema_version'}):
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
