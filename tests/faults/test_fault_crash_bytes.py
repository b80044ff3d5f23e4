"""A leeching rTorrent killed (SIGKILL) in the middle of a real transfer, under the real
worker (issue 21, item 2): what moved between the last sample and the crash cannot be known,
what moves after the restart can.  The worker takes a new baseline as soon as it sees the new
instance, so at most the bytes since the last sample before the crash (and what moved in the
one tick before the worker looked again) are missing, none twice; the statistics page says
how much may be missing."""
import os
import signal
import time

import pytest

from lib.store import Store
from model.stats import DAY, Reader
from tests import rig
from tests.webapp import client, page_text
from tests.workers import WorkerProcess, write_config

SIZE = 32 * 1024 * 1024
RATE_KB = 1024                  # the leecher's limit: 32 s of transfer, three samples of 10 s
TICK = 1                        # the worker's tick (s)
STATS_SECONDS = 10              # the least config.py allows


@pytest.fixture(scope='module')
def pair(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('crash-bytes'))
    with rig.seeder_and_leecher(workdir, down_kib=RATE_KB) as (seeder, leecher):
        yield swarm.tracker, seeder, leecher, workdir


def test_a_leecher_killed_mid_transfer_loses_at_most_what_moved_since_the_last_sample(pair, tmp_path):
    tracker, seeder, leecher, workdir = pair
    path = str(tmp_path / 'store.sqlite3')
    config_path = write_config(str(tmp_path / 'config.py'), STORE=path, WORKER_TICK_SECONDS=TICK,
                               STATS_SECONDS=STATS_SECONDS, TIME_ZONE='UTC',
                               targets={'leecher': {'url': leecher.url}})
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        worker.wait_log('statistics begin', 30)                  # the baseline, before the transfer
        data = os.path.join(workdir, 'data')
        payload = rig.make_payload(data, 'crash.bin', SIZE)
        torrent = rig.make_torrent(payload, tracker.announce_url, os.path.join(workdir, 'crash.torrent'),
                                   piece_size_exp=18)
        h = seeder.seed(torrent, data, tracker)
        leecher.load(torrent, directory=leecher.download_dir)
        reader = Reader(Store.open(path))
        recorded = lambda: reader.total(['leecher'], resolution=DAY)[1]       # noqa: E731
        rig.wait_for(lambda: recorded() > 0, 60, 'a sample of the running transfer')
        # the crash just after a sample: what the unfixed sampler then lost is the most, what
        # cannot be known (moved since that sample) the least
        last = reader.sampled(['leecher'])['leecher']
        rig.wait_for(lambda: reader.sampled(['leecher'])['leecher'] != last, 30, 'the next sample', interval=0.02)
        at_crash = recorded()
        assert 0 < at_crash < SIZE * 0.8, 'the transfer was not in its middle: %d' % at_crash
        leecher.proc.send(signal.SIGKILL)
        leecher.proc.wait(10)
        sent_at_crash = seeder.call('d.up.total', h)             # what moved up to the crash
        leecher.start()                                          # again on its session folder
        leecher.wait(lambda: leecher.call('d.complete', h) == 1, 120, 'the transfer to end')
        real = seeder.call('d.up.total', h)                      # every byte that moved, once
        ended = time.time()
        rig.wait_for(lambda: reader.sampled(['leecher'])['leecher'] > ended, 3 * STATS_SECONDS,
                     'a sample after the end of the transfer')
    finally:
        worker.stop()
    got = recorded()
    unknowable = sent_at_crash - at_crash            # moved after the last sample, before the crash
    print('moved %d, recorded %d, missing %d; %d moved between the last sample and the crash'
          % (real, got, real - got, unknowable))
    assert got <= real, 'counted more than moved: %d > %d' % (got, real)
    # missing: at most the unknowable part and what moved in the worker's tick after the restart
    assert real - got <= unknowable + RATE_KB * 1024 * 2 * TICK, \
        'missing %d bytes; %d moved between the last sample and the crash' % (real - got, unknowable)
    restarts = reader.events(['leecher'], 0, 2 ** 40, ('restart',))
    assert len(restarts) == 1 and 'may be missing' in restarts[0].detail, restarts
    page = page_text(client({'leecher': leecher.url}, STORE=path, TIME_ZONE='UTC').get('/target/leecher/stats/')
                     .get_data(as_text=True))
    assert 'may be missing' in page


def test_a_new_instance_is_sampled_at_once_and_the_gap_says_how_much_may_be_missing(tmp_path):
    from model.stats import Policy, Sampler, time_zone
    from tests.fakes import Totals
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    box, sampler = Totals('box'), Sampler(store, Policy(seconds=60, zone=time_zone('UTC')))
    box.add('A' * 40)
    t = 1_800_000_000
    sampler.sample(box, now=t)
    box.move('A' * 40, down=60 * 1024 * 1024)
    sampler.sample(box, now=t + 60)                     # 1 MiB/s
    box.instance, box.torrents['A' * 40][1] = 2, 0      # killed: its counters start again
    assert sampler.sample(box, now=t + 65, instance=1) is None        # the same run: not due
    box.move('A' * 40, down=1000)
    said = sampler.sample(box, now=t + 70, instance=2)                # a new run: at once
    assert 'up to 10.0 MiB down and 0 B up, moved in the 10 s between the last sample and the restart, ' \
           'may be missing' in said
    box.move('A' * 40, down=5000)
    sampler.sample(box, now=t + 130, instance=2)
    assert Reader(store, time_zone('UTC')).total(['box'])[1] == 60 * 1024 * 1024 + 5000    # after the baseline: all
    # a sampler that never saw a rate (a worker started since) says the time alone
    box.instance = 3
    said = Sampler(store, Policy(seconds=60, zone=time_zone('UTC'))).sample(box, now=t + 140, instance=3)
    assert 'what moved in the 10 s between the last sample and the restart may be missing' in said
