"""Several `pyrotorrent.py worker` processes on one PostgreSQL store (as on several hosts):
exactly one acts, a standby takes over within two ticks of the active one's death, and a
worker that was paused past its lease comes back as a standby that writes nothing: the
settings re-apply after an rtorrent restart happens once across the change."""
import os
import signal
import time

import pytest

from lib.store import Store, StoreError
from lib.worker import lease_seconds
from tests import rig
from tests.workers import WorkerProcess, write_config

TICK = 1.0
SLACK = 2.0           # starting a query and scheduling on a busy 2-core machine, not a tick
KiB = 1024


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('scale-worker-rt').daemon


@pytest.fixture
def setup(tmp_path, daemon, postgres):
    url = postgres.database('worker_%s' % os.urandom(3).hex())
    config_path = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=url,
                               WORKER_TICK_SECONDS=TICK)
    return config_path, Store.open(url)


def holder_pid(store):
    lease = store.lease('worker')
    return lease.pid if lease else None


def reapplied(worker, instance):
    return worker.log().count('(instance %s)' % instance)


def restart(daemon):
    old = daemon.call('system.pid')
    daemon.stop()
    daemon.start()
    assert daemon.call('system.pid') != old
    return daemon.call('system.pid')


def test_the_lease_is_two_ticks():
    assert lease_seconds(TICK) == 2 * TICK and lease_seconds(5) == 10


def test_a_standby_takes_over_within_two_ticks_of_a_kill_and_reapplies_once(tmp_path, daemon, setup):
    config_path, store = setup
    daemon.call('throttle.global_down.max_rate.set', '', 0)
    store.put_values('t', 'desired', {'down_limit': 300 * KiB}, set_by='alice')
    first = WorkerProcess(config_path, str(tmp_path / 'first.log'))
    second = None
    try:
        rig.wait_for(lambda: holder_pid(store) == first.pid, 30, 'the first worker to take the lease')
        rig.wait_for(lambda: daemon.call('throttle.global_down.max_rate') == 300 * KiB, 30, 'the first to apply')
        second = WorkerProcess(config_path, str(tmp_path / 'second.log'))
        second.wait_log('pid %d) holds this store' % first.pid, 30)
        time.sleep(3 * TICK)
        assert holder_pid(store) == first.pid and 'took over' not in second.log()     # one acts

        first.stop(signal.SIGKILL)
        killed = store.now()
        instance = restart(daemon)             # while nobody acts: the new worker must catch it
        second.wait_log('took over the store', 30)
        took = store.lease('worker')
        assert took.pid == second.pid
        assert took.acquired_at - killed <= 2 * TICK + SLACK
        rig.wait_for(lambda: daemon.call('throttle.global_down.max_rate') == 300 * KiB, 30, 'the second to re-apply')
        time.sleep(3 * TICK)
        assert reapplied(first, instance) + reapplied(second, instance) == 1
        assert store.values('t', 'state')['applied_instance'].value == instance
        assert store.heartbeat('worker').pid == second.pid
    finally:
        for w in (first, second):
            if w is not None:
                w.stop()


def test_a_paused_worker_comes_back_as_a_standby_that_writes_nothing(tmp_path, daemon, setup):
    config_path, store = setup
    store.put_values('t', 'desired', {'down_limit': 200 * KiB}, set_by='alice')
    first = WorkerProcess(config_path, str(tmp_path / 'first.log'))
    second = None
    try:
        rig.wait_for(lambda: holder_pid(store) == first.pid, 30, 'the first worker to take the lease')
        rig.wait_for(lambda: daemon.call('throttle.global_down.max_rate') == 200 * KiB, 30, 'the first to apply')
        second = WorkerProcess(config_path, str(tmp_path / 'second.log'))
        second.wait_log('holds this store', 30)
        first.proc.send_signal(signal.SIGSTOP)            # frozen (a host that hangs): its lease runs out
        second.wait_log('took over the store', 30)
        instance = restart(daemon)
        rig.wait_for(lambda: reapplied(second, instance) == 1, 30, 'the second to re-apply')
        first.proc.send_signal(signal.SIGCONT)
        first.wait_log('pid %d) holds this store' % second.pid, 30)
        time.sleep(3 * TICK)
        assert holder_pid(store) == second.pid and store.heartbeat('worker').pid == second.pid
        assert reapplied(first, instance) == 0 and reapplied(second, instance) == 1
        assert first.alive()
    finally:
        for w in (first, second):
            if w is not None:
                if w.proc.poll() is None:
                    w.proc.send_signal(signal.SIGCONT)
                w.stop()


