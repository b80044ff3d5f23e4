"""Beaker sessions with safe defaults: a private file store, HttpOnly + SameSite=Lax
cookies, Secure whenever the request came over HTTPS, an idle timeout, JSON for the
session's contents.  Beaker still wraps each stored session in a pickle, so whoever can
write to the store can run code as pyroTorrent: the store must stay private.  config.py's session_options override any of them.
"""
import os
import stat
import tempfile

from beaker.middleware import SessionMiddleware
from beaker.session import SessionObject

IDLE_SECONDS = 3600


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
        'session.data_serializer': 'json',      # the contents; Beaker's wrapper is still a pickle
    }
    merged.update(session_options)
    return merged


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


class Sessions(SessionMiddleware):
    """Beaker's SessionMiddleware, except that the cookie is marked Secure when this
    request came over HTTPS (unless config.py says session.secure itself)."""

    def __init__(self, app, session_options):
        super().__init__(app, session_options)
        self.forced_secure = 'session.secure' in session_options
        if self.options.get('type') in (None, 'file', 'dbm'):
            private_dir(self.options['data_dir'])

    def __call__(self, environ, start_response):
        opts = self.options
        if not self.forced_secure and _https(environ):
            opts = dict(opts, secure=True)
        session = SessionObject(environ, **opts)
        environ[self.environ_key] = session
        environ['beaker.get_session'] = self._get_session

        def session_start_response(status, headers, exc_info=None):
            if session.accessed():
                session.persist()
                if session.__dict__['_headers']['set_cookie']:
                    cookie = session.__dict__['_headers']['cookie_out']
                    if cookie:
                        headers.append(('Set-Cookie', cookie))
            return start_response(status, headers, exc_info)
        return self.wrap_app(environ, session_start_response)


def _https(environ):
    return environ.get('wsgi.url_scheme') == 'https' or environ.get('HTTPS', '').lower() in ('on', '1')
