"""The store at start and under a lock (issue 21, item 3), with real processes: another
process holding SQLite's write lock while a fresh web app serves its first list page, and a
worker started while the store's folder is on a read-only mount."""
import os
import subprocess
import sys
import time

import pytest

from lib import auth
from lib.store import Store
from model import settings
from model.stats import Policy, Sampler, time_zone
from tests import rig, webapp
from tests.workers import WorkerProcess, write_config

HOLD_SECONDS = 15          # the lock holder's; the page must answer before it lets go
PASSWORD = 'a long password'
USERS = {'viewer': {'password': auth.hash_password(PASSWORD), 'role': 'viewer'}}

LOCKER = r'''
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute('BEGIN IMMEDIATE')
db.execute("INSERT INTO target_value (target, kind, name, value, set_at) VALUES ('x', 'x', 'x', '1', 0)")
print('locked', flush=True)
time.sleep(float(sys.argv[2]))
db.execute('ROLLBACK')
print('released', flush=True)
'''


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('fault-store').daemon


def test_a_fresh_web_app_logs_in_and_answers_its_list_page_while_another_process_holds_the_write_lock(
        daemon, tmp_path):
    path = str(tmp_path / 'store.sqlite3')
    web = webapp.client({'t': daemon.url}, STORE=path, users=USERS)
    store = Store.open(path)            # a current store with what a list page reads of it
    store.put_values('t', settings.DESIRED, {'down_limit': 512000}, set_by='alice')
    store.put_preference('viewer', 'columns', ['name', 'size'])
    store.beat('worker', 'w', 'host', 1, 60.0)
    Sampler(store, Policy(seconds=1, zone=time_zone('UTC'))).sample(webapp.backends(web)['t'])
    store.close()
    locker = subprocess.Popen([sys.executable, '-c', LOCKER, path, str(HOLD_SECONDS)], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == 'locked'
        logged_in = webapp.login(web, 'viewer', PASSWORD)
        answer = web.get('/target/t/')
        held = locker.poll() is None
        assert held, 'the pages waited until the other process let go of the store'
        assert logged_in.status_code == 303
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert 'locked' not in page and 'pyroTorrent keeps settings' not in page    # the store was read
    finally:
        locker.kill()
        locker.wait()


def test_opening_a_current_store_does_not_write(tmp_path):
    path = str(tmp_path / 'store.sqlite3')
    Store.open(path).close()
    locker = subprocess.Popen([sys.executable, '-c', LOCKER, path, str(HOLD_SECONDS)], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == 'locked'
        store = Store.open(path)
        assert locker.poll() is None, 'Store.open waited for the write lock of a current store'
        assert store.version() >= 1
    finally:
        locker.kill()
        locker.wait()


def _read_only_worker(tmp_path, daemon):
    """A worker whose store folder is a read-only bind mount in a mount namespace of its own
    (root ignores permission bits, not a read-only mount); remount(True) makes it writable."""
    folder = tmp_path / 'data'
    folder.mkdir()
    config = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}},
                          STORE=str(folder / 'store.sqlite3'), WORKER_TICK_SECONDS=1)
    worker = WorkerProcess(config, str(tmp_path / 'worker.log'),
                           prefix=['unshare', '-m', '--propagation', 'private', 'sh', '-c',
                                   'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder)])

    def writable():
        subprocess.run(['nsenter', '-t', str(worker.pid), '-m', 'mount', '-o', 'remount,bind,rw', str(folder)],
                       check=True)
    return worker, folder, writable


def test_a_worker_started_on_a_read_only_store_folder_waits_says_why_once_and_starts(daemon, tmp_path):
    worker, folder, writable = _read_only_worker(tmp_path, daemon)
    try:
        worker.wait_log('waiting', timeout=30)
        time.sleep(3.5)                           # three more tries at a tick of 1 s
        assert worker.alive(), 'the worker exited (%s): %s' % (worker.proc.returncode, worker.log())
        said = [line for line in worker.log().splitlines() if 'store' in line]
        assert len(said) == 1, said
        assert str(folder) in said[0] and 'read-only' in said[0], said[0]
        assert not os.path.exists(folder / 'store.sqlite3')
        writable()
        worker.wait_log('started on store', timeout=30)
        rig.wait_for(lambda: os.path.exists(folder / 'store.sqlite3') and Store.open(
            str(folder / 'store.sqlite3')).heartbeat('worker') is not None, 30, 'the worker to tick')
        state = Store.open(str(folder / 'store.sqlite3')).values('t', settings.STATE)
        assert 'instance' in state            # its target's task ran
    finally:
        assert worker.stop() == 0
