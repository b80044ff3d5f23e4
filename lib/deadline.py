"""One deadline for a whole network exchange, whatever the other side does.

A socket timeout bounds each read; a server that sends a byte a second never trips it.
Deadline.remaining() gives the seconds that remain (the timeout for the next step), and
watch(sock) arms a timer that shuts the socket down when the time is up, for reads a
library loops over itself (http.client reads headers line by line, urllib3 a body).

Within `with page():` (lib.web opens one around each request) the round trips to one target
share its first trip's deadline: Deadline.for_trip(target, seconds) gives each the time left of
those seconds, not a fresh timeout, so a page's work for a target ends within its timeout.
"""
import contextlib
import contextvars
import socket
import threading
import time

# target -> [the deadline its first round trip of this page set, round trips so far]
_page = contextvars.ContextVar('pyrotorrent_page_deadlines', default=None)


@contextlib.contextmanager
def page():
    """A page's work: each target's round trips in this block (and in threads started with a
    copy of this context) end within the `seconds` of its first one."""
    token = _page.set({})
    try:
        yield
    finally:
        _page.reset(token)


def page_at(target, seconds):
    """When this page's time for `target` ends (time.monotonic), its budget starting now if
    no round trip to it began yet; outside page(), `seconds` from now."""
    at = time.monotonic() + seconds
    targets = _page.get()
    if targets is None:
        return at
    return targets.setdefault(target, [at, 0])[0]


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.cut = False             # True once the timer shut a watched socket down
        self.trip_number = 1         # which of its page's round trips to that target
        self.page_bound = False      # True when the page's deadline is earlier than its own
        self._socks = []
        self._timer = None
        self._lock = threading.Lock()

    @classmethod
    def for_trip(cls, target, seconds):
        """A deadline of `seconds` for one round trip to `target` (any hashable: a transport);
        inside page(), no later than the first trip's to it in that page."""
        deadline = cls(seconds)
        targets = _page.get()
        if targets is not None:
            first = targets.setdefault(target, [deadline.at, 0])
            first[1] += 1
            deadline.trip_number = first[1]
            if first[0] < deadline.at:
                deadline.at, deadline.page_bound = first[0], True
        return deadline

    def remaining(self):
        """Seconds that remain, never below 0."""
        return 0.0 if self.cut else max(0.0, self.at - time.monotonic())

    @property
    def passed(self):
        return self.remaining() <= 0

    def watch(self, sock):
        """Shut `sock` down at the deadline (at once if it has passed)."""
        with self._lock:
            self._socks.append(sock)
            if self._timer is None:
                self._timer = threading.Timer(self.remaining(), self._cut)
                self._timer.daemon = True
                self._timer.start()
        if self.passed:
            self._cut()

    def _cut(self):
        with self._lock:
            self.cut = True
            socks = list(self._socks)
        for sock in socks:
            try:        # the plain socket's shutdown, under TLS too: it wakes a blocked recv
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Disarm the timer (the exchange is over)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._socks = []
