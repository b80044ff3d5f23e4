#!/usr/bin/env python3
"""pyroTorrent: a web interface to rTorrent.

make_app(config) returns a plain WSGI callable; run as a program it serves FastCGI on
standard input (what spawn-fcgi hands it), on a socket, or plain HTTP for development.
"""
import argparse
import logging
import os
import stat
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:            # spawn-fcgi may start us from any folder
    sys.path.insert(0, HERE)

import simplejson
from beaker.middleware import SessionMiddleware
from jinja2 import Environment, FileSystemLoader
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from lib import config as configuration
from lib.format import FILTERS
from lib.wsgi import under_base_url
from model.backend import COLUMNS, DESCENDING_FIRST, ListQuery
from model.errors import BackendError, NotFound
from model.rtorrent import RTorrent

url_map = Map([
    Rule('/', endpoint='index'),
    Rule('/target/<name>/', endpoint='target'),
    Rule('/target/<name>/view/<view>/', endpoint='target'),
    Rule('/target/<name>/torrent/<info_hash>/', endpoint='torrent'),
    Rule('/api/target/<name>/torrents', endpoint='api_torrents'),
])

log = logging.getLogger('pyrotorrent')
ANY_LABEL = '*'
MAX_PER_PAGE = 1000


class PyroTorrent:
    def __init__(self, config):
        self.config = config
        self.backends = {t.name: RTorrent(t, cache_seconds=config.CACHE_SECONDS) for t in config.targets}
        self.pool = ThreadPoolExecutor(max_workers=max(4, 2 * len(self.backends)))
        self.jinja = Environment(loader=FileSystemLoader(os.path.join(HERE, 'templates')),
                                 autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.jinja.filters.update(FILTERS)
        self.jinja.globals.update(static_url=config.STATIC_URL, columns=COLUMNS, descending_first=DESCENDING_FIRST,
                                  targets=list(self.backends), any_label=ANY_LABEL,
                                  refresh_seconds=config.REFRESH_SECONDS,
                                  narrow_hidden=('label', 'added'))   # columns a phone does without

    # -- pages ------------------------------------------------------------------------

    def on_index(self, request):
        query = ListQuery(per_page=self.config.PAGE_SIZE)
        cards = self.each_backend(lambda backend: backend.torrent_list(query))
        return self.render('index.html', request, cards=cards)

    def on_target(self, request, name, view='main'):
        backend = self.backend(name)
        listing = backend.torrent_list(self.list_query(request, view))
        return self.render('target.html', request, target=name, url=backend.url, listing=listing)

    def on_torrent(self, request, name, info_hash):
        backend = self.backend(name)
        header, torrent = backend.torrent(info_hash)
        return self.render('torrent.html', request, target=name, url=backend.url, header=header,
                           torrent=torrent)

    def on_api_torrents(self, request, name):
        listing = self.backend(name).torrent_list(self.list_query(request, request.args.get('view', 'main')))
        q = listing.query
        return self.json({
            'target': name, 'view': q.view, 'sort': q.sort, 'order': 'desc' if q.reverse else 'asc',
            'text': q.text, 'label': q.label, 'page': q.page, 'per_page': q.per_page,
            'pages': listing.pages, 'total': listing.total, 'view_total': listing.view_total,
            'header': vars(listing.header), 'view_sizes': listing.view_sizes, 'labels': listing.labels,
            'torrents': [t.as_dict() for t in listing.torrents],
        })

    # -- helpers ----------------------------------------------------------------------

    def backend(self, name):
        if name not in self.backends:
            raise NotFound("There is no target named '%s' (configured: %s)" % (name, ', '.join(self.backends)))
        return self.backends[name]

    def each_backend(self, ask):
        """[(name, url, answer or BackendError)] for every target, asked concurrently."""
        def one(backend):
            try:
                return backend.name, backend.url, ask(backend)
            except BackendError as exc:
                return backend.name, backend.url, exc
        if len(self.backends) == 1:
            return [one(b) for b in self.backends.values()]
        return list(self.pool.map(one, self.backends.values()))

    def list_query(self, request, view):
        args = request.args
        sort = args.get('sort', 'name')
        if sort not in COLUMNS:
            raise BadRequest("Cannot sort by '%s'; choose one of: %s" % (sort, ', '.join(COLUMNS)))
        order = args.get('order', 'desc' if sort in DESCENDING_FIRST else 'asc')
        if order not in ('asc', 'desc'):
            raise BadRequest("order must be 'asc' or 'desc', not '%s'" % order)
        page = _whole_number(args, 'page', 1, 1, 10 ** 9)
        per_page = _whole_number(args, 'per_page', self.config.PAGE_SIZE, 1, MAX_PER_PAGE)
        label = args.get('label', ANY_LABEL)
        return ListQuery(view=view, sort=sort, reverse=order == 'desc', text=args.get('q', '').strip(),
                         label=None if label == ANY_LABEL else label, page=page, per_page=per_page)

    def render(self, template, request, status=200, **context):
        context.setdefault('target', None)
        html = self.jinja.get_template(template).render(base_url=request.script_root, **context)
        return Response(html, status=status, mimetype='text/html')

    @staticmethod
    def json(data, status=200):
        return Response(simplejson.dumps(data, ensure_ascii=False), status=status,
                        mimetype='application/json')

    def error(self, request, status, title, message, api, backend_error=None):
        """The error as JSON (under /api/) or as a page; a BackendError adds its target,
        url, problem and cause to both."""
        if api:
            details = backend_error.as_dict() if backend_error else {}
            return self.json({'error': dict(details, status=status, title=title, message=message)}, status)
        return self.render('error.html', request, status=status, title=title, message=message,
                           error=backend_error, target=backend_error.target if backend_error else None)

    # -- WSGI -------------------------------------------------------------------------

    def dispatch(self, request):
        adapter = url_map.bind_to_environ(request.environ)
        api = request.path.startswith('/api/')
        try:
            endpoint, values = adapter.match()
            return getattr(self, 'on_' + endpoint)(request, **values)
        except BackendError as exc:
            return self.error(request, exc.status, "'%s' %s" % (exc.target, exc.problem), str(exc), api, exc)
        except NotFound as exc:
            return self.error(request, 404, 'Not Found', str(exc), api)
        except HTTPException as exc:
            if exc.code in (301, 302, 307, 308):
                return exc
            return self.error(request, exc.code, exc.name, exc.description, api)
        except Exception:           # a bug: the traceback goes to the log, never to the page
            log.exception('%s %s failed', request.method, request.full_path)
            return self.error(request, 500, 'Internal Server Error',
                              'pyroTorrent failed to build this page; the details are in its log.', api)

    def __call__(self, environ, start_response):
        return self.dispatch(Request(environ))(environ, start_response)


def _whole_number(args, key, default, low, high):
    raw = args.get(key)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("%s must be a whole number, not '%s'" % (key, raw)) from None
    if not low <= value <= high:
        raise BadRequest('%s must be from %d to %d, not %d' % (key, low, high, value))
    return value


def make_app(config=None):
    """The WSGI application for a Config (default: config.py, or $PYROTORRENT_CONFIG)."""
    config = config or configuration.load()
    core = PyroTorrent(config)
    app = under_base_url(SessionMiddleware(core, config.session_options), config.BASE_URL)
    app.pyrotorrent = core          # for tests and tools that look inside
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description='pyroTorrent, a web interface to rTorrent. '
                                     'With no options it serves FastCGI on standard input, as spawn-fcgi runs it.')
    parser.add_argument('--config', help='configuration file (default: $PYROTORRENT_CONFIG or config.py)')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--fcgi', metavar='SOCKET|HOST:PORT', help='serve FastCGI on a unix socket or TCP address')
    where.add_argument('--http', metavar='HOST:PORT', help='serve plain HTTP (development, demo)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='pyrotorrent: %(levelname)s %(message)s')
    on_stdin = not (args.fcgi or args.http)
    if on_stdin and not stat.S_ISSOCK(os.fstat(0).st_mode):
        parser.error('standard input is not a FastCGI socket: run pyrotorrent.py under spawn-fcgi, '
                     'or give --fcgi SOCKET|HOST:PORT or --http HOST:PORT')
    try:
        config = configuration.load(args.config)
    except configuration.ConfigError as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        if not on_stdin:
            return 2
        # Under spawn-fcgi nobody reads our stderr, and exiting leaves the web server with a
        # bare 503: answer every request with a page that says where to look instead.
        from flup.server.fcgi import WSGIServer
        WSGIServer(not_configured).run()
        return 2
    app = make_app(config)
    if args.http:
        from werkzeug.middleware.shared_data import SharedDataMiddleware
        from werkzeug.serving import run_simple
        host, port = _address(parser, args.http)
        static = SharedDataMiddleware(app, {config.STATIC_URL: os.path.join(HERE, 'static')})
        run_simple(host, port, static, threaded=True, use_reloader=False)
        return 0
    from flup.server.fcgi import WSGIServer
    if args.fcgi:
        bind = args.fcgi if '/' in args.fcgi else _address(parser, args.fcgi)
        WSGIServer(app, bindAddress=bind).run()
    else:
        WSGIServer(app).run()
    return 0


def not_configured(environ, start_response):
    """The app when config.py cannot be read (the details stay on the server)."""
    start_response('503 Service Unavailable', [('Content-Type', 'text/plain; charset=utf-8')])
    return [b'pyroTorrent cannot start: its configuration file has a mistake.\n'
            b'On the server, run "python test.py" in the pyroTorrent folder to see which setting.\n']


def _address(parser, text):
    host, _, port = text.rpartition(':')
    if not host or not port.isdigit():
        parser.error("'%s' is not HOST:PORT (e.g. 127.0.0.1:8080)" % text)
    return host, int(port)


if __name__ == '__main__':
    sys.exit(main())
