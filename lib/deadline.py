"""One deadline for a whole network exchange, whatever the other side does.

A socket timeout bounds each read; a server that sends a byte a second never trips it.
Deadline.remaining() gives the seconds that remain (the timeout for the next step), and
watch(sock) arms a timer that shuts the socket down when the time is up, for reads a
library loops over itself (http.client reads headers line by line, urllib3 a body).
"""
import socket
import threading
import time


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.cut = False             # True once the timer shut a watched socket down
        self._socks = []
        self._timer = None
        self._lock = threading.Lock()

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
