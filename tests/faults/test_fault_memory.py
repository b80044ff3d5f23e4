"""Issue 21, item 6, the mechanism that bounds memory under load, against a real rtorrent
behind a relay that counts its round trips (tests/bench/bench_live.CountingRelay):
simultaneous loads of the same list are one torrent_list (its two round trips, one decode),
and at most model.clients.interface.WHOLE_LISTS different whole lists are read at once in a process.
The daemon is frozen (SIGSTOP) on the first trip so that the loads really overlap; the
figures (peak memory) are tests/bench/bench_memory.py's."""
import os
import signal
import threading
import time

import pytest
from werkzeug.test import Client

from model.clients.interface import WHOLE_LISTS
from tests import rig
from tests.bench.bench_live import CountingRelay
from tests.webapp import Rows, client

LOADS = 8


@pytest.fixture(scope='module')
def daemon(make_box):
    d = make_box('memory').daemon
    d.load_many(rig.synthetic_torrents(30))
    return d


def overlapping(daemon, paths):
    """Load these paths at once, the daemon frozen from the first round trip until all are
    in; (connections the relay saw while frozen, all it saw, [(status, page)])."""
    relay = CountingRelay(daemon)
    web = client({'big': {'url': relay.url, 'timeout': 60}})
    app = web.application
    try:
        assert web.get('/target/big/').status_code == 200       # what it offers: asked, kept
        before = relay.count
        relay.on_connect = lambda count: count == before + 1 and os.kill(daemon.pid, signal.SIGSTOP)
        out = [None] * len(paths)

        def load(i):
            answer = Client(app).get(paths[i])
            out[i] = (answer.status_code, answer.get_data(as_text=True))
        threads = [threading.Thread(target=load, args=(i,)) for i in range(len(paths))]
        try:
            for t in threads:
                t.start()
            rig.wait_for(lambda: relay.count > before, 10, 'the first round trip')
            time.sleep(1.0)                 # the other loads reach the app meanwhile
            frozen = relay.count - before
        finally:
            os.kill(daemon.pid, signal.SIGCONT)
        for t in threads:
            t.join(60)
        return frozen, relay.count - before, out
    finally:
        relay.close()


def test_simultaneous_loads_of_one_list_are_one_round_trip_of_it(daemon):
    frozen, trips, out = overlapping(daemon, ['/target/big/?sort=size'] * LOADS)
    assert [status for status, _ in out] == [200] * LOADS
    names = [Rows(page).names for _, page in out]
    assert len(names[0]) == 30 and all(n == names[0] for n in names)
    # one torrent_list: its two round trips, whatever the number of loads (before: 2 each)
    assert (frozen, trips) == (1, 2), (frozen, trips)


def test_at_most_WHOLE_LISTS_different_lists_are_read_at_once(daemon):
    paths = ['/target/big/?sort=name', '/target/big/?sort=size', '/target/big/?sort=added',
             '/target/big/?sort=ratio']
    frozen, trips, out = overlapping(daemon, paths)
    assert [status for status, _ in out] == [200] * len(paths)
    assert frozen == WHOLE_LISTS, 'lists read at once while rTorrent was frozen: %d' % frozen
    assert trips == 2 * len(paths)
