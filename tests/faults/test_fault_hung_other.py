"""Issue 21, item 5, performed for real: two real rtorrent daemons as two targets, the app
under spawn-fcgi behind real lighttpd, one daemon frozen with SIGSTOP and 10 viewers
loading its list at once; a list of the OTHER target must answer as usual, not queue
behind the hung one's timeouts.  TIMEOUT is large (20 s): "before the hung target's
requests timed out" is then the guarantee, not a speed figure.

The cause was flup's thread pool (lib/fcgi.py): connections arriving together were queued
behind busy threads; the other target's request waited for a hung one's timeout."""
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests import rig
from tests.bench.bench_live import CountingRelay
from tests.webapp import page_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 20
VIEWERS = 10


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """(base URL, hung daemon, its relay, other daemon): lighttpd + spawn-fcgi + two rtorrents."""
    work = str(tmp_path_factory.mktemp('hung-other'))
    hung = rig.RTorrentDaemon(os.path.join(work, 'hung')).start()
    other = rig.RTorrentDaemon(os.path.join(work, 'other')).start()
    relay = CountingRelay(hung)         # counts the round trips that reached the hung one
    fcgi_dir = os.path.join(work, 'fcgi')
    os.makedirs(fcgi_dir)
    socket_path = os.path.join(fcgi_dir, 'torrent.sock')
    cfg = os.path.join(fcgi_dir, 'config.py')
    with open(cfg, 'w') as f:
        f.write('BASE_URL = "/torrent"\nREFRESH_SECONDS = 0\nTIMEOUT = %d\n'
                'targets = {"hung": {"url": %r}, "other": {"url": %r}}\n' % (TIMEOUT, relay.url, other.url))
    with open(os.path.join(ROOT, 'docs', 'examples', 'lighttpd-prefix.conf')) as f:
        snippet = f.read().replace('/tmp/torrent.sock-1', socket_path).replace('/home/rtorrent/pyrotorrent', ROOT)
    port = rig.free_port()
    lighttpd = rig.Lighttpd(fcgi_dir, 'server.document-root = "%s"\nserver.port = %d\nserver.bind = "127.0.0.1"\n'
                            'server.errorlog = "%s/error.log"\n%s' % (fcgi_dir, port, fcgi_dir, snippet))
    app = rig.spawn_fcgi(socket_path, [sys.executable, os.path.join(ROOT, 'pyrotorrent.py')],
                         env=dict(os.environ, PYROTORRENT_CONFIG=cfg))
    try:
        lighttpd.start()
        yield 'http://127.0.0.1:%d/torrent' % port, hung, relay, other
    finally:
        app.stop()
        lighttpd.stop()
        relay.close()
        hung.stop()
        other.stop()


def get(url, timeout=3 * TIMEOUT):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode('utf-8')
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode('utf-8')


def test_a_hung_target_does_not_delay_another(site):
    base, hung, relay, other = site
    assert get(base + '/target/hung/')[0] == 200 and get(base + '/target/other/')[0] == 200
    events = []                             # (what, monotonic time), in the order they happened
    lock = threading.Lock()
    pages = []

    def viewer():
        status, page = get(base + '/target/hung/')
        with lock:
            events.append(('hung answered %d' % status, time.monotonic()))
            pages.append(page)

    asked_before = relay.count
    os.kill(hung.pid, signal.SIGSTOP)
    try:
        viewers = [threading.Thread(target=viewer) for _ in range(VIEWERS)]
        for t in viewers:
            t.start()
        # every viewer's request is inside the app, stuck on the hung daemon (or sharing one that is)
        time.sleep(2)
        asked = relay.count - asked_before
        start = time.monotonic()
        status, page = get(base + '/target/other/')
        took = time.monotonic() - start
        with lock:
            events.append(('other answered %d' % status, time.monotonic()))
            hung_answered = [e for e in events if e[0].startswith('hung')]
        for t in viewers:
            t.join(3 * TIMEOUT)
    finally:
        os.kill(hung.pid, signal.SIGCONT)
    assert status == 200 and "rTorrent 'other'" not in page, page[:500]
    assert asked >= 1, 'no viewer request reached the hung daemon: the test did not hang it'
    # the guarantee: the other target answered long before the hung one's requests timed out
    assert not hung_answered, 'the other target answered only after the hung one timed out: %r' % events
    assert took < TIMEOUT / 2, 'the other target waited %.1f s behind the hung one' % took
    assert [e[0] for e in events if e[0].startswith('hung')] == ['hung answered 504'] * VIEWERS
    for p in pages:
        assert "rTorrent 'hung'" in page_text(p) and 'did not answer in time' in page_text(p), page_text(p)[:800]


def test_the_mended_pool_gives_every_job_a_thread_and_shrinks_back():
    """Bursts of jobs, each holding its thread a while (as requests on a hung target do):
    none waits behind another, and the idle threads come back to maxSpare after."""
    from lib.fcgi import ThreadPool
    pool = ThreadPool(minSpare=1, maxSpare=5)
    release, started, done = threading.Event(), [], []

    class Job:
        def run(self):
            started.append(1)
            release.wait(30)
            done.append(1)
    for burst in range(4):
        for _ in range(7):
            assert pool.addJob(Job(), allowQueuing=False)
    rig.wait_for(lambda: len(started) == 28, 10, 'every job to have a thread while all are held')
    release.set()
    rig.wait_for(lambda: len(done) == 28, 10, 'every job to end')
    rig.wait_for(lambda: pool._workerCount == 5 and pool._idleCount == 5 and not pool._workQueue, 10,
                 'the pool to shrink back to its 5 spare threads')
    assert len([t for t in pool._threads if t.is_alive()]) == 5
