"""The web application's core: routes that carry their role, dispatch, who may pass, pages
and JSON, one-time messages, errors, the headers on every answer.

Nothing here knows torrents: pyrotorrent.py groups its handlers by area (a class of
`Area` whose methods are marked with `expose`) and hands them to `App`, which builds one
Werkzeug Map from them.  Every link is built from an endpoint name (`url_for`).
"""
import contextlib
import hashlib
import io
import ipaddress
import logging
import os
import socket
from urllib.parse import quote

import simplejson
from jinja2 import Environment, FileSystemLoader
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import Map, PathConverter, Rule
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from lib import auth, deadline, sessions, shared_counters
from lib.format import FILTERS

GET, POST = ('GET',), ('POST',)        # GET includes HEAD; a GET never changes anything
PUBLIC = 'public'                      # a role: anyone, logged in or not
log = logging.getLogger('pyrotorrent')

# On every answer: no inline script or style, no framing, no MIME sniffing, no referrer
# leaving for other sites.
SECURITY_HEADERS = (
    ('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    ('X-Frame-Options', 'DENY'),
    ('X-Content-Type-Options', 'nosniff'),
    ('Referrer-Policy', 'same-origin'),
)
# Every answer of the app depends on who asks (pages, the API's CSRF token, downloads):
# no browser or proxy may keep one.  Static files are the opposite (serve_static).
PRIVATE = ('Cache-Control', 'no-store')
STATIC_MAX_AGE = 365 * 24 * 3600        # static URLs carry their file's fingerprint (static())


FORM_MAX_BYTES = 2 * 1024 * 1024       # a body that is not an upload (a form, JSON): far above any page's
FORM_MAX_FIELDS = 20000                # a 10,000-file torrent's priorities form has 10,000 fields


class _FormParser(FormDataParser):
    """Werkzeug's parser, refusing a urlencoded body of more than max_form_parts fields
    before parsing it (Werkzeug bounds only multipart parts)."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        data = stream.read()
        if data.count(b'&') >= self.max_form_parts:
            raise RequestEntityTooLarge()
        return super()._parse_urlencoded(io.BytesIO(data), mimetype, content_length, options)


class _RequestJSON:
    """json for request bodies: one nested too deeply for the parser is the sender's 400 (a
    RecursionError anywhere else is not the visitor's doing: a target's answer says so itself)."""

    @staticmethod
    def loads(data, **options):
        try:
            return simplejson.loads(data, **options)
        except RecursionError:
            raise BadRequest('The request is nested too deeply to be read.') from None

    dumps = staticmethod(simplejson.dumps)


class PageRequest(Request):
    json_module = _RequestJSON
    form_data_parser_class = _FormParser
    max_form_parts = FORM_MAX_FIELDS


class Route(Rule):
    """A Werkzeug Rule that carries the least role it needs (lib.auth.ROLES or PUBLIC)."""

    def __init__(self, string, role, uploads=False, **options):
        super().__init__(string, **options)
        self.role = role
        self.uploads = uploads          # takes files: up to MAX_UPLOAD_BYTES, else FORM_MAX_BYTES

    def get_empty_kwargs(self):
        return dict(super().get_empty_kwargs(), role=self.role, uploads=self.uploads)


class AnyPathConverter(PathConverter):
    """<path:...> that also matches names holding a line break (a torrent may have one)."""
    regex = '[^/](?s:.)*?'


def expose(rule, role, methods=GET, endpoint=None, uploads=False):
    """Mark an Area method `on_<endpoint>` as the handler of `rule` for `role` and up;
    uploads=True: its body may be as large as MAX_UPLOAD_BYTES (else FORM_MAX_BYTES)."""
    def mark(handler):
        handler.__dict__.setdefault('routes', []).append((rule, role, tuple(methods), endpoint, uploads))
        return handler
    return mark


class Area:
    """A group of pages (one area of the app); `self.app` is the App."""

    def __init__(self, app):
        self.app = app

    @classmethod
    def exposed(cls):
        """(Route, method name) of every exposed handler, in the order they are written."""
        for name, handler in vars(cls).items():
            for rule, role, methods, endpoint, uploads in getattr(handler, 'routes', ()):
                endpoint = endpoint or name[len('on_'):]
                yield Route(rule, role, uploads=uploads, endpoint=endpoint, methods=list(methods)), name


def route_map(areas):
    """(Map, {endpoint: (area class, handler name)}) of these Area classes."""
    rules, handlers = [], {}
    for area in areas:
        for route, name in area.exposed():
            if handlers.setdefault(route.endpoint, (area, name)) != (area, name):
                raise RuntimeError('endpoint %r is exposed twice' % route.endpoint)
            rules.append(route)
    return Map(rules, converters={'path': AnyPathConverter}, strict_slashes=True), handlers


def unguarded(routes):
    """The endpoints of a Map whose rule carries no valid role."""
    valid = set(auth.ROLES) | {PUBLIC}
    return sorted({rule.endpoint for rule in routes.iter_rules() if getattr(rule, 'role', None) not in valid})


class App:
    """A WSGI application made of Areas.

    config: a lib.config.Config (users, AUTH, MAX_UPLOAD_BYTES, STATIC_URL ...);
    target_names: the targets in config order (who may see which is the user's rule)."""

    def __init__(self, config, areas, target_names, template_folder, url_map=None):
        self.config = config
        self.target_names = list(target_names)
        mapping, handlers = route_map(areas)
        self.url_map = url_map or mapping
        missing = unguarded(self.url_map)
        if missing:
            raise RuntimeError('no ACCESS entry for endpoint(s) %s: declare each route with its role'
                               % ', '.join(missing))
        instances = {area: area(self) for area in areas}
        self.handlers = {endpoint: getattr(instances[area], name) for endpoint, (area, name) in handlers.items()}
        self.throttle = auth.LoginThrottle(**shared_counters.throttle_options(config))
        self.own_names = _own_names()
        self.jinja = Environment(loader=FileSystemLoader(template_folder),
                                 autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.jinja.filters.update(FILTERS)
        self.store_names = store_names(config)
        self.jinja.globals.update(static_url=config.STATIC_URL, csrf_field=auth.CSRF_FIELD,
                                  static=StaticURLs(config.STATIC_URL, static_folder(template_folder)))

    # -- links ------------------------------------------------------------------------

    @staticmethod
    def url_for(request, endpoint, **values):
        """The path of an endpoint below BASE_URL; values not in its rule become the query."""
        return request.url_adapter.build(endpoint, {k: v for k, v in values.items() if v is not None})

    # -- pages and answers ------------------------------------------------------------

    def render(self, template, request, status=200, **context):
        context.setdefault('target', None)
        user = getattr(request, 'user', None)
        session = request.environ.get('beaker.session')
        context = {k: self.for_viewer(request, v) if isinstance(v, str) else v for k, v in context.items()}
        messages = [[kind, self.for_viewer(request, text)] for kind, text in self.messages(request)]
        html = self.jinja.get_template(template).render(
            base_url=request.script_root, user=user, targets=self.visible_targets(user),
            open_access=self.open_access(), csrf_token=lambda: auth.csrf_token(session),
            url_for=lambda endpoint, **values: self.url_for(request, endpoint, **values),
            messages=messages, **context)
        return Response(html, status=status, mimetype='text/html')

    @staticmethod
    def json(data, status=200):
        # <, > and & as \u escapes: the JSON stays inert even if something embeds it in HTML
        text = simplejson.dumps(data, ensure_ascii=False).replace('<', '\\u003c').replace(
            '>', '\\u003e').replace('&', '\\u0026')
        return Response(text, status=status, mimetype='application/json')

    @staticmethod
    def tell(request, text, kind='done'):
        """A message the next page shows once (after a POST, before its redirect)."""
        session = request.environ['beaker.session']
        session['messages'] = session.get('messages', []) + [[kind, text]]
        session.save()

    @staticmethod
    def is_refresh(request):
        """A live page's refresh (static/live.js), not a page the user opened."""
        return request.headers.get('X-Requested-With') == 'refresh'

    def messages(self, request):
        session = request.environ.get('beaker.session')
        if session is None or self.is_refresh(request) or 'messages' not in session:
            return []
        told = session.pop('messages')
        session.save()
        return told

    def error(self, request, status, title, message, api, details=None, **context):
        """The error as JSON (under /api/) or as a page; details (a dict) go into both."""
        message = self.for_viewer(request, message)
        if api:
            return self.json({'error': dict(details or {}, status=status, title=title, message=message)}, status)
        context.setdefault('target', request.target_name)
        return self.render('error.html', request, status=status, title=title, message=message, code=status,
                           **context)

    def failure(self, request, exc, api):
        """The answer for an exception a handler raised."""
        if isinstance(exc, RequestEntityTooLarge) and getattr(request, 'uploads', False):
            return self.error(request, 413, 'Too Large',
                              'This request is larger than the %s pyroTorrent takes in one '
                              '(MAX_UPLOAD_BYTES in config.py); nothing was added. Send fewer or '
                              'smaller files at a time.' % FILTERS['size'](request.max_content_length), api)
        if isinstance(exc, RequestEntityTooLarge):
            return self.error(request, 413, 'Too Large',
                              'This request is larger than pyroTorrent takes here (at most %s and %s '
                              'fields); nothing was changed.' % (FILTERS['size'](request.max_content_length),
                                                                 '{:,}'.format(FORM_MAX_FIELDS)), api)
        if isinstance(exc, HTTPException):
            if exc.code in (301, 302, 303, 307, 308):
                return exc.get_response(request.environ)
            return self.error(request, exc.code, exc.name, exc.description, api)
        failed = sessions.store_failure(exc)
        if failed:
            where = sessions.describe_store(request.environ['beaker.session'].__dict__['_params'])
            request.environ[sessions.BROKEN] = True         # nothing more is asked of it:
            request.environ['beaker.session'] = None        # no messages, no token, no save
            request.user = None
            log.warning('%s %s: the session store %s failed: %s', request.method, request.full_path, where, failed)
            return self.error(request, 503, 'Service Unavailable',
                              'The session store (%s) did not answer: %s. Logins and forms need it; '
                              'nothing was changed. Try again once it answers.' % (where, failed), api)
        # a bug: the traceback goes to the log, never to the page
        log.error('%s %s failed', request.method, request.full_path, exc_info=exc)
        return self.error(request, 500, 'Internal Server Error',
                          'pyroTorrent failed to build this page; the details are in its log.', api)

    def for_viewer(self, request, text):
        """`text` as this user may see it: where the store lives (its file, folder or URL,
        which store errors name) only for an admin, or with open access (no users)."""
        user = getattr(request, 'user', None)
        if not text or (user is not None and user.can('admin')) or self.open_access():
            return text
        for name in self.store_names:
            text = text.replace(name, '(its location is shown to admins)')
        return text

    # -- who may pass -----------------------------------------------------------------

    def open_access(self):
        """None with users; else 'local' (no users: loopback only) or 'off' (AUTH = False)."""
        if self.config.users:
            return None
        return 'off' if self.config.AUTH is False else 'local'

    def visible_targets(self, user):
        return [name for name in self.target_names if user and user.may_see(name)]

    def check_target(self, request, name):
        """404 for a target this user may not see, in the very words used for one that does
        not exist."""
        visible = self.visible_targets(request.user)
        if name not in visible:
            raise NotFound("There is no target named '%s' (you have: %s)" % (name, ', '.join(visible) or 'none'))

    def trusted_host(self, request):
        """Whether the Host the browser asked for is one of this pyroTorrent's names: an IP
        address, a loopback name, this machine's own name, or one config.py's ALLOWED_HOSTS
        lists.  Another name that resolves here is DNS rebinding (a page on the attacker's
        name talking to us as if it were its own site)."""
        host = request.host.lower()
        if not host_is_trusted(host):
            return False
        name = host[1:].split(']', 1)[0] if host.startswith('[') else host.rsplit(':', 1)[0]
        try:
            ipaddress.ip_address(name)
            return True             # an address literal: no name to rebind
        except ValueError:
            pass
        if name == 'localhost' or name.endswith('.localhost') or name in self.own_names:
            return True
        return host_is_trusted(host, self.config.ALLOWED_HOSTS) if self.config.ALLOWED_HOSTS else False

    def same_origin(self, request):
        """False when the browser says this state change comes from another site."""
        if request.headers.get('Sec-Fetch-Site', 'same-origin') not in ('same-origin', 'none'):
            return False
        origin = request.headers.get('Origin')
        if origin is None:
            return True             # not a browser that sends one: the CSRF token decides
        return origin.lower() == request.host_url.rstrip('/').lower()

    def authorize(self, request, rule, values, api):
        """None if this request may go on, else the response that refuses it.  Every route
        passes here: which name it was sent to, who is asking, whether their role suffices,
        whether they may see the target, and for anything but GET its origin and CSRF token."""
        if not self.trusted_host(request):
            return self.error(request, 400, 'Bad Request',
                              "pyroTorrent does not answer to the name '%s': only to its own names and "
                              "addresses. If this is one of its names, add it to ALLOWED_HOSTS in config.py."
                              % request.host, api)
        if request.method not in ('GET', 'HEAD') and not self.same_origin(request):
            return self.error(request, 403, 'Forbidden',
                              'This request came from another site (its Origin is %s), so pyroTorrent '
                              'refused it; nothing was changed.' % request.headers.get('Origin', 'unknown'), api)
        session = request.environ['beaker.session']
        mode = self.open_access()
        if mode == 'local' and not (auth.is_local(request.remote_addr) and not forwarded(request)):
            return self.error(request, 403, 'Forbidden',
                              'pyroTorrent has no users configured, so it answers only on this machine '
                              '(loopback). Declare users in config.py (see docs/security.rst), or set '
                              'AUTH = False to serve everyone without a login.', api)
        if mode:
            request.user = auth.NOBODY
        else:
            user = self.config.user(session.get('user'))
            if user is not None and session.get('stamp') == user.stamp():
                request.user = user
        if request.method not in ('GET', 'HEAD'):
            sent = request.headers.get(auth.CSRF_HEADER) or request.form.get(auth.CSRF_FIELD)
            if not auth.csrf_valid(session, sent):
                return self.error(request, 403, 'Forbidden', (
                    'The CSRF token is missing or not this session\'s; nothing was changed. Send the '
                    'csrf_token of GET %s in the %s header.' % (self.url_for(request, 'api_session'), auth.CSRF_HEADER))
                    if api else 'This form has expired or did not come from pyroTorrent (its CSRF '
                    'token is missing or wrong); nothing was changed. Reload the page and try again.', api)
        if rule.role == PUBLIC:
            return None
        if request.user is None:
            if api:
                return self.json({'error': {'status': 401, 'title': 'Unauthorized',
                                            'message': 'Log in first: POST name and password to %s'
                                                       % self.url_for(request, 'login')}}, 401)
            here = request.full_path.rstrip('?')
            return redirect('%s?next=%s' % (self.url_for(request, 'login'), quote(request.script_root + here, safe='/')), 303)
        if 'name' in values:
            self.check_target(request, values['name'])
        if not request.user.can(rule.role):
            return self.error(request, 403, 'Forbidden', "Your account '%s' is a %s: it %s."
                              % (request.user.name, request.user.role, auth.ROLE_SAYS[request.user.role]), api)
        return None

    # -- WSGI -------------------------------------------------------------------------

    def dispatch(self, request):
        request.url_adapter = adapter = self.url_map.bind_to_environ(request.environ)
        api = request.path.startswith('/api/')
        request.user = request.target_name = None
        try:
            rule, values = adapter.match(return_rule=True)
            request.uploads = getattr(rule, 'uploads', False)       # the body's cap; larger: 413, the body unread
            request.max_content_length = (self.config.MAX_UPLOAD_BYTES if rule.uploads
                                          else min(FORM_MAX_BYTES, self.config.MAX_UPLOAD_BYTES))
            refused = self.authorize(request, rule, values, api)
            if refused is not None:
                return refused
            request.target_name = values.get('name')     # one the user may see: authorize checked
            return self.handlers[rule.endpoint](request, **values)
        except Exception as exc:
            return self.failure(request, exc, api)

    def __call__(self, environ, start_response):
        request = PageRequest(environ)
        request.max_content_length = self.config.MAX_UPLOAD_BYTES   # until the route is known
        # a page's round trips to a target share its timeout; a POST's are each bounded alone,
        # so a batch that is going well is never cut in half
        with deadline.page() if request.method in ('GET', 'HEAD') else contextlib.nullcontext():
            response = self.dispatch(request)
        for header, value in SECURITY_HEADERS + (PRIVATE,):
            response.headers.setdefault(header, value)
        return response(environ, start_response)


def store_names(config):
    """How store errors name the store (lib.store: its path and folder, or its URL without
    the password), longest first."""
    from lib import store
    try:
        where = store.engine_for(config.store_url, config.store_base).where
    except store.StoreError:
        return []
    names = {where}
    if store.store_kind(config.store_url) != 'postgresql':
        names.add(os.path.dirname(where))
    return sorted((n for n in names if len(n) > 1), key=len, reverse=True)


def static_folder(template_folder):
    """The static folder beside the templates' one."""
    return os.path.join(os.path.dirname(os.path.abspath(template_folder)), 'static')


class StaticURLs:
    """static('style.css') in a template: STATIC_URL/style.css?v=<its content's hash>, so
    a file may be cached for a year and a changed one is fetched again at once."""

    def __init__(self, base, folder):
        self.base, self.folder, self.versions = base.rstrip('/'), folder, {}

    def __call__(self, name):
        version = self.versions.get(name)
        if version is None:
            try:
                with open(os.path.join(self.folder, name), 'rb') as f:
                    version = hashlib.sha256(f.read()).hexdigest()[:12]
            except OSError:
                version = ''            # not here (another static folder is served): unversioned
            self.versions[name] = version
        return '%s/%s%s' % (self.base, name, '?v=' + version if version else '')


def serve_static(app, url, folder):
    """The app with `folder` served at `url` (pyrotorrent.py --http): ETag, Last-Modified,
    and a year's Cache-Control (the URLs are versioned: StaticURLs)."""
    from werkzeug.middleware.shared_data import SharedDataMiddleware
    return SharedDataMiddleware(app, {url: folder}, cache_timeout=STATIC_MAX_AGE)


def _own_names():
    """This machine's host names, as a Host header would carry them."""
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return frozenset(n for n in names if n)


def forwarded(request):
    """A proxy on this machine that forwards requests from elsewhere says so."""
    return any(h in request.headers for h in ('Forwarded', 'X-Forwarded-For', 'X-Real-IP'))
