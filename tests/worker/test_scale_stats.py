"""Issue 17's last clause with the real statistics: two `pyrotorrent.py worker` processes on
one PostgreSQL store, the active one killed (SIGKILL) in the middle of a real transfer
between two rtorrents; the standby takes over, and the bytes recorded are exactly what
moved: none lost to the kill, none counted twice by the two workers."""
import os
import signal

import pytest

from lib.store import Store
from model.stats import DAY, Reader
from tests import rig
from tests.workers import WorkerProcess, write_config

SIZE = 12 * 1024 * 1024
RATE_KB = 384                   # the leecher's limit: the transfer lasts about 30 s, three samples


@pytest.fixture(scope='module')
def pair(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('scale-stats'))
    with rig.seeder_and_leecher(workdir, down_kib=RATE_KB) as (seeder, leecher):
        yield swarm.tracker, seeder, leecher, workdir


def holder_pid(store):
    lease = store.lease('worker')
    return lease.pid if lease else None


def test_the_active_worker_killed_mid_transfer_loses_and_doubles_nothing(pair, postgres, tmp_path):
    tracker, seeder, leecher, workdir = pair
    url = postgres.database('stats_%s' % os.urandom(3).hex())
    config_path = write_config(str(tmp_path / 'config.py'), STORE=url, WORKER_TICK_SECONDS=1, STATS_SECONDS=10,
                               targets={'seeder': {'url': seeder.url}, 'leecher': {'url': leecher.url}})
    store = Store.open(url)
    first = WorkerProcess(config_path, str(tmp_path / 'a.log'))
    second = None
    try:
        first.wait_log('statistics begin', 30)                  # the baselines, before the transfer
        second = WorkerProcess(config_path, str(tmp_path / 'b.log'))
        second.wait_log('holds this store', 30)
        data = os.path.join(workdir, 'data')
        payload = rig.make_payload(data, 'failover.bin', SIZE)
        torrent = rig.make_torrent(payload, tracker.announce_url, os.path.join(workdir, 'failover.torrent'),
                                   piece_size_exp=18)
        h = seeder.seed(torrent, data, tracker)
        leecher.load(torrent, directory=leecher.download_dir)
        reader = Reader(store)
        rig.wait_for(lambda: 0 < reader.total(['leecher'], resolution=DAY)[1] < SIZE, 60,
                     'a sample in the middle of the transfer')
        assert holder_pid(store) == first.pid
        first.stop(signal.SIGKILL)
        rig.wait_for(lambda: holder_pid(store) == second.pid, 20, 'the standby to take the lease')
        leecher.wait(lambda: leecher.call('d.complete', h) == 1, 120, 'the transfer to end')
        moved_down, moved_up = leecher.call('d.down.total', h), seeder.call('d.up.total', h)
        rig.wait_for(lambda: reader.total(['leecher'], resolution=DAY)[1] >= moved_down, 40,
                     'the new worker to sample the end of the transfer')
        rig.wait_for(lambda: reader.total(['seeder'], resolution=DAY)[0] >= moved_up, 40, 'the seeder too')
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
    # exactly what moved, at every resolution, and for the torrent's own series
    for target, index, moved in (('leecher', 1, moved_down), ('seeder', 0, moved_up)):
        for resolution in (60, 3600, DAY):
            assert reader.total([target], resolution=resolution)[index] == moved, (target, resolution)
        assert reader.total([target], 'torrent', h, resolution=DAY)[index] == moved
