"""A paused or seed-only profile stops a torrent added (or started) from outside within ONE
worker tick, not within EVENTS_SECONDS: between the looks at every torrent each tick asks
only rTorrent's 'started' / 'leeching' view (Transmission: a torrent-get of five small
fields).  Real rtorrent and transmission-daemon, an injected monotonic clock; and a real
`pyrotorrent.py worker` whose EVENTS_SECONDS is 300.

What the profile stopped starts again when it ends, the torrents added started meanwhile
too (they were meant to run: the profile held them); one added stopped stays stopped."""
import datetime
import os
import time

import pytest

from lib.store import Store
from model import schedule, tasks
from model.clients.rtorrent import RTorrent
from model.clients.transmission import Transmission
from tests import rig
from tests.workers import WorkerProcess, write_config

UTC = datetime.timezone.utc
PROFILES = {'normal': {'kind': 'own'}, 'paused': {'kind': 'paused'}, 'seed only': {'kind': 'seed_only'}}


@pytest.fixture(scope='module')
def box(make_box):
    """One rtorrent: a torrent seeding (its data here), one downloading (its tracker is nowhere)."""
    made = make_box('quick')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'seeded.bin', 256 * 1024)
    seeding = daemon.load(rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'a.torrent'),
                                           piece_size_exp=15), directory=data, start=True)
    downloading = daemon.load(rig.synthetic_torrents(1, seed='quick-down')[0], start=True)
    daemon.wait(lambda: daemon.call('d.complete', seeding) == 1 and daemon.call('d.is_active', seeding) == 1, 30,
                'the seeded torrent to be checked and active')
    return {'daemon': daemon, 'workdir': workdir, 'data': data, 'seeding': seeding, 'downloading': downloading}


@pytest.fixture
def store(tmp_path, box):
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    yield store
    for h in (box['seeding'], box['downloading']):
        box['daemon'].multicall([('d.open', [h]), ('d.start', [h]), ('d.resume', [h])])


def every_cell(store, profile):
    schedule.save(store, 't', schedule.validate({'profiles': PROFILES, 'cells': [profile] * 168}), 'test')


