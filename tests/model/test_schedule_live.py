"""Profiles applied to a real rtorrent, with an injected clock: limits read back from
rtorrent itself, paused and seed-only stopping exactly what they must and starting exactly
those again, a torrent added while paused kept stopped, a restart of rtorrent and of the
worker mid-schedule."""
import datetime
import os
import signal

import pytest

from lib.store import Store
from model import schedule, settings, tasks
from model.clients.rtorrent import RTorrent
from tests import rig
from tests.workers import WorkerProcess, write_config

KiB = 1024
UTC = datetime.timezone.utc
MONDAY_23 = datetime.datetime(2026, 6, 1, 23, 0, tzinfo=UTC).timestamp()
EVENING = datetime.datetime(2026, 6, 1, 21, 0, tzinfo=UTC).timestamp()
TUESDAY_06 = datetime.datetime(2026, 6, 2, 6, 0, tzinfo=UTC).timestamp()
PROFILES = {'normal': {'kind': 'own'}, 'night': {'kind': 'limited', 'down_limit': 100 * KiB, 'up_limit': 50 * KiB},
            'alternative': {'kind': 'alt'}, 'paused': {'kind': 'paused'}, 'seed only': {'kind': 'seed_only'}}


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    """One rtorrent: a torrent seeding, one downloading (its tracker is nowhere), one the
    user stopped."""
    workdir = str(tmp_path_factory.mktemp('schedule'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt')).start()
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'seeded.bin', 256 * 1024)
    seeding = daemon.load(rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'a.torrent'),
                                           piece_size_exp=15), directory=data, start=True)
    downloading = daemon.load(rig.synthetic_torrents(1, seed='sched-down')[0], start=True)
    stopped = daemon.load_many(rig.synthetic_torrents(1, seed='sched-stopped'))[0]
    daemon.wait(lambda: daemon.call('d.complete', seeding) == 1 and daemon.call('d.is_active', seeding) == 1, 30,
                'the seeded torrent to be checked and active')
    yield {'daemon': daemon, 'workdir': workdir, 'seeding': seeding, 'downloading': downloading,
           'stopped': stopped}
    daemon.stop()


@pytest.fixture
def store(tmp_path, box):
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    yield store
    d = box['daemon']
    d.multicall([(c, ['', 0]) for c in ('throttle.global_down.max_rate.set', 'throttle.global_up.max_rate.set')])
    for h in (box['seeding'], box['downloading']):
        d.multicall([('d.open', [h]), ('d.start', [h]), ('d.resume', [h])])
    d.call('d.stop', box['stopped'])


def backend(box):
    return RTorrent(box['daemon'].url, name='t')


def night_schedule(store, **more):
    grid = schedule.validate(dict({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:00', 'to': '06:00', 'profile': more.pop('profile', 'night')}]}, **more))
    schedule.save(store, 't', grid, 'test', settings.desired_values(store, 't'))


def limits(daemon):
    return daemon.call('throttle.global_down.max_rate'), daemon.call('throttle.global_up.max_rate')


def started(daemon):
    return {h for h, s in daemon.rows(['d.hash', 'd.state']) if s == 1}


def test_a_limited_profile_is_a_layer_over_the_users_own_limits(box, store):
    daemon, b = box['daemon'], backend(box)
    settings.apply(store, b, {'down_limit': 500 * KiB}, 'alice')          # the user's own; up: rtorrent.rc's 0
    night_schedule(store)
    tasks.tick(store, b, tz=UTC, now=EVENING)
    assert limits(daemon) == (500 * KiB, 0)
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)
    assert limits(daemon) == (100 * KiB, 50 * KiB)                        # read back from rtorrent
    assert settings.desired_values(store, 't')['down_limit'] == 500 * KiB    # the user's stays theirs
    fields = {f.name: f for f in settings.view(store, b)[0]}
    assert not fields['down_limit'].in_force and not fields['down_limit'].drift
    # the user changes their own limit meanwhile: kept, not applied over the profile
    settings.apply(store, b, {'down_limit': 600 * KiB}, 'alice')
    assert limits(daemon) == (100 * KiB, 50 * KiB)
    tasks.tick(store, b, tz=UTC, now=TUESDAY_06)
    assert limits(daemon) == (600 * KiB, 0)                               # own again; up as rtorrent had it
    assert settings.current_layer(store, 't') is None
    kinds = [e.detail['profile'] for e in store.events('t', kinds=['schedule'])]
    assert kinds[:2] == ['normal', 'night']


def test_alternative_speeds_profile_uses_the_alt_limits(box, store):
    daemon, b = box['daemon'], backend(box)
    settings.apply(store, b, {'down_limit': 800 * KiB, 'up_limit': 400 * KiB, 'alt_down_limit': 64 * KiB,
                              'alt_up_limit': 32 * KiB}, 'alice')
    night_schedule(store, profile='alternative')
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)
    assert limits(daemon) == (64 * KiB, 32 * KiB)
    assert settings.desired_values(store, 't').get('alt_enabled') is None     # not the user's switch
    tasks.tick(store, b, tz=UTC, now=TUESDAY_06)
    assert limits(daemon) == (800 * KiB, 400 * KiB)


def test_an_alternative_profile_without_alt_limits_is_refused(box, store):
    with pytest.raises(ValueError, match='uses the alternative speeds, but none are set'):
        night_schedule(store, profile='alternative')
    assert 'grid' not in store.values('t', 'schedule')


def test_paused_stops_every_started_torrent_keeps_new_ones_stopped_and_resumes_exactly_those(box, store, tmp_path):
    daemon, b = box['daemon'], backend(box)
    night_schedule(store, profile='paused')
    tasks.tick(store, b, tz=UTC, now=EVENING)
    assert started(daemon) >= {box['seeding'], box['downloading']}
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)
    assert started(daemon) == set()
    assert set(store.held('t')) == {box['seeding'], box['downloading']}
    added = daemon.load(rig.synthetic_torrents(1, seed='sched-added')[0], start=True)    # added started
    added_stopped = daemon.load_many(rig.synthetic_torrents(1, seed='sched-added-stopped'))[0]
    try:
        tasks.tick(store, b, tz=UTC, now=MONDAY_23 + 60)
        assert started(daemon) == set()                                   # the new one obeys at once
        tasks.tick(store, b, tz=UTC, now=TUESDAY_06)
        assert started(daemon) == {box['seeding'], box['downloading'], added}
        assert box['stopped'] not in started(daemon) and added_stopped not in started(daemon)
        assert store.held('t') == {}
        did = [e.detail for e in store.events('t', kinds=['schedule']) if 'stopped' in e.detail]
        assert set(did[-1]['stopped']) == {box['seeding'], box['downloading']} and set(did[0]['started']) == {
            box['seeding'], box['downloading'], added}
    finally:
        daemon.call('d.erase', added)
        daemon.call('d.erase', added_stopped)


