"""lib/store.py on real SQLite files: creation, WAL, migrations, values, the lease."""
import os
import sqlite3
import threading

import pytest

from lib import config
from lib.store import SCHEMA_VERSION, Store, StoreError, sqlite_path
from tests.workers import open_at_once


def test_created_on_first_use_with_its_folder_in_wal_mode(tmp_path):
    path = str(tmp_path / 'new' / 'deeper' / 'store.sqlite3')
    store = Store.open(path)
    assert os.path.exists(path) and store.version() == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
        assert db.execute('SELECT version FROM schema_version').fetchall() == [(SCHEMA_VERSION,)]


def test_values_round_trip_per_target_and_kind_and_survive_reopening(tmp_path):
    path = str(tmp_path / 's.sqlite3')
    store = Store.open('sqlite:///' + path)
    store.put_values('home', 'desired', {'down_limit': 512000, 'groups': {'slow': {'up_limit': 1024}}},
                     set_by='alice', now=1000.0)
    store.put_values('box', 'desired', {'down_limit': 1})
    store.close()
    again = Store.open(path)
    values = again.values('home', 'desired')
    assert values['down_limit'].value == 512000 and values['down_limit'].set_at == 1000.0
    assert values['down_limit'].set_by == 'alice' and values['groups'].value == {'slow': {'up_limit': 1024}}
    assert again.values('home', 'state') == {} and again.values('box', 'desired')['down_limit'].value == 1
    again.put_values('home', 'desired', {'down_limit': None, 'up_limit': 0})
    assert set(again.values('home', 'desired')) == {'groups', 'up_limit'}
    assert sorted(again.targets('desired')) == ['box', 'home']


def test_a_store_of_an_older_schema_is_migrated_and_a_newer_one_refused(tmp_path):
    path = str(tmp_path / 'old.sqlite3')
    with sqlite3.connect(path) as db:          # what a store of schema 0 holds
        db.execute('CREATE TABLE schema_version (version INTEGER NOT NULL)')
        db.execute('INSERT INTO schema_version VALUES (0)')
    store = Store.open(path)
    assert store.version() == SCHEMA_VERSION
    store.put_values('t', 'desired', {'x': 1})
    store.close()
    with sqlite3.connect(path) as db:
        db.execute('UPDATE schema_version SET version = 99')
    with pytest.raises(StoreError, match='schema version 99, newer than this pyroTorrent knows'):
        Store.open(path)
    with sqlite3.connect(path) as db:          # nothing was dropped on the way
        assert db.execute('SELECT value FROM target_value').fetchall() == [('1',)]


def test_two_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path):
    path = str(tmp_path / 'race.sqlite3')
    assert open_at_once(path) == []
    with sqlite3.connect(path) as db:
        assert db.execute('SELECT version FROM schema_version').fetchall() == [(SCHEMA_VERSION,)]
    assert len(Store.open(path).values('t', 'k')) == 6


def test_a_folder_it_cannot_create_or_write_is_an_error_in_words(tmp_path):
    with pytest.raises(StoreError, match=r'cannot be created: its folder /proc/pyrotorrent is not writable by'):
        Store.open('/proc/pyrotorrent/store.sqlite3')
    if os.geteuid() != 0:          # root may write anywhere
        folder = tmp_path / 'ro'
        folder.mkdir()
        folder.chmod(0o500)
        with pytest.raises(StoreError, match='is not writable by'):
            Store.open(str(folder / 'store.sqlite3'))
    with pytest.raises(StoreError, match='does not exist yet'):
        Store.open(str(tmp_path / 'missing.sqlite3'), create=False)


def test_store_urls_and_the_config_default_beside_config_py(tmp_path):
    assert sqlite_path('sqlite:////var/x.db') == '/var/x.db'
    assert sqlite_path('data/s.db', base='/etc/pt') == '/etc/pt/data/s.db'
    with pytest.raises(StoreError, match=r'postgresql://u:\*\*\*@db/pt is a PostgreSQL database, not an SQLite file'):
        sqlite_path('postgresql://u:secret@db/pt')
    with pytest.raises(StoreError, match="unknown kind of store 'redis'"):
        sqlite_path('redis://x')
    conf = config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}}, str(tmp_path / 'config.py'))
    assert sqlite_path(conf.store_url, conf.store_base) == str(tmp_path / 'data' / 'store.sqlite3')
    assert conf.WORKER_TICK_SECONDS == 5.0
    with pytest.raises(config.ConfigError, match='WORKER_TICK_SECONDS must be a number of seconds'):
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'WORKER_TICK_SECONDS': 0})
    with pytest.raises(config.ConfigError, match='STORE must be the path'):
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'STORE': 5})


def test_the_lease_has_one_holder_until_released_or_expired(tmp_path):
    path = str(tmp_path / 'lease.sqlite3')
    one, two = Store.open(path), Store.open(path)       # two connections, as two processes have
    assert one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=100).holder == 'A'
    taken = two.acquire_lease('worker', 'B', 'hostB', 22, 10, now=105)
    assert (taken.holder, taken.host, taken.pid) == ('A', 'hostA', 11)
    renewed = one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=108)
    assert renewed.expires_at == 118 and renewed.acquired_at == 100
    assert two.acquire_lease('worker', 'B', 'hostB', 22, 10, now=117).holder == 'A'
    assert two.acquire_lease('worker', 'B', 'hostB', 22, 10, now=119).holder == 'B'    # expired
    assert one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=120).holder == 'B'
    one.release_lease('worker', 'A')                    # not its own: nothing happens
    assert two.lease('worker').holder == 'B'
    two.release_lease('worker', 'B')
    assert one.lease('worker') is None
    assert one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=121).holder == 'A'


def test_racing_for_the_lease_never_gives_it_to_two(tmp_path):
    path = str(tmp_path / 'race-lease.sqlite3')
    Store.open(path)
    winners = []

    def race(holder):
        store = Store.open(path)
        if store.acquire_lease('worker', holder, 'h', 1, 60).holder == holder:
            winners.append(holder)
    threads = [threading.Thread(target=race, args=('w%d' % i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_heartbeat(tmp_path):
    store = Store.open(str(tmp_path / 'hb.sqlite3'))
    assert store.heartbeat('worker') is None
    store.beat('worker', 'A', 'host', 5, 2.0, now=1000)
    beat = store.heartbeat('worker')
    assert beat.ticked_at == 1000 and beat.recent(now=1007) and not beat.recent(now=1009)
