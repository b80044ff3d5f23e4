"""Helpers for tests that drive the WSGI app in-process (werkzeug's test client)."""
import html.parser
import threading
import time

from werkzeug.test import Client

from lib import config
from pyrotorrent import make_app


def client(targets, remote_addr='127.0.0.1', **settings):
    """A test client for an app with these targets ({name: url or {url:, timeout:}}), its
    requests coming from remote_addr (werkzeug's test client sets none; servers always do)."""
    targets = {name: (value if isinstance(value, dict) else {'url': value}) for name, value in targets.items()}
    settings.setdefault('REFRESH_SECONDS', 0)
    settings.setdefault('BASE_URL', '')
    return Client(from_address(make_app(config.from_dict(dict(settings, targets=targets))), remote_addr))


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
        elif tag == 'td' and self._row is not None:
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


def page_text(page):
    return ' '.join(' '.join(Rows(page).text).split())