def test_seed_only_stops_downloads_and_lets_seeding_go_on(box, store):
    daemon, b = box['daemon'], backend(box)
    night_schedule(store, profile='seed only')
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)
    assert box['seeding'] in started(daemon) and box['downloading'] not in started(daemon)
    tasks.tick(store, b, tz=UTC, now=TUESDAY_06)
    assert {box['seeding'], box['downloading']} <= started(daemon) and box['stopped'] not in started(daemon)


def test_an_override_and_back_to_the_schedule(box, store):
    daemon, b = box['daemon'], backend(box)
    night_schedule(store)
    schedule.set_override(store, 't', 'paused', 'alice', EVENING, UTC)
    tasks.tick(store, b, tz=UTC, now=EVENING)
    assert started(daemon) == set()
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)                 # the next change ends the override
    assert limits(daemon) == (100 * KiB, 50 * KiB) and {box['seeding'], box['downloading']} <= started(daemon)
    assert 'override' not in store.values('t', 'schedule')
    schedule.set_override(store, 't', 'normal', 'alice', MONDAY_23 + 60, UTC)
    tasks.tick(store, b, tz=UTC, now=MONDAY_23 + 60)
    assert limits(daemon) == (0, 0)
    schedule.set_override(store, 't', None, 'alice', MONDAY_23 + 120, UTC)      # back to the schedule
    tasks.tick(store, b, tz=UTC, now=MONDAY_23 + 120)
    assert limits(daemon) == (100 * KiB, 50 * KiB)


def test_rtorrent_restarted_mid_schedule_gets_the_profile_back_within_a_tick(box, store):
    daemon, b = box['daemon'], backend(box)
    night_schedule(store, profile='paused')
    store.put_values('t', 'schedule', {'grid': dict(schedule.load(store, 't')[0], profiles=dict(
        PROFILES, paused={'kind': 'limited', 'down_limit': 100 * KiB, 'up_limit': 50 * KiB}))})
    tasks.tick(store, b, tz=UTC, now=MONDAY_23)
    assert limits(daemon) == (100 * KiB, 50 * KiB)
    daemon.stop()
    daemon.start()
    assert limits(daemon) == (0, 0)                             # rtorrent forgot it
    tasks.tick(store, b, tz=UTC, now=MONDAY_23 + 5)
    assert limits(daemon) == (100 * KiB, 50 * KiB)
    assert [e.kind for e in store.events('t', kinds=['restarted'])] == ['restarted']


def test_the_worker_restarted_mid_schedule_applies_the_profile_in_force_on_its_first_tick(box, tmp_path):
    """A real `pyrotorrent.py worker` and the real clock: every cell of the week is 'night'."""
    daemon = box['daemon']
    path = str(tmp_path / 'store.sqlite3')
    store = Store.open(path)
    grid = schedule.validate({'profiles': PROFILES, 'cells': ['night'] * 168})
    schedule.save(store, 't', grid, 'test')
    config = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=path,
                          WORKER_TICK_SECONDS=0.5, TIME_ZONE='Europe/Berlin')
    worker = WorkerProcess(config, str(tmp_path / 'worker.log'))
    try:
        rig.wait_for(lambda: limits(daemon) == (100 * KiB, 50 * KiB), 30, 'the worker to apply the night profile')
        assert worker.stop(signal.SIGTERM) == 0
        daemon.multicall([(c, ['', 0]) for c in ('throttle.global_down.max_rate.set', 'throttle.global_up.max_rate.set')])
        worker = WorkerProcess(config, str(tmp_path / 'worker2.log'))      # the store says it was applied
        rig.wait_for(lambda: limits(daemon) == (100 * KiB, 50 * KiB), 30, 'the new worker to catch up')
        assert 'profile night' in worker.log()
        old = daemon.call('system.pid')
        daemon.stop()
        daemon.start()
        assert daemon.call('system.pid') != old
        rig.wait_for(lambda: limits(daemon) == (100 * KiB, 50 * KiB), 30, 'the profile back after rtorrent restarted')
    finally:
        worker.stop()
        daemon.multicall([(c, ['', 0]) for c in ('throttle.global_down.max_rate.set', 'throttle.global_up.max_rate.set')])
    assert len([e for e in store.events('t', kinds=['schedule']) if 'stopped' not in e.detail]) == 1    # applied once, caught up silently
