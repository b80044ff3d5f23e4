"""Messages POSTed as JSON to one URL, from a thread of their own: the worker's tick only
puts a message in the store's outbox (one small write) and never waits for the server.

Each attempt has a deadline (every connect and read of it, DEADLINE seconds); an answer
other than 2xx, a refused connection or a server that does not answer in time is tried
again later, ATTEMPTS times in all, waiting BACKOFF, 2 x BACKOFF, 4 x BACKOFF... between
them; then the message is dropped with a line in the log.  The outbox is in the store, so
messages wait across a restart of the worker.

    hook = Webhook('https://example.org/hook', store).start()
    hook.send_later('home:finished:ABC..', {'kind': 'finished', ...})
    hook.stop()
"""
import json
import logging
import threading
import time
import urllib.error
import urllib.request

from lib.store import StoreError

DEADLINE = 5.0
ATTEMPTS = 5
BACKOFF = 2.0
log = logging.getLogger('pyrotorrent.webhook')


def _no_redirects():
    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):        # a webhook answers, it does not send us on
            return None
    return urllib.request.build_opener(Refuse)


class Webhook:
    def __init__(self, url, store, deadline=DEADLINE, attempts=ATTEMPTS, backoff=BACKOFF, poll=1.0):
        if not url.lower().startswith(('http://', 'https://')):
            raise ValueError('a webhook URL is http:// or https://, not %r' % url)
        self.url, self.store = url, store
        self.deadline, self.attempts, self.backoff, self.poll = deadline, attempts, backoff, poll
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self._opener = _no_redirects()
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

    def deliver(self, message):
        """One attempt at one message; True if the server took it."""
        request = urllib.request.Request(self.url, data=message.body.encode('utf-8'), method='POST', headers={
            'Content-Type': 'application/json', 'User-Agent': 'pyroTorrent webhook'})
        try:
            with self._opener.open(request, timeout=self.deadline) as answer:
                answer.read(65536)
                ok, why = 200 <= answer.status < 300, 'HTTP %d' % answer.status
        except urllib.error.HTTPError as exc:
            ok, why = False, 'HTTP %d %s' % (exc.code, exc.reason)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, 'reason', exc)
            ok, why = False, 'no answer within %g s' % self.deadline if 'timed out' in str(reason) else str(reason)
        if ok:
            self.store.sent(message.key)
            self.delivered += 1
            return True
        attempts = message.attempts + 1
        if attempts >= self.attempts:
            self.store.sent(message.key)
            log.error('webhook %s: gave up on %s after %d attempts (%s)', self.url, message.key, attempts, why)
        else:
            self.store.retry(message.key, attempts, time.time() + self.backoff * 2 ** (attempts - 1), why)
            log.warning('webhook %s: %s failed (%s); attempt %d of %d soon', self.url, message.key, why,
                        attempts + 1, self.attempts)
        return False
