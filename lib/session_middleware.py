"""The session middleware of lib/sessions.py (its docstring says what it does and why):
apart, so that only the web app imports Beaker's middleware and, with it, every Beaker
backend."""
import hashlib
import hmac
import http.cookies
import secrets

from beaker.middleware import SessionMiddleware
from beaker.session import SessionObject

from lib.sessions import CSRF_COOKIE, _https, csrf_key, private_dir


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


class Sessions(SessionMiddleware):
    """Beaker's SessionMiddleware, except that the cookie is marked Secure when this
    request came over HTTPS (unless config.py says session.secure itself), and a visitor's
    session is stored only when there is something to keep (the worker purges expired
    ones: purger())."""

    def __init__(self, app, session_options):
        super().__init__(app, session_options)
        self.forced_secure = 'session.secure' in session_options
        if self.options.get('type') in (None, 'file', 'dbm'):
            private_dir(self.options['data_dir'])
        self.csrf_key = csrf_key(self.options)

    def __call__(self, environ, start_response):
        opts = self.options
        if not self.forced_secure and _https(environ):
            opts = dict(opts, secure=True)
        session = LazySession(environ, self.csrf_key, **opts)
        environ[self.environ_key] = session
        environ['beaker.get_session'] = self._get_session

        def session_start_response(status, headers, exc_info=None):
            if session.accessed():
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