def test_a_holder_frozen_inside_a_write_does_not_block_the_take_over(tmp_path, setup):
    """A worker frozen (SIGSTOP, a hung host) in the middle of a write transaction holds the
    lease row's lock; PostgreSQL ends that idle transaction (nothing of it is written) so a
    standby still takes over, instead of waiting on the lock for ever."""
    import contextlib
    config_path, store = setup
    frozen = Store.open(store.url)
    assert frozen.acquire_lease('worker', 'frozen', 'hung-host', 1, 2 * TICK).held_by('frozen')
    with contextlib.ExitStack() as inside:
        tx = inside.enter_context(frozen.transaction(lease=('worker', 'frozen')))
        tx.execute("INSERT INTO target_value (target, kind, name, value, set_at, set_by) "
                   "VALUES ('t', 'desired', 'half', '1', 0, 'frozen')")
        standby = WorkerProcess(config_path, str(tmp_path / 'standby.log'))
        try:
            standby.wait_log('took over the store', 30)
            assert holder_pid(store) == standby.pid
        finally:
            standby.stop()
        with pytest.raises(StoreError):          # the frozen one's write was ended, not committed
            inside.close()
    assert 'half' not in store.values('t', 'desired')
    frozen.close()


class Sampler(WorkerProcess):
    def __init__(self, url, source, log_path):
        import subprocess
        import sys
        self.log_path = log_path
        with open(log_path, 'ab') as log:
            self.proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scale_sampler.py'),
                                          url, source, str(SAMPLE_TICK)], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)


SAMPLE_TICK = 0.3


def test_counts_sum_exactly_to_what_moved_across_kills_and_a_pause(tmp_path, postgres):
    url = postgres.database('sampler_%s' % os.urandom(3).hex())
    store, source = Store.open(url), str(tmp_path / 'moved')
    moved = [0]

    def move(n):
        moved[0] += n
        with open(source + '.new', 'w') as f:
            f.write(str(moved[0]))
        os.replace(source + '.new', source)

    def counted():
        values = store.values('t', 'sample')
        return values['counted'].value if 'counted' in values else None
    move(1000)
    workers = [Sampler(url, source, str(tmp_path / ('s%d.log' % i))) for i in range(3)]
    try:
        for round_ in range(4):
            active = rig.wait_for(lambda: [w for w in workers if w.alive() and w.pid == holder_pid(store)], 30,
                                  'a sampler to hold the lease')[0]
            for _ in range(5):
                move(12345 + round_)
                time.sleep(SAMPLE_TICK / 2)
            if round_ == 2:
                active.proc.send_signal(signal.SIGSTOP)     # frozen mid-transfer: resumed below
                rig.wait_for(lambda: holder_pid(store) not in (None, active.pid), 30, 'another to take over')
                active.proc.send_signal(signal.SIGCONT)
            else:
                active.stop(signal.SIGKILL)                 # killed mid-transfer
                workers.append(Sampler(url, source, str(tmp_path / ('s%d.log' % len(workers)))))
        rig.wait_for(lambda: counted() == moved[0], 30, 'the counts to catch up with what moved')
        time.sleep(4 * SAMPLE_TICK)
        assert counted() == moved[0]                        # every byte once: none twice, none lost
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGCONT)
            w.stop()
