"""Settings, statistics and schedules on a Transmission target, against a real
transmission-daemon 3.00: every mapped setting through the page, the header and the API,
read back with session-get (never from pyroTorrent's answer); alternative speeds as
Transmission's own; encryption presets, and the ones it cannot express refused; a daemon
restarted mid-session keeping its settings; totals and statistics from a real transfer;
a schedule that fits Transmission's timetable pushed to it."""
import os
import time

import pytest

from lib import metafile
from lib.store import Store
from model import schedule, settings, stats
from model.clients.types import RUN_SLACK, AddOptions, same_daemon_run
from model.clients.transmission import Transmission
from model.clients.transmission.rows import PRIORITIES
from tests import rig, webapp
from tests.webapp import page_text


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    d = rig.TransmissionDaemon(str(tmp_path_factory.mktemp('trs') / 'tr')).start()
    yield d
    d.stop()


@pytest.fixture
def store_path(tmp_path, daemon):
    yield str(tmp_path / 'store.sqlite3')
    daemon.call('session-set', **{'speed-limit-down-enabled': False, 'speed-limit-up-enabled': False,
                                  'alt-speed-enabled': False, 'alt-speed-down': 50, 'alt-speed-up': 50,
                                  'encryption': 'preferred', 'peer-limit-global': 200,
                                  'peer-limit-per-torrent': 50, 'alt-speed-time-enabled': False})


def web_for(daemon, store_path):
    return webapp.client({'tr': {'url': daemon.url, 'client': 'transmission'}}, STORE=store_path)


