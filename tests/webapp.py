"""Helpers for tests that drive the WSGI app in-process (werkzeug's test client), or as
its own process (pyrotorrent.py --http) for a browser."""
import contextlib
import html.parser
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from werkzeug.test import Client

from lib import config
from pyrotorrent import make_app
from tests import rig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# what the XSS tests' hostile names leave in a page's HTML when they were not escaped
MARKUP = re.compile(r'<img src=x|<svg onload|<script>window', re.I)


def csrf_token(page):
    """The CSRF token the forms of this page (HTML text) carry."""
    return CSRF_TOKEN.search(page).group(1)


def login(web, name, password, **fields):
    """Log in through the login form (its token first); the answer to the POST."""
    token = csrf_token(web.get('/login').get_data(as_text=True))
    return web.post('/login', data=dict({'name': name, 'password': password, 'csrf_token': token}, **fields))


def client(targets, remote_addr='127.0.0.1', **settings):
    """A test client for an app with these targets ({name: url or {url:, timeout:}}), its
    requests coming from remote_addr (werkzeug's test client sets none; servers always do)."""
    targets = {name: (value if isinstance(value, dict) else {'url': value}) for name, value in targets.items()}
    settings.setdefault('REFRESH_SECONDS', 0)
    settings.setdefault('BASE_URL', '')
    return Client(from_address(make_app(config.from_dict(dict(settings, targets=targets))), remote_addr))


class Box:
    """A real rtorrent in a folder of its own (.daemon, a rig.RTorrentDaemon in .workdir/rt, on
    its own address()), and apps in front of it (.web).  Made by the make_box fixture of
    tests/conftest.py, which stops it when the test module ends; daemon_options are
    rig.RTorrentDaemon's (scgi='tcp', extra_rc=...)."""

    def __init__(self, workdir, **daemon_options):
        self.workdir = workdir
        self.daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), **daemon_options)

    def start(self):
        self.daemon.start()
        return self

    def stop(self):
        self.daemon.stop()

    def web(self, store=None, users=None, login_as=None, name='t', target=None, **settings):
        """A test client of an app whose target `name` is this daemon (with the target options
        `target`), its store at `store` (a file, or a folder for a store.sqlite3 in it; None: no
        store), these users, logged in when login_as=(user, password); .store_path is the store."""
        if store is not None and os.path.isdir(store):
            store = os.path.join(store, 'store.sqlite3')
        if store is not None:
            settings['STORE'] = str(store)
        if users is not None:
            settings['users'] = users
        web = client({name: dict({'url': self.daemon.url}, **(target or {}))}, **settings)
        if login_as is not None:
            answer = login(web, *login_as)
            assert answer.status_code == 303, 'logging in as %r: %s' % (login_as[0], answer.status)
        web.store_path = None if store is None else str(store)
        return web


def from_address(app, remote_addr='127.0.0.1'):
    """The app, with every request coming from remote_addr unless the request says otherwise."""
    def wrapped(environ, start_response):
        environ.setdefault('REMOTE_ADDR', remote_addr)
        return app(environ, start_response)
    wrapped.pyrotorrent = app.pyrotorrent
    return wrapped


def backends(test_client):
    """The app's backends by name (to watch their round trips)."""
    return test_client.application.pyrotorrent.backends


class RoundTrips:
    """Counts requests each backend sends, and when each ran."""

    def __init__(self, test_client):
        self.calls = {}
        self.intervals = {}
        for name, backend in backends(test_client).items():
            self._wrap(name, backend)

    def _wrap(self, name, backend):
        real = backend.transport.request
        lock = threading.Lock()

        def request(body):
            start = time.monotonic()
            try:
                return real(body)
            finally:
                with lock:
                    self.calls[name] = self.calls.get(name, 0) + 1
                    self.intervals.setdefault(name, []).append((start, time.monotonic()))
        backend.transport.request = request

    def reset(self):
        self.calls.clear()
        self.intervals.clear()


