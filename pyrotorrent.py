#!/usr/bin/env python3
"""pyroTorrent: a web interface to rTorrent, Transmission and more.

The entry point only: make_app(config) returns a plain WSGI callable (any WSGI server can
import it); run as a program it serves FastCGI on standard input (what spawn-fcgi hands
it), on a socket, or plain HTTP for development, and its commands are the worker, a
password hash, the route table and a copy of the store.  The pages are lib/pages/ (one
module an area), the worker lib/worker/; `python pyrotorrent.py routes` prints every route
with the role it needs.
"""
import argparse
import logging
import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:            # spawn-fcgi may start us from any folder
    sys.path.insert(0, HERE)

from lib import auth  # noqa: E402
from lib import config as configuration  # noqa: E402
from lib import sessions  # noqa: E402
from lib.pages.app import URL_MAP, PyroTorrent  # noqa: E402
from lib.session_middleware import Sessions  # noqa: E402  (Beaker's middleware: the web process only)
from lib.store import Store, StoreError  # noqa: E402
from lib.web import serve_static  # noqa: E402
from lib.wsgi import under_base_url  # noqa: E402
from model.clients import UnknownClient  # noqa: E402


def make_app(config=None):
    """The WSGI application for a Config (default: config.py, or $PYROTORRENT_CONFIG)."""
    config = config or configuration.load()
    core = PyroTorrent(config)
    session_options = sessions.options(config.session_options, config.BASE_URL)
    app = under_base_url(Sessions(core, session_options), config.BASE_URL)
    app.pyrotorrent = core          # for tests and tools that look inside
    return app


def fewer_malloc_arenas(arenas=2):
    """On glibc, at most `arenas` malloc arenas for the serving threads, unless
    MALLOC_ARENA_MAX says otherwise; True if set.  By default each thread under contention
    gets an arena of its own and memory freed there stays there: with 16 viewers at 10,000
    torrents the FastCGI process peaked at 81.4 MB, with 2 arenas at 72.4 MB
    (tests/bench/bench_live.py; the GIL keeps threads from allocating at once anyway)."""
    if 'MALLOC_ARENA_MAX' in os.environ:
        return False
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):        # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1


M_ARENA_MAX = -8        # glibc's malloc.h


def main(argv=None):
    parser = argparse.ArgumentParser(description='pyroTorrent, a web interface to rTorrent. '
                                     'With no options it serves FastCGI on standard input, as spawn-fcgi runs it.')
    parser.add_argument('--config', help='configuration file (default: $PYROTORRENT_CONFIG or config.py)')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--fcgi', metavar='SOCKET|HOST:PORT', help='serve FastCGI on a unix socket or TCP address')
    where.add_argument('--http', metavar='HOST:PORT', help='serve plain HTTP (development, demo)')
    parser.add_argument('command', nargs='?', choices=['passwd', 'routes', 'worker', 'store'],
                        help='passwd: ask for a password and print its hash, for users in config.py; '
                             'routes: print every route with its role; '
                             'worker: run the worker (re-applies settings when rTorrent restarts); '
                             'store copy --from URL --to URL: copy a store into an empty one (docs/scaling.rst)')
    parser.add_argument('what', nargs='?', choices=['copy'], help=argparse.SUPPRESS)
    parser.add_argument('--from', dest='source', metavar='URL', help='store copy: the store to read (never changed)')
    parser.add_argument('--to', dest='destination', metavar='URL', help='store copy: the empty store to fill')
    args = parser.parse_args(argv)
    if args.command == 'store':
        if args.what != 'copy' or not (args.source and args.destination):
            parser.error('say: pyrotorrent.py store copy --from sqlite:////PATH --to postgresql://...')
        return store_copy(args.source, args.destination)
    if args.command == 'passwd':
        return passwd()
    if args.command == 'routes':
        return print_routes()
    if args.command == 'worker':
        from lib.worker import process
        return process.run(args.config)
    logging.basicConfig(level=logging.WARNING, format='pyrotorrent: %(levelname)s %(message)s')
    fewer_malloc_arenas()
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
    try:
        app = make_app(config)
    except UnknownClient as exc:
        print('pyrotorrent: %s: %s' % (config.path, exc), file=sys.stderr)
        return 2
    if args.http:
        from werkzeug.serving import run_simple
        host, port = _address(parser, args.http)
        if config.AUTH and not config.users and not _loopback_host(host):
            parser.error('%s is not a loopback address, and config.py declares no users: add users '
                         '(python pyrotorrent.py passwd), or set AUTH = False to serve everyone' % host)
        static = serve_static(app, config.STATIC_URL, os.path.join(HERE, 'static'))
        run_simple(host, port, static, threaded=True, use_reloader=False)
        return 0
    from lib.fcgi import WSGIServer       # flup's, its thread pool mended: no request queues
    if args.fcgi:
        bind = args.fcgi if '/' in args.fcgi else _address(parser, args.fcgi)
        WSGIServer(app, bindAddress=bind).run()
    else:
        WSGIServer(app).run()
    return 0


def passwd():
    """Ask for a password twice (never echoed, never on the command line) and print its hash."""
    import getpass
    try:
        first = getpass.getpass('Password: ')
        if len(first) < 8:
            print('pyrotorrent: a password needs at least 8 characters', file=sys.stderr)
            return 1
        if getpass.getpass('Again: ') != first:
            print('pyrotorrent: the two passwords differ; nothing printed', file=sys.stderr)
            return 1
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return 1
    print(auth.hash_password(first))
    print("# in config.py: users = {'NAME': {'password': '<the line above>', 'role': 'user'}}", file=sys.stderr)
    return 0


def store_copy(source_url, destination_url):
    """Copy every row of one store into another, empty one, in one transaction (lib.store.copy_store)."""
    import socket
    from lib.store import copy_store
    try:
        source = Store.open(source_url, create=False)
        destination = Store.open(destination_url)
        copied = copy_store(source, destination, host=socket.gethostname(), pid=os.getpid())
    except StoreError as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        return 1
    for table, count in sorted(copied.items()):
        print('%-14s %d row(s)' % (table, count))
    print('copied %s into %s; the source is unchanged: set STORE to the new one on every host'
          % (source.path, destination.path))
    return 0


def print_routes():
    """The route table: rule, methods, least role, handler."""
    for rule in sorted(URL_MAP.iter_rules(), key=lambda r: r.rule):
        methods = ','.join(sorted(m for m in rule.methods if m not in ('HEAD', 'OPTIONS')))
        print('%-56s %-9s %-7s %s' % (rule.rule, methods, rule.role, rule.endpoint))
    return 0


def _loopback_host(host):
    return host == 'localhost' or auth.is_local(host.strip('[]'))


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