def token(web, path='/target/tr/settings'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def api(web, body):
    return web.post('/api/target/tr/settings', json=body, headers={'X-CSRF-Token': token(web)})


def session(daemon):
    return daemon.call('session-get')


def test_the_page_offers_only_what_transmission_has_and_each_field_is_read_back(daemon, store_path):
    web = web_for(daemon, store_path)
    page = web.get('/target/tr/settings').get_data(as_text=True)
    assert 'name="max_peers_global"' in page and 'name="alt_down_limit"' in page
    for absent in ('name="min_peers"', 'name="max_uploads"', 'name="new_group"', 'Speed groups'):
        assert absent not in page
    assert 'keeps whole kB/s (1000 bytes)' in page
    answer = web.post('/target/tr/settings', data={
        'csrf_token': token(web), 'down_limit': '300 kB/s', 'up_limit': '1.5 MB/s', 'alt_down_limit': '20 kB/s',
        'alt_up_limit': '10 kB/s', 'encryption': 'required_rc4', 'max_peers': '33', 'max_peers_global': '444'})
    assert answer.status_code == 303
    got = session(daemon)
    assert (got['speed-limit-down'], got['speed-limit-down-enabled']) == (300, True)
    assert (got['speed-limit-up'], got['speed-limit-up-enabled']) == (1500, True)
    assert (got['alt-speed-down'], got['alt-speed-up']) == (20, 10) and not got['alt-speed-enabled']
    assert got['encryption'] == 'required'
    assert (got['peer-limit-per-torrent'], got['peer-limit-global']) == (33, 444)
    text = page_text(web.get('/target/tr/settings').get_data(as_text=True))
    assert 'differs' not in text
    # 0 is unlimited: the -enabled flag goes off
    web.post('/target/tr/settings', data={'csrf_token': token(web), 'down_limit': '0'})
    assert session(daemon)['speed-limit-down-enabled'] is False


def test_the_api_rounds_to_whole_kb_and_says_so(daemon, store_path):
    web = web_for(daemon, store_path)
    answer = api(web, {'down_limit': 1500, 'up_limit': 2499, 'max_peers_global': 321})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    got = session(daemon)
    assert (got['speed-limit-down'], got['speed-limit-up'], got['peer-limit-global']) == (2, 2, 321)
    assert body['applied']['down_limit'] == 2000 and body['applied']['up_limit'] == 2000
    assert any('1,500 bytes/s is not a whole number of kB/s' in n for n in body['notes'])
    assert body['live']['down_limit'] == 2000 and body['live']['max_peers_global'] == 321
    assert api(web, {'min_peers': 3}).get_json()['refused']['min_peers'].startswith('Transmission has no such')
    assert 'groups' not in body['settings']


def test_alternative_speeds_are_transmissions_own(daemon, store_path):
    web = web_for(daemon, store_path)
    api(web, {'down_limit': 400000, 'alt_down_limit': 30000, 'alt_up_limit': 15000})
    body = api(web, {'alt_enabled': True}).get_json()
    got = session(daemon)
    # the turtle is switched on; the global limits stay the user's (not replaced by the alt ones)
    assert got['alt-speed-enabled'] is True and got['speed-limit-down'] == 400 and got['alt-speed-down'] == 30
    assert body['live']['alt_enabled'] is True and body['applied']['alt_enabled'] is True
    # the header's quick limits while alt speeds are on change the alt limits
    web.post('/target/tr/limits', data={'csrf_token': token(web), 'down_limit': '25 kB/s'})
    assert session(daemon)['alt-speed-down'] == 25
    web.post('/target/tr/limits', data={'csrf_token': token(web), 'alt_enabled': 'off'})
    got = session(daemon)
    assert got['alt-speed-enabled'] is False and got['speed-limit-down'] == 400
    refused = api(web, {'alt_down_limit': 0}).get_json()['refused']
    assert 'always a limit' in refused['alt_down_limit'] and session(daemon)['alt-speed-down'] == 25


def test_encryption_presets_and_the_refused_ones(daemon, store_path):
    web = web_for(daemon, store_path)
    for preset, value in (('allowed', 'tolerated'), ('preferred', 'preferred'), ('required_rc4', 'required')):
        body = api(web, {'encryption': preset}).get_json()
        assert session(daemon)['encryption'] == value and body['live']['encryption'] == preset
    for preset, words in (('disabled', 'cannot refuse encryption'), ('required', 'encrypted in full')):
        body = api(web, {'encryption': preset}).get_json()
        assert words in body['refused']['encryption']
        assert session(daemon)['encryption'] == 'required' and body['settings']['encryption'] == 'required_rc4'


def test_a_daemon_restarted_mid_session_keeps_its_settings(tmp_path):
    d = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        store = str(tmp_path / 's.sqlite3')
        web = webapp.client({'tr': {'url': d.url, 'client': 'transmission'}}, STORE=store)
        api(web, {'down_limit': 123000, 'alt_up_limit': 7000, 'encryption': 'allowed', 'max_peers': 21})
        first = Transmission(d.url)
        before = first.instance()
        # the same run whoever asks, and not the session id, which the daemon renews hourly
        assert Transmission(d.url).instance() == before == first.instance() != first.transport.session_id
        time.sleep(RUN_SLACK + 1)             # a run shorter than that is not told apart from the next
        d.stop()
        d.start(keep_settings=True)
        t = Transmission(d.url, name="tr")
        assert t.instance() != before and not same_daemon_run(t.instance(), before)
        body = web.get('/api/target/tr/settings').get_json()     # the old session id: a 409, then the new one
        assert body['restarted_since_applied'] is True and not body['drift']
        assert body['live']['down_limit'] == 123000 and body['live']['encryption'] == 'allowed'
        got = session(d)
        assert (got['speed-limit-down'], got['alt-speed-up'], got['encryption'], got['peer-limit-per-torrent']) \
            == (123, 7, 'tolerated', 21)
        # the worker's re-apply is harmless: the same values again
        words = settings.reapply_if_restarted(Store.open(store), t)
        assert 're-applied' in words and session(d)['speed-limit-down'] == 123
    finally:
        d.stop()


def test_statistics_and_the_snapshot_of_a_real_transfer_to_transmission(tmp_path):
    """rtorrent seeds to Transmission (add_peer); the sampler records the bytes Transmission
    counted (downloadedEver), by target, label and torrent; the snapshot sees it seeding."""
    seeder = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    d = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        data = str(tmp_path / 'data')
        size = 3 * 1024 * 1024 + 11
        path = rig.make_payload(data, 'stats.bin', size)
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 's.torrent'), piece_size_exp=16)
        h = seeder.load(body, directory=data, start=True)
        seeder.wait(lambda: seeder.call('d.complete', h) == 1, 30, 'the seeder to check its data')
        t = Transmission(d.url, name='tr')
        assert t.CAPABILITIES.transfer_totals
        assert t.add_torrents([metafile.parse(body, 's.torrent')],
                              AddOptions(start=True, label='linux', priority=0, priorities=PRIORITIES))[0].status == 'added'
        store = Store.open(str(tmp_path / 'store.sqlite3'))
        sampler = stats.Sampler(store, stats.Policy(seconds=60))
        now = time.time()
        sampler.sample(t, now=now)                                 # the baseline (nothing moved yet)
        seeder.call('add_peer', h, '%s:%d' % (d.bind, d.peer_port))
        d.wait(lambda: t.torrent(h)[1].state == 'seeding', 90, 'Transmission to download it from rtorrent')
        totals = t.transfer_totals(details=True)
        mine = [x for x in totals.torrents if x.hash == h.upper()][0]
        assert mine.down_total >= size and mine.label == 'linux' and mine.tracker == 'http://127.0.0.1:1/announce'
        assert totals.instance == t.instance()
        sampler.sample(t, now=now + 60)
        reader = stats.Reader(store)
        assert reader.total(['tr'])[1] >= size
        assert reader.total(['tr'], 'label', 'linux')[1] >= size
        assert reader.total(['tr'], 'torrent', h.upper())[1] >= size
        seen = {s.hash: s for s in t.snapshot()}[h.upper()]
        assert seen.state == 'seeding' and seen.complete and seen.downloaded >= size and seen.label == 'linux'
        assert seen.trackers == ('http://127.0.0.1:1/announce',) and seen.finished > now - 5
    finally:
        d.stop()
        seeder.stop()


