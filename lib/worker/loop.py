"""The worker's loop: one long-running process a store, ticking every few seconds.

It knows nothing of torrents: it is given tasks, each a name and a callable run once a
tick.  A task that raises is logged and the others go on (one target failing never stops
the rest).  Only one worker acts on a store at a time, on any number of hosts: it takes
the store's lease (lib.store.Store.acquire_lease) and renews it before each task and, from
a thread of its own, three times a lease; a second worker finds the lease held, says so
once, and waits until it is released (a clean stop) or expires (a killed worker: two ticks
at most, as it waits for the lease's end rather than its next tick).  A worker that cannot
renew in time stops acting at once, and what its tasks write goes through the lease
(lib.store.OnLease): a worker that was paused or cut off and comes back writes nothing.
SIGTERM and SIGINT end it cleanly after the task it is in: the lease is released.

    worker = Worker(store, [Task('settings home', check_home)], tick_seconds=5)
    worker = Worker(store, lambda store_on_lease: tasks_for(store_on_lease, backends))
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

from lib.store import LeaseLost, OnLease, Store, StoreError, StoreTooNew, engine_for

LEASE = 'worker'                # one worker a store: the lease and heartbeat rows' name
log = logging.getLogger('pyrotorrent.worker')


@dataclasses.dataclass
class Task:
    """Something the worker does every tick: run() with no arguments.  What it returns is
    logged at debug level; what it raises at error level, with the task's name."""
    name: str
    run: object


def lease_seconds(tick_seconds):
    """How long a lease lasts without renewal: two ticks, so a standby takes over at most two
    ticks after the active worker died; the active one renews it every third of that, so a
    slow tick never lets another worker in."""
    return 2.0 * tick_seconds


def open_store(url, base=None, retry_seconds=5.0, signals=True):
    """The store of STORE, opened as soon as it can be.  One that cannot be yet (its folder
    read-only, the database down, another process's lock) is said once, in words, and tried
    again every retry_seconds (said again only when the cause changes).  None if SIGTERM or
    SIGINT came first; StoreError at once for what waiting cannot mend (a STORE that is no
    store, one of a newer pyroTorrent)."""
    store, stop, said = Store(engine_for(url, base)), threading.Event(), None
    if signals:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    while True:
        try:
            return store.connect()
        except StoreTooNew:
            raise
        except StoreError as exc:
            if str(exc) != said:
                log.warning('%s. The worker is waiting for it, trying again every %g s', exc, retry_seconds)
                said = str(exc)
        if stop.wait(retry_seconds):
            return None


class Worker:
    def __init__(self, store, tasks, tick_seconds=5.0, lease_for=None, holder=None):
        self.store = store
        self.tick_seconds = float(tick_seconds)
        self.lease_for = lease_for or lease_seconds(self.tick_seconds)
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = holder or '%s:%d:%s' % (self.host, self.pid, uuid.uuid4().hex[:8])
        self.on_lease = OnLease(store, LEASE, self.holder)     # what tasks write through
        self.tasks = list(tasks(self.on_lease) if callable(tasks) else tasks)
        self.ticks = 0
        self._stop = threading.Event()
        self._waiting_for = None        # the holder we last said we wait for
        self._lock = threading.Lock()
        self._valid_until = 0.0         # monotonic time until which our lease surely holds
        self._lease = None              # the lease as last seen

    def stop(self, *_):
        self._stop.set()

    @property
    def stopping(self):
        return self._stop.is_set()

    def acting(self):
        """True while this worker's lease surely holds (renewed, and not near its end)."""
        with self._lock:
            return time.monotonic() < self._valid_until

    def holds_lease(self):
        """Take or renew the lease; True if this worker may act now."""
        asked = time.monotonic()
        try:
            before = self.store.lease(LEASE) if self._lease is None else None   # the first time: whose was it?
            lease = self.store.acquire_lease(LEASE, self.holder, self.host, self.pid, self.lease_for)
        except StoreError:
            self._lost('the store cannot be reached')
            raise
        self._lease = lease
        if lease.held_by(self.holder):
            with self._lock:            # measured from before the request: never too long
                self._valid_until = asked + self.lease_for * 0.9
            if self._waiting_for is not None or (before is not None and not before.held_by(self.holder)):
                log.warning('took over the store %s (the other worker is gone)', self.store.path)
                self._waiting_for = None
            return True
        self._lost('another worker took over')
        if self._waiting_for != lease.holder:
            log.warning('another worker (%s, pid %d) holds this store (%s); waiting',
                        lease.host, lease.pid, self.store.path)
            self._waiting_for = lease.holder
        return False

    def _lost(self, why):
        with self._lock:
            was = time.monotonic() < self._valid_until
            self._valid_until = 0.0
        if was:
            log.warning('lost the lease of the store %s (%s): stopped acting', self.store.path, why)

    def _keep(self):
        """The renewing thread: a third of a lease between renewals while this worker acts."""
        while not self._stop.wait(self.lease_for / 3.0):
            if self.acting():
                try:
                    self.holds_lease()
                except StoreError as exc:
                    log.error('%s', exc)

    def tick(self):
        """Run every task once (when this worker holds the lease), renewing it before each;
        the tasks' errors are logged, never raised.  Returns the number of tasks that
        failed, or None if another worker holds the store."""
        if not self.holds_lease():
            return None
        failed = 0
        for task in self.tasks:
            if self.stopping or not (self.acting() and self.holds_lease()):
                break
            try:
                result = task.run()
                if result:
                    log.info('%s: %s', task.name, result)
            except LeaseLost as exc:
                self._lost(str(exc))
                break
            except Exception as exc:        # one task failing never stops the others
                failed += 1
                log.error('%s failed: %s', task.name, exc)
                log.debug('%s failed', task.name, exc_info=True)
        if not self.acting():
            return None
        self.ticks += 1
        self.store.beat(LEASE, self.holder, self.host, self.pid, self.tick_seconds)
        return failed

    def _wait_seconds(self, next_tick):
        """Until the next tick; a standby wakes when the lease it waits for ends, if sooner."""
        wait = next_tick - time.monotonic()
        lease = self._lease
        if lease is not None and not lease.held_by(self.holder):
            try:
                wait = min(wait, lease.expires_at - self.store.now() + 0.05)
            except StoreError:
                pass
        return max(0.0, wait)

    def run(self, max_ticks=None, signals=True):
        """Tick until stopped (SIGTERM, SIGINT, stop()); tick times are kept to the schedule
        (a slow tick shortens the wait, never piles ticks up).  0 on a clean stop."""
        if signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.warning('worker %s started on store %s: %d task(s), a tick every %g s, a lease of %g s',
                    self.holder, self.store.path, len(self.tasks), self.tick_seconds, self.lease_for)
        keeper = threading.Thread(target=self._keep, name='lease', daemon=True)
        keeper.start()
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
                self._stop.wait(self._wait_seconds(next_tick))
        finally:
            self._stop.set()
            keeper.join(5)
            try:
                self.store.release_lease(LEASE, self.holder)
            except StoreError as exc:
                log.error('%s', exc)
            log.warning('worker %s stopped after %d tick(s)', self.holder, self.ticks)
        return 0