class Rows(html.parser.HTMLParser):
    """The torrent rows of a list page: [{'hash':, 'cells': [text of each td]}]."""

    def __init__(self, page):
        super().__init__()
        self.rows, self._row, self._cell, self.text = [], None, None, []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'tr' and 'data-hash' in attrs:
            self._row = {'hash': attrs['data-hash'], 'cells': []}
        elif tag == 'td' and self._row is not None and attrs.get('class') != 'select':
            self._cell = []

    def handle_endtag(self, tag):
        if tag == 'td' and self._row is not None and self._cell is not None:
            self._row['cells'].append(''.join(self._cell).strip())
            self._cell = None
        elif tag == 'tr' and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)

    @property
    def names(self):
        return [row['cells'][0] for row in self.rows]


def post_add(web, files=(), links='', token=None, url='/target/box/add', **fields):
    """POST the add form: files are (bytes, filename) pairs; the token is web.token unless given."""
    data = {'csrf_token': web.token if token is None else token, 'links': links,
            'files': [(io.BytesIO(b), name) for b, name in files]}
    data.update(fields)
    return web.post(url, data=data, content_type='multipart/form-data')


class Results(html.parser.HTMLParser):
    """The result list of an add page: [(status, hash, text)], in order."""

    def __init__(self, page):
        super().__init__()
        self.items, self._item, self._depth = [], None, 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'li' and 'data-status' in attrs:
            self._item = [attrs['data-status'], attrs['data-hash'], []]
        elif tag == 'a' and self._item is not None:
            self._item[2].append('[link %s]' % attrs['href'])

    def handle_endtag(self, tag):
        if tag == 'li' and self._item is not None:
            self._item[2] = ' '.join(''.join(self._item[2]).split())
            self.items.append(tuple(self._item))
            self._item = None

    def handle_data(self, data):
        if self._item is not None:
            self._item[2].append(data)


def fields(daemon, info_hash):
    """What an added torrent's options became, read back from its rtorrent (rig.RTorrentDaemon)."""
    names = ('d.name', 'd.directory', 'd.custom1', 'd.priority', 'd.state')
    return dict(zip(names, daemon.multicall([(name, [info_hash]) for name in names])))


def page_text(page):
    return ' '.join(' '.join(Rows(page).text).split())


@contextlib.contextmanager
def http_server(workdir, settings):
    """pyrotorrent.py --http on a free port with a config.py of these settings; yields the
    URL of its BASE_URL."""
    config_path = os.path.join(workdir, 'config.py')
    with open(config_path, 'w') as f:
        for key, value in settings.items():
            f.write('%s = %r\n' % (key, value))
    port = rig.free_port()
    log_path = os.path.join(workdir, 'pyrotorrent.log')
    with open(log_path, 'wb') as log:
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'),
                                 '--http', '127.0.0.1:%d' % port, '--config', config_path],
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        def check():
            if proc.poll() is not None:
                raise rig.RigError('pyrotorrent.py --http exited with %s: %s' % (proc.returncode, rig.log_tail(log_path)))
        rig.wait_for(lambda: socket.create_connection(('127.0.0.1', port), timeout=0.5).close() or True, 15,
                     'pyrotorrent.py --http to listen on port %d' % port, check=check)
        yield 'http://127.0.0.1:%d%s' % (port, settings.get('BASE_URL', '/torrent'))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def checks_allowed(seconds, free=5, first_wait=1.0):
    """How many guesses at one name the login throttle's rule (docs/security.rst) lets reach
    the password check in a burst lasting `seconds`: `free` at once, then one more after
    each wait (first_wait, then twice as long each time).  On a loaded machine a guess sent
    with the others may reach the server only after the first wait has passed."""
    allowed, waited, wait = free, first_wait, first_wait
    while waited <= seconds:
        allowed, wait = allowed + 1, wait * 2
        waited += wait
    return allowed