def schedule_api(web, body):
    return web.post('/api/target/tr/schedule', json=body, headers={'X-CSRF-Token': token(web)})


def test_a_schedule_that_fits_the_timetable_is_pushed_to_transmission(daemon, store_path):
    web = web_for(daemon, store_path)
    api(web, {'alt_down_limit': 40000, 'alt_up_limit': 20000})
    fits = {'enabled': True, 'cell_minutes': 30, 'default': 'normal',
            'windows': [{'days': ['Monday', 'Wednesday', 'Sunday'], 'from': '01:30', 'to': '07:00',
                         'profile': 'alternative'}]}
    answer = schedule_api(web, fits)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()['run_by'] == 'client'
    got = session(daemon)
    assert got['alt-speed-time-enabled'] is True
    assert (got['alt-speed-time-begin'], got['alt-speed-time-end']) == (90, 420)
    assert got['alt-speed-time-day'] == 2 | 8 | 1                     # Monday, Wednesday, Sunday
    assert (got['alt-speed-down'], got['alt-speed-up']) == (40, 20)
    assert 'run by Transmission itself' in page_text(web.get('/target/tr/schedule').get_data(as_text=True))
    # two different windows do not fit: Transmission's timetable goes off, the worker runs it
    fits['windows'].append({'days': ['Friday'], 'from': '10:00', 'to': '11:00', 'profile': 'alternative'})
    assert schedule_api(web, fits).get_json()['run_by'] == 'worker'
    assert session(daemon)['alt-speed-time-enabled'] is False
    assert "run by pyroTorrent's worker" in page_text(web.get('/target/tr/schedule').get_data(as_text=True))


def test_two_estimates_of_one_run_are_the_same_run():
    assert same_daemon_run('started 1000', 'started 1002') and same_daemon_run('abc', 'abc')
    assert not same_daemon_run('started 1000', 'started 1003') and not same_daemon_run('abc', 'abd')
    assert not same_daemon_run(None, 'started 1000') and not same_daemon_run('started 1000', 'abc')
