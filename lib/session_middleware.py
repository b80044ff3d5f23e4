"""The session middleware of lib/sessions.py (its docstring says what it does and why):
apart, so that only the web app imports Beaker's middleware and, with it, every Beaker
backend."""
import hashlib
import hmac
import http.cookies
import secrets
import sys

from beaker.middleware import SessionMiddleware
from beaker.session import Session, SessionObject

from lib import session_store
from lib.sessions import BROKEN, CSRF_COOKIE, _https, csrf_key, private_dir, store_failure


class LazySession(SessionObject):
    """Beaker's lazy session, plus a CSRF token for a visitor whose session is not stored:
    an HMAC of a random seed kept in the CSRF_COOKIE cookie (so a token planted without
    that cookie, or made for another browser, is worth nothing)."""

    def __init__(self, environ, csrf_key, **params):
        super().__init__(environ, **params)
        cookie = http.cookies.SimpleCookie()
        try:
            cookie.load(environ.get('HTTP_COOKIE', ''))
        except http.cookies.CookieError:
            pass
        seed = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else None
        self.__dict__.update(_csrf_key=csrf_key, _csrf_seed=seed, _csrf_new=None)

    def ended(self):
        """True when this browser's genuine session cookie names a session that is gone."""
        return bool(getattr(self._session(), 'ended', False))

    def is_stored(self):
        """True once this session has been (or is being) saved: there is something to keep."""
        return not self.is_new or self.dirty()

    def anonymous_csrf_token(self):
        seed = self.__dict__['_csrf_seed'] or self.__dict__['_csrf_new']
        if not seed:
            seed = self.__dict__['_csrf_new'] = secrets.token_urlsafe(24)
        return self._sign(seed)

    def anonymous_csrf_valid(self, sent):
        seed = self.__dict__['_csrf_seed']
        return bool(seed and sent) and hmac.compare_digest(self._sign(seed).encode(), str(sent).encode())

    def _sign(self, seed):
        return hmac.new(self.__dict__['_csrf_key'], seed.encode(), hashlib.sha256).hexdigest()

    def csrf_cookie(self):
        """The Set-Cookie value for a seed made in this request, else None."""
        seed = self.__dict__['_csrf_new']
        if not seed:
            return None
        params = self.__dict__['_params']
        cookie = http.cookies.SimpleCookie()
        cookie[CSRF_COOKIE] = seed
        morsel = cookie[CSRF_COOKIE]
        morsel['path'] = params.get('cookie_path', '/')
        morsel['httponly'] = True
        morsel['samesite'] = params.get('samesite', 'Lax')
        if params.get('secure'):
            morsel['secure'] = True
        return morsel.OutputString()


class StoreSession(Session):
    """Beaker's Session, except that a store that fails to answer (redis timing out) is not
    taken for a corrupt session: Beaker would invalidate it and ask the store again (a
    second wait), and log the user out for a hiccup.  lib.web answers a 503 in words.
    `ended` is True when the browser sent a genuine session cookie whose session is gone
    (logged out elsewhere, timed out, unreadable, or from before an upgrade)."""

    def __init__(self, *args, **kwargs):
        self.looked_up = False
        super().__init__(*args, **kwargs)
        self.ended = self.looked_up and (self.is_new or self.was_invalidated)

    def load(self):
        self.looked_up = True
        super().load()

    def invalidate(self):
        failed = sys.exc_info()[1]          # called from Beaker's except block while loading
        if failed is not None and store_failure(failed):
            raise failed
        super().invalidate()


class Sessions(SessionMiddleware):
    """Beaker's SessionMiddleware, except that the cookie is marked Secure when this
    request came over HTTPS (unless config.py says session.secure itself), and a visitor's
    session is stored only when there is something to keep (the worker purges expired
    ones: purger())."""

    def __init__(self, app, session_options):
        super().__init__(app, session_options)
        self.forced_secure = 'session.secure' in session_options
        if self.options.get('type') in (None, 'file'):
            private_dir(self.options['data_dir'])
        self.csrf_key = csrf_key(self.options)
        self.options['session_class'] = StoreSession
        if not self.options.get('secret'):
            # The session cookie is signed (Beaker's SignedCookie) even without session.secret:
            # a made-up id is then a new session, never loaded, so a flood of them cannot make
            # Beaker create a lock file (and folders) for each.
            self.options['secret'] = hmac.new(self.csrf_key, b'session cookie', hashlib.sha256).hexdigest()
        # stored entries are signed bytes, never pickles: writing the store runs no code here
        self.options['namespace_class'] = session_store.namespace_class(self.options.get('type'),
                                                                        self.options['secret'])

    def __call__(self, environ, start_response):
        opts = self.options
        if not self.forced_secure and _https(environ):
            opts = dict(opts, secure=True)
        session = LazySession(environ, self.csrf_key, **opts)
        environ[self.environ_key] = session
        environ['beaker.get_session'] = self._get_session

        def session_start_response(status, headers, exc_info=None):
            if session.accessed() and not environ.get(BROKEN):
                session.persist()
                if session.__dict__['_headers']['set_cookie']:
                    cookie = session.__dict__['_headers']['cookie_out']
                    if cookie:
                        headers.append(('Set-Cookie', cookie))
            csrf_cookie = session.csrf_cookie()
            if csrf_cookie:
                headers.append(('Set-Cookie', csrf_cookie))
            return start_response(status, headers, exc_info)
        return self.wrap_app(environ, session_start_response)
