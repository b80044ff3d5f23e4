"""The engines: the only code that knows which database the store speaks to (SQLite,
PostgreSQL): connecting, a transaction, placeholders, the clock, what a STORE URL names.
"""
import errno
import os
import pwd
import sqlite3
import time
import urllib.parse

from lib.transport import redacted
from lib.store.errors import StoreError


BUSY_SECONDS = 10.0               # how long a write waits for another process's write


IDLE_IN_TRANSACTION_SECONDS = 5.0  # PostgreSQL: a transaction left idle this long is ended (a frozen process)


STATEMENT_SECONDS = 60.0          # PostgreSQL: the longest one statement may run (a store copy's biggest)


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
            raise StoreError('the store %s cannot be opened: %s' % (self.where, first_line(exc))) from None

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


def first_line(exc):
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def engine_for(url, base=None):
    if store_kind(url) == 'postgresql':
        return PostgresEngine(url)
    return SQLiteEngine(sqlite_path(url, base))
