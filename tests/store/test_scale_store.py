"""lib/store.py on a real PostgreSQL 15 (tests/servers.py): the same schema and migrations as
SQLite, the lease, writes on a lease, a lost connection, and `pyrotorrent.py store copy`
moving an SQLite store into PostgreSQL and back with nothing lost."""
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.parse

import pytest

from lib.store import SCHEMA_VERSION, LeaseLost, OnLease, Store, StoreError, copy_store
from tests.workers import open_at_once

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_count = [0]


@pytest.fixture
def pg_url(postgres):
    _count[0] += 1
    return postgres.database('store%d' % _count[0])


def dbname(url):
    return urllib.parse.urlsplit(url).path.lstrip('/')


def rows_of(store):
    """Every row of every table, sorted: what 'nothing lost' compares."""
    with store.transaction(write=False) as tx:
        return {table: sorted(tx.execute('SELECT * FROM %s' % table))
                for table in tx.engine.tables(tx.db)}


def test_the_same_schema_and_values_on_postgresql(pg_url, postgres, tmp_path):
    store = Store.open(pg_url)
    assert store.kind == 'postgresql' and store.version() == SCHEMA_VERSION
    store.put_values('home', 'desired', {'down_limit': 512000, 'groups': {'slow': {'up_limit': 1024}},
                                         'name': 'Zürich ☃'}, set_by='alice', now=1000.25)
    store.put_values('box', 'desired', {'down_limit': 1})
    store.close()
    again = Store.open(pg_url)
    values = again.values('home', 'desired')
    assert values['down_limit'].value == 512000 and values['down_limit'].set_at == 1000.25
    assert values['name'].value == 'Zürich ☃' and values['groups'].value == {'slow': {'up_limit': 1024}}
    again.put_values('home', 'desired', {'down_limit': None})
    assert set(again.values('home', 'desired')) == {'groups', 'name'}
    assert sorted(again.targets('desired')) == ['box', 'home']
    tables = {r[0] for r in postgres.query(dbname(pg_url),
                                           "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    lite = Store.open(str(tmp_path / 'same.sqlite3'))       # the same migrations on SQLite
    assert tables == {r[0] for r in lite.run([("SELECT name FROM sqlite_master WHERE type = 'table'", ())])}
    assert {'schema_version', 'target_value', 'lease', 'heartbeat'} <= tables


def test_an_older_schema_is_migrated_and_a_newer_refused(pg_url, postgres):
    name = dbname(pg_url)
    postgres.query(name, 'CREATE TABLE schema_version (version INTEGER NOT NULL)')
    postgres.query(name, 'INSERT INTO schema_version VALUES (0)')
    store = Store.open(pg_url)
    assert store.version() == SCHEMA_VERSION
    store.put_values('t', 'desired', {'x': 1})
    store.close()
    postgres.query(name, 'UPDATE schema_version SET version = 99')
    with pytest.raises(StoreError, match='schema version 99, newer than this pyroTorrent knows'):
        Store.open(pg_url)
    assert postgres.query(name, 'SELECT value FROM target_value') == [('1',)]


def test_processes_opening_a_new_database_at_once_migrate_it_once(pg_url, postgres):
    assert open_at_once(pg_url) == []
    assert postgres.query(dbname(pg_url), 'SELECT version FROM schema_version') == [(SCHEMA_VERSION,)]
    assert len(Store.open(pg_url).values('t', 'k')) == 6


def test_the_lease_has_one_holder_and_racing_never_gives_it_to_two(pg_url):
    one, two = Store.open(pg_url), Store.open(pg_url)
    assert one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=100).holder == 'A'
    assert two.acquire_lease('worker', 'B', 'hostB', 22, 10, now=105).holder == 'A'
    renewed = one.acquire_lease('worker', 'A', 'hostA', 11, 10, now=108)
    assert renewed.expires_at == 118 and renewed.acquired_at == 100
    assert two.acquire_lease('worker', 'B', 'hostB', 22, 10, now=119).holder == 'B'     # expired
    two.release_lease('worker', 'B')
    assert one.lease('worker') is None

    winners = []

    def race(holder):
        if Store.open(pg_url).acquire_lease('race', holder, 'h', 1, 60).holder == holder:
            winners.append(holder)
    threads = [threading.Thread(target=race, args=('w%d' % i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


@pytest.mark.parametrize('kind', ['sqlite', 'postgresql'])
def test_a_worker_that_lost_its_lease_writes_nothing(kind, tmp_path, pg_url):
    url = pg_url if kind == 'postgresql' else str(tmp_path / 's.sqlite3')
    store = Store.open(url)
    now = store.now()
    assert store.acquire_lease('worker', 'A', 'h', 1, 0.5, now=now - 1).holder == 'A'     # expired already
    with pytest.raises(LeaseLost, match="A no longer holds the lease 'worker'"):
        OnLease(store, 'worker', 'A').put_values('t', 'state', {'applied_instance': 1})
    store.acquire_lease('worker', 'B', 'h', 2, 60)                                     # B took over
    with pytest.raises(LeaseLost):
        with OnLease(store, 'worker', 'A').transaction() as tx:
            tx.execute("INSERT INTO target_value VALUES ('t', 'state', 'x', '1', 0, '')")
    assert store.values('t', 'state') == {}
    OnLease(store, 'worker', 'B').put_values('t', 'state', {'applied_instance': 1})
    assert store.values('t', 'state')['applied_instance'].value == 1


def test_a_lost_connection_is_an_error_in_words_then_made_anew(pg_url, postgres):
    store = Store.open(pg_url)
    store.put_values('t', 'k', {'a': 1})
    postgres.query('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'pyrotorrent' AND datname = %s",
                   (dbname(pg_url),))
    with pytest.raises(StoreError, match='the store postgresql://pyrotorrent@/store.* failed: '):
        store.values('t', 'k')
    assert store.values('t', 'k')['a'].value == 1


def test_an_unreachable_database_is_an_error_in_words(postgres):
    with pytest.raises(StoreError, match=r'the store postgresql://pyrotorrent:\*\*\*@127.0.0.1:1/x cannot be opened'):
        Store.open('postgresql://pyrotorrent:secret@127.0.0.1:1/x')


def copy_command(source, destination):
    return subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), 'store', 'copy',
                           '--from', source, '--to', destination], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def fill(store):
    for i in range(300):
        store.put_values('target%d' % (i % 7), 'desired' if i % 2 else 'state',
                         {'value%d' % i: {'n': i, 'text': 'é☃' * (i % 5), 'float': i / 7}},
                         set_by='user%d' % (i % 3), now=1700000000 + i / 3)
    store.beat('worker', 'old', 'host-a', 4242, 5.0, now=1700000500.125)
    store.acquire_lease('worker', 'old', 'host-a', 4242, 10, now=1700000490.5)        # long expired


def test_store_copy_moves_sqlite_into_postgresql_and_back_with_nothing_lost(tmp_path, pg_url):
    sqlite_url = 'sqlite:///' + str(tmp_path / 'store.sqlite3')
    source = Store.open(sqlite_url)
    fill(source)
    before = rows_of(source)
    source.close()

    done = copy_command(sqlite_url, pg_url)
    assert done.returncode == 0, done.stderr
    assert 'target_value   300 row(s)' in done.stdout and 'heartbeat      1 row(s)' in done.stdout
    assert 'the source is unchanged' in done.stdout
    assert rows_of(Store.open(sqlite_url)) == before                  # never deleted, nor changed
    assert rows_of(Store.open(pg_url)) == before                      # every row, every value

    back_url = 'sqlite:///' + str(tmp_path / 'back.sqlite3')
    copied = copy_store(Store.open(pg_url), Store.open(back_url))
    assert {t: n for t, n in copied.items() if n} == {'target_value': 300, 'heartbeat': 1, 'lease': 1}
    assert rows_of(Store.open(back_url)) == before                    # the round trip
    with sqlite3.connect(str(tmp_path / 'back.sqlite3')) as db:
        assert db.execute('SELECT version FROM schema_version').fetchall() == [(SCHEMA_VERSION,)]


def test_store_copy_refuses_a_destination_that_is_not_empty_in_words(tmp_path, pg_url):
    sqlite_url = str(tmp_path / 'store.sqlite3')
    fill(Store.open(sqlite_url))
    Store.open(pg_url).put_values('elsewhere', 'desired', {'down_limit': 5})
    done = copy_command(sqlite_url, pg_url)
    assert done.returncode == 1
    assert 'is not empty (table target_value holds 1 row(s)): pyroTorrent copies only into an empty store' \
        in done.stderr and 'nothing was copied' in done.stderr
    assert list(Store.open(pg_url).values('elsewhere', 'desired')) == ['down_limit']
    assert Store.open(pg_url).targets('state') == []


def test_store_copy_refuses_while_a_worker_holds_the_source(tmp_path, pg_url):
    sqlite_url = str(tmp_path / 'store.sqlite3')
    source = Store.open(sqlite_url)
    fill(source)
    source.acquire_lease('worker', 'live', 'host-b', 77, 60)
    done = copy_command(sqlite_url, pg_url)
    assert done.returncode == 1
    assert 'a worker (host-b, pid 77) is using the store' in done.stderr and 'stop "pyrotorrent.py worker"' in done.stderr
    assert Store.open(pg_url).targets('desired') == [] and source.lease('worker').holder == 'live'


def test_store_copy_of_a_missing_source_says_so(tmp_path, pg_url):
    done = copy_command(str(tmp_path / 'nothing.sqlite3'), pg_url)
    assert done.returncode == 1 and 'does not exist yet' in done.stderr
