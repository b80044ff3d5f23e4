"""Events are kept EVENTS_KEEP_DAYS: the worker's Pruner deletes older ones at most once an
hour, through its lease, in one transaction, on a real SQLite store and a real PostgreSQL
one (the same SQL); the newest event stays (the seq counter never goes back), and nothing
but events is touched (statistics, what was seen, held, fired, the outbox)."""
import pytest

from lib import config
from lib.store import LeaseLost, OnLease, Store
from model import events

DAY = 86400.0
NOW = 1_800_000_000.0
_count = [0]


@pytest.fixture(params=['sqlite', 'postgresql'])
def store(request, tmp_path):
    if request.param == 'sqlite':
        return Store.open(str(tmp_path / 'store.sqlite3'))
    _count[0] += 1
    return Store.open(request.getfixturevalue('postgres').database('retention%d' % _count[0]))


def fill(store):
    """Events 200, 100, 91, 89 and 1 days old on two targets, and a row in every other table."""
    for target in ('a', 'b'):
        store.record(target, [{'key': '%s:%d' % (target, age), 'kind': 'added', 'subject': 'H%d' % age,
                               'at': NOW - age * DAY, 'detail': {'name': 'n%d' % age}}
                              for age in (200, 100, 91, 89, 1)],
                     put={'H1': {'complete': True}}, now=NOW - 200 * DAY)
    store.hold('a', ['H200'], 'paused', NOW - 200 * DAY)
    store.mark_fired('a', 'rule', ['H200'], NOW - 200 * DAY)
    store.enqueue('a:a:200', '{}', NOW - 200 * DAY)
    store.run([('INSERT INTO stats_event (target, kind, started_at, ended_at, detail) VALUES (?, ?, ?, ?, ?)',
                ('a', 'restart', NOW - 300 * DAY, NOW - 300 * DAY, ''))])


def others(store):
    return {table: store.run([('SELECT COUNT(*) FROM %s' % table, ())], write=False)[0][0]
            for table in ('seen', 'held', 'fired', 'outbox', 'stats_event')}


def ages(store, target):
    return sorted(round((NOW - e.at) / DAY) for e in store.events(target, limit=1000))


def lease(store, holder='me'):
    assert store.acquire_lease('worker', holder, 'host', 1, 3600, now=None).held_by(holder)
    return OnLease(store, 'worker', holder)


def test_events_older_than_the_retention_go_and_nothing_else(store):
    fill(store)
    before = others(store)
    pruner = events.Pruner(lease(store), 90, clock=lambda: NOW)
    assert pruner() == 'deleted 6 event(s) older than 90 days'
    assert ages(store, 'a') == ages(store, 'b') == [1, 89]
    assert others(store) == before


def test_it_runs_at_most_once_an_hour_with_an_injected_clock(store):
    fill(store)
    now = [NOW]
    pruner = events.Pruner(lease(store), 90, clock=lambda: now[0])
    assert pruner().startswith('deleted 6')
    store.record('a', [{'key': 'a:old-again', 'kind': 'added', 'at': NOW - 150 * DAY},
                       {'key': 'a:today', 'kind': 'added', 'at': NOW}], now=NOW)
    now[0] += 3599
    assert pruner() is None and 150 in ages(store, 'a')          # not due yet: not even asked
    now[0] += 2
    assert pruner() == 'deleted 1 event(s) older than 90 days'
    assert ages(store, 'a') == [0, 1, 89]


def test_the_newest_event_stays_so_its_seq_goes_on(store):
    store.record('a', [{'key': 'k%d' % i, 'kind': 'added', 'at': NOW - (300 - i) * DAY} for i in range(3)], now=NOW)
    latest = max(e.seq for e in store.events('a'))
    assert events.prune(lease(store), 90, now=NOW) == 2
    assert [e.seq for e in store.events('a')] == [latest]
    new = store.record('a', [{'key': 'k-new', 'kind': 'added', 'at': NOW}], now=NOW)
    assert new[0].seq == latest + 1
    assert [e.key for e in store.events('a', since=latest)] == ['k-new']    # a page that saw `latest` gets it


def test_a_worker_that_lost_its_lease_deletes_nothing(store):
    fill(store)
    stale = lease(store, 'old')
    store.release_lease('worker', 'old')
    lease(store, 'new')
    with pytest.raises(LeaseLost, match='no longer holds the lease'):
        events.Pruner(stale, 90, clock=lambda: NOW)()
    assert len(ages(store, 'a')) == 5


def test_none_keeps_them_for_ever(store):
    fill(store)
    assert events.Pruner(lease(store), None, clock=lambda: NOW)() is None
    assert len(ages(store, 'a')) == 5


def test_the_config_key_is_checked_in_words():
    base = {'targets': {'a': {'url': 'scgi://127.0.0.1:5000'}}}
    assert config.from_dict(base).EVENTS_KEEP_DAYS == 90
    assert config.from_dict(dict(base, EVENTS_KEEP_DAYS=7)).EVENTS_KEEP_DAYS == 7.0
    assert config.from_dict(dict(base, EVENTS_KEEP_DAYS=None)).EVENTS_KEEP_DAYS is None
    for bad in (0, -3, '90', True, 10 ** 6):
        with pytest.raises(config.ConfigError, match='EVENTS_KEEP_DAYS must be a number of days from 1 to 36500'):
            config.from_dict(dict(base, EVENTS_KEEP_DAYS=bad))


def test_a_real_worker_prunes_on_its_first_tick(tmp_path):
    """`pyrotorrent.py worker` with EVENTS_KEEP_DAYS = 30 and a store holding old events: they
    go on its first tick, even with its one target unreachable (its task fails on its own)."""
    import time
    from tests import rig
    from tests.workers import WorkerProcess, write_config
    path = str(tmp_path / 'store.sqlite3')
    now = time.time()
    Store.open(path).record('t', [{'key': 'k%d' % age, 'kind': 'added', 'at': now - age * DAY}
                                  for age in (400, 31, 29, 0)], now=now)
    cfg = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': 'scgi://127.0.6.1:9'}}, STORE=path,
                       WORKER_TICK_SECONDS=0.5, EVENTS_KEEP_DAYS=30)
    worker = WorkerProcess(cfg, str(tmp_path / 'worker.log'))
    try:
        rig.wait_for(lambda: len(Store.open(path).events('t')) == 2, 30, 'the old events to be deleted')
    finally:
        assert worker.stop() == 0
    assert sorted(round((now - e.at) / DAY) for e in Store.open(path).events('t')) == [0, 29]
