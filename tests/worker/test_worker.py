"""`pyrotorrent.py worker` as real processes over a real rtorrent: it ticks, notices a
restart, keeps going past a target that fails, and only one worker acts on a store."""
import os
import signal
import time

import pytest

from lib.store import Store
from tests import rig
from tests.workers import WorkerProcess, write_config


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('worker-rt').daemon


def setup(tmp_path, daemon, **more):
    store = str(tmp_path / 'store.sqlite3')
    targets = dict({'good': {'url': daemon.url}}, **more.pop('targets', {}))
    config_path = write_config(str(tmp_path / 'config.py'), targets=targets, STORE=store,
                               WORKER_TICK_SECONDS=more.pop('tick', 0.5), **more)
    return config_path, store


def state(store, target):
    return {k: v.value for k, v in Store.open(store).values(target, 'state').items()}


def test_it_ticks_notes_the_instance_and_a_restart_and_stops_cleanly(tmp_path, daemon):
    config_path, store = setup(tmp_path, daemon)
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        rig.wait_for(lambda: state(store, 'good').get('instance') == daemon.call('system.pid'), 20,
                     'the worker to note the daemon instance')
        # the heartbeat is written when the tick that noted the instance has ended
        first = rig.wait_for(lambda: Store.open(store).heartbeat('worker'), 20, 'the first heartbeat')
        assert first.pid == worker.pid and first.tick_seconds == 0.5 and first.recent()
        rig.wait_for(lambda: Store.open(store).heartbeat('worker').ticked_at > first.ticked_at, 10, 'another tick')
        old = daemon.call('system.pid')
        daemon.stop()
        daemon.start()
        assert daemon.call('system.pid') != old
        worker.wait_log("rTorrent 'good' restarted", 30)
        assert state(store, 'good')['instance'] == daemon.call('system.pid')
    finally:
        code = worker.stop(signal.SIGTERM)
    assert code == 0 and 'stopped after' in worker.log()
    assert Store.open(store).lease('worker') is None        # released on a clean stop


def test_a_failing_target_never_stops_the_others(tmp_path, daemon):
    config_path, store = setup(tmp_path, daemon, targets={
        'gone': {'url': 'scgi+unix://%s' % (tmp_path / 'no.socket'), 'timeout': 1}})
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        worker.wait_log('target gone failed: rTorrent \'gone\' at', 20)
        rig.wait_for(lambda: state(store, 'good').get('instance') == daemon.call('system.pid'), 20,
                     'the good target to be ticked over all the same')
        assert worker.alive()
    finally:
        worker.stop()


def test_a_second_worker_waits_and_takes_over_when_the_first_stops_or_is_killed(tmp_path, daemon):
    config_path, store = setup(tmp_path, daemon)
    first = WorkerProcess(config_path, str(tmp_path / 'first.log'))
    second = third = None
    try:
        rig.wait_for(lambda: Store.open(store).heartbeat('worker'), 20, 'the first worker to tick')
        second = WorkerProcess(config_path, str(tmp_path / 'second.log'))
        second.wait_log('another worker (%s, pid %d) holds this store' % (os.uname().nodename, first.pid), 20)
        assert 'waiting' in second.log()
        time.sleep(1.5)                 # several ticks: the heartbeat is still the first one's
        assert Store.open(store).heartbeat('worker').pid == first.pid
        first.stop(signal.SIGTERM)      # clean stop: lease released, the second takes over at once
        second.wait_log('took over the store', 10)
        rig.wait_for(lambda: Store.open(store).heartbeat('worker').pid == second.pid, 10, 'the second to tick')

        third = WorkerProcess(config_path, str(tmp_path / 'third.log'))
        third.wait_log('pid %d) holds this store' % second.pid, 20)
        second.stop(signal.SIGKILL)     # killed: the lease stays until it expires (10 s at most)
        killed_at = time.monotonic()
        third.wait_log('took over the store', 30)
        assert time.monotonic() - killed_at <= 15
        rig.wait_for(lambda: Store.open(store).heartbeat('worker').pid == third.pid, 10, 'the third to tick')
    finally:
        for w in (first, second, third):
            if w is not None:
                w.stop()


def test_an_unusable_store_is_said_in_words_once_and_waited_for(tmp_path, daemon):
    config_path = write_config(str(tmp_path / 'config.py'), targets={'good': {'url': daemon.url}},
                               STORE='/proc/pyrotorrent/store.sqlite3', WORKER_TICK_SECONDS=0.5)
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    worker.wait_log('trying again every 0.5 s')
    time.sleep(2)                       # four more tries
    assert worker.alive()
    assert worker.log().count('cannot be created: its folder /proc/pyrotorrent is not writable') == 1
    assert worker.stop() == 0           # SIGTERM while waiting: a clean stop
