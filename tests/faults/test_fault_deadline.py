"""Issue 21, item 4, performed for real: TIMEOUT bounds a page's work for one target, not
each round trip.  A real rtorrent behind a relay (tests/bench/bench_live.CountingRelay)
is frozen with SIGSTOP while it answers the list's first round trip (most of TIMEOUT),
and again before the second: the page answers within TIMEOUT (plus a generous margin),
not TIMEOUT after the second trip began, and says in words which target timed out."""
import os
import signal
import threading
import time

import pytest

from tests.bench.bench_live import CountingRelay
from tests.webapp import client, page_text

TIMEOUT = 4
FIRST_TRIP = 3.0            # seconds the daemon is frozen while it answers the first trip
MARGIN = 1.5                # a busy machine's overrun; a fresh TIMEOUT for the second trip is 3 s more


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('deadline').daemon


def test_a_list_page_ends_within_timeout_over_its_two_round_trips(daemon):
    relay = CountingRelay(daemon)
    web = client({'home': {'url': relay.url, 'timeout': TIMEOUT}})
    try:
        assert web.get('/target/home/').status_code == 200      # what it offers: asked, kept
        first = relay.count + 1
        trips = []

        def freeze(count):
            trips.append((count, time.monotonic()))
            os.kill(daemon.pid, signal.SIGSTOP)
            if count == first:          # busy for most of TIMEOUT on the first trip, then answers
                threading.Timer(FIRST_TRIP, os.kill, (daemon.pid, signal.SIGCONT)).start()
        relay.on_connect = freeze
        start = time.monotonic()
        try:
            response = web.get('/target/home/')
            took = time.monotonic() - start
        finally:
            relay.on_connect = None
            os.kill(daemon.pid, signal.SIGCONT)
        assert [c for c, _ in trips] == [first, first + 1], 'the page did not make two round trips: %r' % trips
        assert took < TIMEOUT + MARGIN, 'the page took %.1f s with TIMEOUT = %d s' % (took, TIMEOUT)
        assert response.status_code == 504
        text = page_text(response.get_data(as_text=True))
        assert "rTorrent 'home' at %s did not answer in time" % relay.url in text, text
        assert 'within %d s, this page' % TIMEOUT in text and '2 round trips' in text, text
        assert web.get('/target/home/').status_code == 200      # and the next page is whole again
    finally:
        relay.close()
