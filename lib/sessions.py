"""Beaker sessions with safe defaults: a private file store, HttpOnly + SameSite=Lax
cookies, Secure whenever the request came over HTTPS, an idle timeout, JSON for the
session's contents, stored by lib/session_store.py as signed bytes, never a pickle (so
writing to the store runs no code here).  config.py's session_options override any of them.

Nothing is stored for a visitor until there is something to keep (a login, a message):
an anonymous visitor's CSRF token is an HMAC of a random value kept in a cookie of its own
(CSRF_COOKIE), under a key kept in the session folder (or session.secret), so the login
form stores no session.  purge_expired() deletes the file store's expired sessions; the
worker (pyrotorrent.py worker) runs it at most every PURGE_EVERY seconds (purger()), so
it must run as the web server's user, or with a session.data_dir both may write.
"""
import os
import secrets
import stat
import tempfile
import time

from beaker import util as beaker_util

from lib.transport import redacted

# the session.type values pyroTorrent supports: lib/session_store.py reads each without pickle
STORES = ('file', 'ext:redis', 'ext:memcached', 'memory')
IDLE_SECONDS = 3600
STORE_SECONDS = 5           # a shared session store (redis) must answer within this
BROKEN = 'pyrotorrent.session_store_failed'     # environ key: the store failed, do not save
CSRF_COOKIE = 'pyrotorrent_csrf'
PURGE_EVERY = 600


def default_data_dir():
    return os.path.join(tempfile.gettempdir(), 'pyrotorrent-%d' % os.getuid(), 'sessions')


def options(session_options, cookie_path):
    """Beaker's 'session.*' options: our defaults, then config.py's."""
    merged = {
        'session.type': 'file',
        'session.data_dir': default_data_dir(),
        'session.key': 'pyrotorrent_session',
        'session.httponly': True,
        'session.samesite': 'Lax',
        'session.timeout': IDLE_SECONDS,        # idle: each request moves it on
        'session.cookie_expires': True,         # the cookie itself ends with the browser
        'session.cookie_path': cookie_path or '/',
        'session.data_serializer': 'json',      # the contents; lib/session_store.py stores them unpickled
    }
    merged.update(session_options)
    url = merged.get('session.url')
    if merged.get('session.type') == 'ext:redis' and isinstance(url, str) and 'socket_timeout' not in url:
        # redis-py waits for ever by default: a frozen redis would hold every request
        merged['session.url'] = '%s%ssocket_timeout=%d&socket_connect_timeout=%d' % (
            url, '&' if '?' in url else '?', STORE_SECONDS, STORE_SECONDS)
    return merged


def store_failure(exc):
    """Words for an exception of a shared session store's client (redis, memcached), else None."""
    module = type(exc).__module__.split('.')[0]
    if module not in ('redis', 'memcache', 'pylibmc', 'pymemcache'):
        return None
    return '%s (%s)' % (str(exc) or type(exc).__name__, type(exc).__name__)


def describe_store(options):
    """The session store as messages name it, without a password."""
    kind = str(options.get('type') or 'file')
    url = options.get('url')
    if not isinstance(url, str):
        return kind
    return '%s at %s' % (kind[len('ext:'):] if kind.startswith('ext:') else kind, redacted(url.split('?', 1)[0]))


def private_dir(path):
    """Make `path` (mode 700) or check that an existing one is ours and closed to others,
    and so is each folder above it up to one that is sticky (like /tmp) or root's: another
    local user who could read, plant or swap session files could take over a session, or
    (through Beaker's pickles) run code as pyroTorrent."""
    path = os.path.abspath(path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    _ours(path, fix=True)
    parent = os.path.dirname(path)
    while True:
        info = os.stat(parent)
        if info.st_mode & stat.S_ISVTX:          # like /tmp: others cannot move our folder
            break
        _ours(parent, fix=False, owners=(os.getuid(), 0))
        if parent == os.path.dirname(parent):
            break
        parent = os.path.dirname(parent)
    return path


def _ours(path, fix, owners=None):
    info = os.lstat(path) if fix else os.stat(path)
    owners = owners or (os.getuid(),)
    if stat.S_ISLNK(info.st_mode) or info.st_uid not in owners:
        raise PermissionError('%s belongs to another user (uid %d) or is a symlink; sessions need a '
                              'folder of their own: set session_options["session.data_dir"]'
                              % (path, info.st_uid))
    if not fix and stat.S_IMODE(info.st_mode) & 0o022:
        raise PermissionError('%s can be written by other users; sessions need a private folder: '
                              'chmod go-w it, or set session_options["session.data_dir"]' % path)
    if fix and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)


def csrf_key(options):
    """The key of anonymous CSRF tokens: session.secret if given, else a random key kept in
    the file store's private folder (shared by the processes that share the folder), else
    one for this process only (several hosts with a shared store: set session.secret)."""
    if options.get('secret'):
        return str(options['secret']).encode()
    if options.get('type') not in (None, 'file') or not options.get('data_dir'):
        return secrets.token_bytes(32)
    path = os.path.join(options['data_dir'], 'csrf.key')
    for _ in range(50):
        try:
            with open(path, 'rb') as f:
                key = f.read()
            if len(key) == 32 and not os.path.islink(path):
                return key
        except FileNotFoundError:
            pass
        new = '%s.%d' % (path, os.getpid())
        fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(new, path)          # the first process to get there wins; others read its key
        except FileExistsError:
            pass
        finally:
            os.unlink(new)
        time.sleep(0.01)
    raise PermissionError('%s cannot be read as a 32-byte key; delete it' % path)


def purger(session_options):
    """What the worker runs each tick: purge_expired(session_options) at most every
    PURGE_EVERY seconds, the first time at once (a walk of the folder: milliseconds for
    thousands of sessions).  Time-based work belongs to the worker, not to a request."""
    last = [None]

    def purge():
        if last[0] is not None and time.monotonic() - last[0] < PURGE_EVERY:
            return None
        last[0] = time.monotonic()
        removed = purge_expired(session_options)
        return 'removed %d expired session(s)' % removed if removed else None
    return purge


def purge_expired(session_options, now=None):
    """Delete the file store's sessions idle longer than session.timeout, and their lock
    files; the number deleted.  Only regular files inside session.data_dir's Beaker folders
    are touched, and no symlink is followed.  Other stores expire sessions themselves: 0."""
    options = {k[len('session.'):]: v for k, v in session_options.items() if k.startswith('session.')}
    if options.get('type', 'file') != 'file' or not options.get('data_dir') or not options.get('timeout'):
        return 0
    data_dir = os.path.abspath(options['data_dir'])
    files, locks = os.path.join(data_dir, 'container_file'), os.path.join(data_dir, 'container_file_lock')
    if not os.path.isdir(files) or os.path.islink(files):
        return 0
    now = time.time() if now is None else now
    removed = 0
    for folder, dirs, names in os.walk(files, followlinks=False):
        for name in names:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            # each request rewrites its session (the accessed time), so mtime is the last use
            if (not stat.S_ISREG(info.st_mode) or not name.endswith('.cache')
                    or now - info.st_mtime <= float(options['timeout'])):
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed += 1
            lock = beaker_util.encoded_path(locks, [name[:-len('.cache')]], extension='.lock')
            if os.path.commonpath([lock, locks]) == locks and not os.path.islink(lock):
                try:
                    os.unlink(lock)
                except FileNotFoundError:
                    pass
    return removed


def _https(environ):
    return environ.get('wsgi.url_scheme') == 'https' or environ.get('HTTPS', '').lower() in ('on', '1')