def started(daemon):
    return {h for h, s in daemon.rows(['d.hash', 'd.state']) if s == 1}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Counting(RTorrent):
    """Counts the looks at every torrent (snapshot) and the small questions."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.snapshots, self.quick = 0, 0

    def snapshot(self):
        self.snapshots += 1
        return super().snapshot()

    def started_hashes(self, incomplete=False):
        self.quick += 1
        return super().started_hashes(incomplete)


def target_task(store, backend, clock):
    return tasks.TargetTask(store, backend, tz=UTC, tick_seconds=5, automate_seconds=15, clock=clock)


def test_paused_stops_one_added_from_outside_within_one_tick_and_starts_it_at_the_end(box, store):
    daemon, clock = box['daemon'], Clock()
    b = Counting(daemon.url, name='t')
    every_cell(store, 'paused')
    task = target_task(store, b, clock)
    task()                                          # the first tick catches up: one look, all stopped
    assert started(daemon) == set() and b.snapshots == 1
    added = daemon.load(rig.synthetic_torrents(1, seed='quick-added')[0], start=True)
    added_stopped = daemon.load_many(rig.synthetic_torrents(1, seed='quick-added-stopped'))[0]
    try:
        assert added in started(daemon)
        clock.now += 5                              # one tick later: no look at every torrent is due
        task()
        assert started(daemon) == set(), 'the torrent added started is stopped within one tick'
        assert b.snapshots == 1 and b.quick == 1
        assert store.held('t')[added] == 'paused'
        did = [e.detail for e in store.events('t', kinds=['schedule']) if 'stopped' in e.detail]
        assert did[0]['stopped'] == [added] and did[0]['profile'] == 'paused'
        clock.now += 5
        task()                                      # nothing more to stop: one small question, nothing done
        assert b.snapshots == 1 and b.quick == 2 and len(store.events('t', kinds=['schedule'])) == len(did) + 1
        every_cell(store, 'normal')                 # the profile ends: applied at the next tick, not in 15 s
        clock.now += 5
        task()
        assert b.snapshots == 2
        assert started(daemon) == {box['seeding'], box['downloading'], added}
        assert added_stopped not in started(daemon) and store.held('t') == {}
    finally:
        daemon.call('d.erase', added)
        daemon.call('d.erase', added_stopped)


def test_seed_only_stops_a_download_started_from_outside_within_one_tick_not_a_seed(box, store):
    daemon, clock = box['daemon'], Clock()
    b = Counting(daemon.url, name='t')
    every_cell(store, 'seed only')
    task = target_task(store, b, clock)
    task()
    assert started(daemon) == {box['seeding']}
    daemon.multicall([('d.open', [box['downloading']]), ('d.start', [box['downloading']])])     # by hand
    daemon.multicall([('d.stop', [box['seeding']]), ('d.start', [box['seeding']])])
    clock.now += 5
    task()
    assert started(daemon) == {box['seeding']} and b.snapshots == 1 and b.quick == 1
    assert set(store.held('t')) == {box['downloading']}


def test_the_quick_question_is_only_asked_while_a_profile_stops_torrents(box, store):
    daemon, clock = box['daemon'], Clock()
    b = Counting(daemon.url, name='t')
    every_cell(store, 'normal')
    task = target_task(store, b, clock)
    for _ in range(3):
        task()
        clock.now += 5
    assert b.snapshots == 1 and b.quick == 0
    assert started(daemon) >= {box['seeding'], box['downloading']}


def test_a_real_worker_stops_a_torrent_added_while_paused_within_two_ticks(box, tmp_path):
    """EVENTS_SECONDS = 300: before, the torrent ran until the next look, up to 300 s."""
    daemon = box['daemon']
    path = str(tmp_path / 'store.sqlite3')
    every_cell(Store.open(path), 'paused')
    cfg = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=path,
                       WORKER_TICK_SECONDS=1, EVENTS_SECONDS=300, TIME_ZONE='UTC')
    worker = WorkerProcess(cfg, str(tmp_path / 'worker.log'))
    added = None
    try:
        rig.wait_for(lambda: started(daemon) == set(), 30, 'the worker to apply the paused profile')
        time.sleep(1.5)                              # the catch-up look is over; the next is 300 s away
        added = daemon.load(rig.synthetic_torrents(1, seed='quick-worker')[0], start=True)
        assert added in started(daemon)
        rig.wait_for(lambda: added not in started(daemon), 2 * 1 + 1.0, 'the added torrent to be stopped')
    finally:
        assert worker.stop() == 0
        for h in (box['seeding'], box['downloading']):
            daemon.multicall([('d.open', [h]), ('d.start', [h]), ('d.resume', [h])])
        if added:
            daemon.call('d.erase', added)
    assert Store.open(path).held('t')[added] == 'paused'


def test_transmission_started_hashes_and_a_paused_profile_within_one_tick(tmp_path):
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        data = str(tmp_path / 'data')
        path = rig.make_payload(data, 'seed.bin', 256 * 1024)
        seeding = daemon.add(rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 's.torrent'),
                                              piece_size_exp=15), directory=data).upper()
        downloading = daemon.add(rig.synthetic_torrents(1, seed='quick-tr-down')[0]).upper()
        daemon.add(rig.synthetic_torrents(1, seed='quick-tr-paused')[0], paused=True)
        daemon.wait(lambda: {t['status'] for t in daemon.torrents(['status'], ids=[seeding.lower()])} == {6}, 30,
                    'the seed to be checked')
        b = Transmission(daemon.url, name='t')
        daemon.wait(lambda: set(b.started_hashes()) == {seeding, downloading}, 30, 'both to run')
        assert b.started_hashes(incomplete=True) == [downloading]
        store = Store.open(str(tmp_path / 'store.sqlite3'))
        every_cell(store, 'paused')
        clock = Clock()
        task = target_task(store, b, clock)
        task()
        assert set(store.held('t')) == {seeding, downloading}
        daemon.wait(lambda: b.started_hashes() == [], 10, 'the paused profile to stop both')
        added = daemon.add(rig.synthetic_torrents(1, seed='quick-tr-added')[0]).upper()
        daemon.wait(lambda: added in b.started_hashes(), 30, 'the added torrent to run')
        clock.now += 5
        task()
        assert store.held('t')[added] == 'paused'
        daemon.wait(lambda: b.started_hashes() == [], 10, 'the added one to stop (Transmission stops it soon after)')
    finally:
        daemon.stop()
