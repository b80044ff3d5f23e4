"""The tests' fakes: a socket that misbehaves on purpose (answers garbage, a fault, or
trickles a byte at a time), for the faults no real daemon or web server can be made to
produce; and Totals, a stand-in client whose transfer totals a statistics test moves by
hand (no daemon's counters can be set).  Everything else in the tests is the real component."""
import socket
import threading
import time

from model.clients.interface import Capabilities
from model.clients.types import TorrentTotals, TransferTotals


class FakeServer:
    """Listens on a unix socket (unix_path) or on 127.0.0.1 (a free port: .port); each
    connection is read once (its request, up to 64 KiB) and handed to serve(conn, request)
    on a thread of its own.  A client that gives up is what the tests want: OSError there
    is ignored."""

    def __init__(self, serve, unix_path=None, backlog=16):
        self.serve, self.path = serve, unix_path
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
        else:
            self.sock = socket.socket()
            self.sock.bind(('127.0.0.1', 0))
            self.port = self.sock.getsockname()[1]
            self.base = 'http://127.0.0.1:%d' % self.port
        self.sock.listen(backlog)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return                       # closed
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            try:
                conn.settimeout(60)
                self.serve(conn, conn.recv(65536))
            except OSError:
                pass

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def answer(data):
    """serve(): send these bytes at once."""
    return lambda conn, request: conn.sendall(data)


def trickle(data, every=0.3):
    """serve(): send these bytes one at a time, `every` seconds apart."""
    def serve(conn, request):
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(every)
    return serve


class Totals:
    """A client with torrents whose totals a test moves by hand."""
    CAPABILITIES = Capabilities(client='Stand-in', actions=(), priorities={}, file_priorities={},
                                transfer_totals=True)

    def __init__(self, name='box'):
        self.name = name
        self.instance = 1
        self.torrents = {}          # hash -> [up, down, label, tracker, added]
        self.calls = []

    def add(self, h, label='', tracker='http://tracker.example.org:6969/announce', up=0, down=0, added=0):
        self.torrents[h] = [up, down, label, tracker, added]

    def move(self, h, up=0, down=0):
        self.torrents[h][0] += up
        self.torrents[h][1] += down

    def transfer_totals(self, details=False):
        self.calls.append(details)
        return TransferTotals(self.instance, [
            TorrentTotals(h, up, down, label, added, tracker if details else None, 'name of ' + h if details else None)
            for h, (up, down, label, tracker, added) in self.torrents.items()], details)
