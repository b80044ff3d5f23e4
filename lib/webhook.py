"""Messages POSTed as JSON to one URL, from a thread of their own: the worker's tick only
puts a message in the store's outbox (one small write) and never waits for the server.

Each attempt has one deadline, DEADLINE seconds for the whole of it (connect, send, read the
status: lib/deadline.py shuts the socket down when it is up, so a server that trickles a
byte a second cannot hold an attempt longer); an answer other than 2xx, a refused
connection or a server that does not answer in time is tried again later, ATTEMPTS times in all, waiting BACKOFF, 2 x BACKOFF, 4 x BACKOFF... between
them; then the message is dropped with a line in the log.  The outbox is in the store, so
messages wait across a restart of the worker.

    hook = Webhook('https://example.org/hook', store).start()
    hook.send_later('home:finished:ABC..', {'kind': 'finished', ...})
    hook.stop()
"""
import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse

from lib.deadline import Deadline
from lib.store import StoreError
from lib.transport import basic_auth, redacted

DEADLINE = 5.0
ATTEMPTS = 5
BACKOFF = 2.0
log = logging.getLogger('pyrotorrent.webhook')


class Webhook:
    def __init__(self, url, store, deadline=DEADLINE, attempts=ATTEMPTS, backoff=BACKOFF, poll=1.0):
        if not url.lower().startswith(('http://', 'https://')):
            raise ValueError('a webhook URL is http:// or https://, not %r' % redacted(url))
        self.url, self.store = url, store
        self.shown = redacted(url)             # the log never holds its password or token
        self.auth = basic_auth(url)            # user:password in the URL: sent, as Basic auth
        self.deadline, self.attempts, self.backoff, self.poll = deadline, attempts, backoff, poll
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self.delivered = 0

    def send_later(self, key, payload):
        """Queue a message (once per key) and wake the sender; never blocks on the network."""
        self.store.enqueue(key, json.dumps(payload, sort_keys=True))
        self._wake.set()

    def start(self):
        self._thread = threading.Thread(target=self._run, name='webhook', daemon=True)
        self._thread.start()
        return self

    def stop(self, wait=None):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.deadline + 1 if wait is None else wait)

    def _run(self):
        while not self._stop.is_set():
            try:
                for message in self.store.due():
                    if self._stop.is_set():
                        break
                    self.deliver(message)
            except StoreError as exc:
                log.error('webhook: %s', exc)
            self._wake.wait(self.poll)
            self._wake.clear()

    def post(self, body):
        """One POST of `body` (bytes) within the deadline: (ok, why).  A redirect is not
        followed (a webhook answers, it does not send us on): it counts as a failure."""
        parts = urllib.parse.urlsplit(self.url)
        path = (parts.path or '/') + ('?' + parts.query if parts.query else '')
        cls = http.client.HTTPSConnection if parts.scheme.lower() == 'https' else http.client.HTTPConnection
        deadline = Deadline(self.deadline)
        conn = None
        try:
            conn = cls(parts.hostname, parts.port, timeout=deadline.remaining())
            conn.connect()
            deadline.watch(conn.sock)
            headers = {'Content-Type': 'application/json', 'User-Agent': 'pyroTorrent webhook'}
            if self.auth:
                headers['Authorization'] = self.auth
            conn.request('POST', path, body, headers)
            answer = conn.getresponse()
            answer.read(65536)
            if deadline.cut:            # a cut connection can look like the end of the answer
                raise socket.timeout()
            return 200 <= answer.status < 300, 'HTTP %d %s' % (answer.status, answer.reason)
        except (socket.timeout, http.client.HTTPException, OSError, ValueError) as exc:
            if deadline.cut or deadline.passed or isinstance(exc, socket.timeout):
                return False, 'no answer within %g s' % self.deadline
            if isinstance(exc, http.client.HTTPException):
                return False, 'the server did not answer HTTP (%s)' % exc.__class__.__name__
            return False, getattr(exc, 'strerror', None) or str(exc)
        finally:
            deadline.close()
            if conn is not None:
                conn.close()

    def deliver(self, message):
        """One attempt at one message; True if the server took it."""
        ok, why = self.post(message.body.encode('utf-8'))
        if ok:
            self.store.sent(message.key)
            self.delivered += 1
            return True
        attempts = message.attempts + 1
        if attempts >= self.attempts:
            self.store.sent(message.key)
            log.error('webhook %s: gave up on %s after %d attempts (%s)', self.shown, message.key, attempts, why)
        else:
            self.store.retry(message.key, attempts, time.time() + self.backoff * 2 ** (attempts - 1), why)
            log.warning('webhook %s: %s failed (%s); attempt %d of %d soon', self.shown, message.key, why,
                        attempts + 1, self.attempts)
        return False
