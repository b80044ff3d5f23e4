"""The worker's loop: one long-running process a store, ticking every few seconds.

It knows nothing of torrents: it is given tasks, each a name and a callable run once a
tick.  A task that raises is logged and the others go on (one target failing never stops
the rest).  Only one worker acts on a store at a time: each tick it takes or renews the
store's lease (lib.store.Store.acquire_lease); a second worker finds the lease held, says
so once, and waits until it is released (a clean stop) or expires (a killed worker).
SIGTERM and SIGINT end it cleanly after the task it is in: the lease is released.

    worker = Worker(store, [Task('settings home', check_home)], tick_seconds=5)
    worker.run()           # until SIGTERM / SIGINT / worker.stop()
"""
import dataclasses
import logging
import os
import signal
import socket
import threading
import time
import uuid

from lib.store import StoreError

LEASE = 'worker'                # one worker a store: the lease and heartbeat rows' name
log = logging.getLogger('pyrotorrent.worker')


@dataclasses.dataclass
class Task:
    """Something the worker does every tick: run() with no arguments.  What it returns is
    logged at debug level; what it raises at error level, with the task's name."""
    name: str
    run: object


def lease_seconds(tick_seconds):
    """How long a lease lasts without renewal: three ticks, and never under 10 s (a slow
    tick must not let another worker in)."""
    return max(10.0, 3.0 * tick_seconds)


class Worker:
    def __init__(self, store, tasks, tick_seconds=5.0, lease_for=None, holder=None):
        self.store = store
        self.tasks = list(tasks)
        self.tick_seconds = float(tick_seconds)
        self.lease_for = lease_for or lease_seconds(self.tick_seconds)
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = holder or '%s:%d:%s' % (self.host, self.pid, uuid.uuid4().hex[:8])
        self.ticks = 0
        self._stop = threading.Event()
        self._waiting_for = None        # the holder we last said we wait for

    def stop(self, *_):
        self._stop.set()

    @property
    def stopping(self):
        return self._stop.is_set()

    def holds_lease(self):
        """Take or renew the lease; True if this worker may act now."""
        lease = self.store.acquire_lease(LEASE, self.holder, self.host, self.pid, self.lease_for)
        if lease.held_by(self.holder):
            if self._waiting_for is not None:
                log.warning('took over the store %s (the other worker is gone)', self.store.path)
                self._waiting_for = None
            return True
        if self._waiting_for != lease.holder:
            log.warning('another worker (%s, pid %d) holds this store (%s); waiting',
                        lease.host, lease.pid, self.store.path)
            self._waiting_for = lease.holder
        return False

    def tick(self):
        """Run every task once (when this worker holds the lease); the tasks' errors are
        logged, never raised.  Returns the number of tasks that failed, or None if another
        worker holds the store."""
        if not self.holds_lease():
            return None
        failed = 0
        for task in self.tasks:
            if self.stopping:
                break
            try:
                result = task.run()
                if result:
                    log.info('%s: %s', task.name, result)
            except Exception as exc:        # one task failing never stops the others
                failed += 1
                log.error('%s failed: %s', task.name, exc)
                log.debug('%s failed', task.name, exc_info=True)
        self.ticks += 1
        self.store.beat(LEASE, self.holder, self.host, self.pid, self.tick_seconds)
        return failed

    def run(self, max_ticks=None, signals=True):
        """Tick until stopped (SIGTERM, SIGINT, stop()); tick times are kept to the schedule
        (a slow tick shortens the wait, never piles ticks up).  0 on a clean stop."""
        if signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.warning('worker %s started on store %s: %d task(s), a tick every %g s',
                    self.holder, self.store.path, len(self.tasks), self.tick_seconds)
        next_tick = time.monotonic()
        try:
            while not self.stopping:
                try:
                    self.tick()
                except StoreError as exc:        # a locked or vanished store: say so, go on
                    log.error('%s', exc)
                if max_ticks is not None and self.ticks >= max_ticks:
                    break
                next_tick = max(next_tick + self.tick_seconds, time.monotonic())
                self._stop.wait(max(0.0, next_tick - time.monotonic()))
        finally:
            try:
                self.store.release_lease(LEASE, self.holder)
            except StoreError as exc:
                log.error('%s', exc)
            log.warning('worker %s stopped after %d tick(s)', self.holder, self.ticks)
        return 0
