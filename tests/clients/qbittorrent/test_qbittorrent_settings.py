"""Settings, statistics and schedules on a qBittorrent target, against a real qbittorrent-nox:
every mapped setting through the page and the API, read back with its own app/preferences
(never from pyroTorrent's answer); alternative speeds as its own; the encryption presets it
has, and the ones it cannot express refused in words; a restart keeping its settings and seen
as a restart; totals, statistics and the worker's snapshot from a real transfer; a schedule
run by pyroTorrent's worker."""
import time
from io import BytesIO

import pytest

from lib.store import Store
from model import settings, stats
from model.clients.qbittorrent import QBittorrent
from tests import rig, rig_qbittorrent, webapp
from tests.webapp import page_text


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    d = rig_qbittorrent.QBittorrentDaemon(str(tmp_path_factory.mktemp('qs') / 'q')).start()
    yield d
    d.stop()


@pytest.fixture
def web(tmp_path, daemon):
    yield webapp.client({'q': {'url': daemon.url, 'client': 'qbittorrent'}}, STORE=str(tmp_path / 'store.sqlite3'))
    daemon.post('app/setPreferences', json='{"dl_limit": 0, "up_limit": 0, "alt_dl_limit": 10240, '
                                           '"alt_up_limit": 10240, "encryption": 0, "max_connec": 500, '
                                           '"max_connec_per_torrent": 100}')
    if daemon.get('transfer/speedLimitsMode').text == '1':
        daemon.post('transfer/toggleSpeedLimitsMode')


def token(web, path='/target/q/settings'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def api(web, body):
    return web.post('/api/target/q/settings', json=body, headers={'X-CSRF-Token': token(web)})


def test_the_page_offers_what_qbittorrent_has_and_each_field_is_read_back(daemon, web):
    page = web.get('/target/q/settings').get_data(as_text=True)
    assert 'name="max_peers_global"' in page and 'name="alt_down_limit"' in page
    for absent in ('name="min_peers"', 'name="max_uploads"', 'name="new_group"', 'Speed groups'):
        assert absent not in page
    answer = web.post('/target/q/settings', data={
        'csrf_token': token(web), 'down_limit': '300 kB/s', 'up_limit': '1.5 MiB/s', 'alt_down_limit': '20 kB/s',
        'alt_up_limit': '10 KiB/s', 'encryption': 'required', 'max_peers': '33', 'max_peers_global': '444'})
    assert answer.status_code == 303
    got = daemon.json('app/preferences')
    assert (got['dl_limit'], got['up_limit'], got['alt_dl_limit'], got['alt_up_limit']) == \
        (293 * 1024, 1572864, 20 * 1024, 10240)         # whole KiB/s: it keeps no less (it would floor)
    assert (got['encryption'], got['max_connec_per_torrent'], got['max_connec']) == (1, 33, 444)
    assert daemon.get('transfer/speedLimitsMode').text == '0'
    assert 'differs' not in page_text(web.get('/target/q/settings').get_data(as_text=True))
    web.post('/target/q/settings', data={'csrf_token': token(web), 'down_limit': '0'})
    assert daemon.json('app/preferences')['dl_limit'] == 0


def test_alternative_speeds_are_its_own_and_the_header_shows_them(daemon, web):
    api(web, {'down_limit': 400000, 'alt_down_limit': 30000, 'alt_up_limit': 15000})
    body = api(web, {'alt_enabled': True}).get_json()
    assert daemon.get('transfer/speedLimitsMode').text == '1'
    assert daemon.json('app/preferences')['dl_limit'] == 391 * 1024       # the global limit stays the user's
    assert body['live']['alt_enabled'] is True and body['live']['alt_down_limit'] == 29 * 1024
    header = web.get('/api/target/q/torrents').get_json()['header']
    assert header['down_limit'] == 29 * 1024                               # what is in force now
    api(web, {'alt_enabled': False})
    assert daemon.get('transfer/speedLimitsMode').text == '0'


def test_encryption_presets_and_the_refused_ones(daemon, web):
    for preset, mode in (('disabled', 2), ('required', 1), ('preferred', 0)):
        body = api(web, {'encryption': preset}).get_json()
        assert daemon.json('app/preferences')['encryption'] == mode and body['live']['encryption'] == preset
    for preset, words in (('allowed', "no 'plain first' mode"), ('required_rc4', "is the preset 'required'")):
        body = api(web, {'encryption': preset}).get_json()
        assert words in body['refused']['encryption'] and daemon.json('app/preferences')['encryption'] == 0


def test_a_restart_keeps_its_settings_and_is_seen_as_one(tmp_path):
    d = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q')).start()
    try:
        store = str(tmp_path / 's.sqlite3')
        web = webapp.client({'q': {'url': d.url, 'client': 'qbittorrent'}}, STORE=store)
        api(web, {'down_limit': 123000, 'alt_up_limit': 7000, 'encryption': 'disabled', 'max_peers': 21})
        before = QBittorrent(d.url).instance()
        time.sleep(1.1)                 # its log counts whole seconds
        d.stop()
        d.start()
        q = QBittorrent(d.url, name='q')
        assert q.instance() != before
        body = web.get('/api/target/q/settings').get_json()
        assert body['restarted_since_applied'] is True and not body['drift']
        assert body['live']['down_limit'] == 120 * 1024 and body['live']['encryption'] == 'disabled'
        got = d.json('app/preferences')
        assert (got['dl_limit'], got['alt_up_limit'], got['encryption'], got['max_connec_per_torrent']) == \
            (120 * 1024, 7 * 1024, 2, 21)
        words = settings.reapply_if_restarted(Store.open(store), q)
        assert 're-applied' in words and d.json('app/preferences')['dl_limit'] == 120 * 1024
    finally:
        d.stop()


def test_statistics_and_the_snapshot_of_a_real_transfer_to_qbittorrent(tmp_path):
    tracker = rig.Tracker(str(tmp_path / 'tracker'), host=rig.address()).start()
    seeder = rig.RTorrentDaemon(str(tmp_path / 'rt'), bind=rig.address()).start()
    d = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q')).start()
    try:
        size = 3 * 1024 * 1024 + 11
        path = rig.make_payload(str(tmp_path / 'data'), 'stats.bin', size)
        body = rig.make_torrent(path, tracker.announce_url, str(tmp_path / 's.torrent'), piece_size_exp=16)
        h = seeder.seed(body, str(tmp_path / 'data'), tracker)
        q = QBittorrent(d.url, name='q')
        assert q.CAPABILITIES.transfer_totals
        store = Store.open(str(tmp_path / 'store.sqlite3'))
        sampler = stats.Sampler(store, stats.Policy(seconds=60))
        now = time.time()
        sampler.sample(q, now=now)                                 # the baseline: nothing there yet
        web = webapp.client({'q': {'url': d.url, 'client': 'qbittorrent'}})
        added = web.post('/target/q/add', data={'csrf_token': webapp.csrf_token(web.get('/target/q/add').get_data(
            as_text=True)), 'files': [(BytesIO(body), 's.torrent')], 'label': 'linux'}, content_type='multipart/form-data')
        assert 'data-status="added"' in added.get_data(as_text=True)
        d.wait(lambda: d.torrent(h)['progress'] == 1, 90, 'qBittorrent to download it from rtorrent')
        totals = q.transfer_totals(details=True)
        mine = [x for x in totals.torrents if x.hash == h][0]
        assert mine.down_total >= size and mine.label == 'linux' and mine.tracker == tracker.announce_url
        assert totals.instance == q.instance()
        sampler.sample(q, now=now + 60)
        reader = stats.Reader(store)
        assert reader.total(['q'])[1] >= size
        assert reader.total(['q'], 'label', 'linux')[1] >= size
        assert reader.total(['q'], 'torrent', h)[1] >= size
        d.wait(lambda: {s.hash: s for s in q.snapshot()}[h].state == 'seeding', 10, 'it to seed')
        seen = {s.hash: s for s in q.snapshot()}[h]
        assert seen.complete and seen.downloaded >= size and seen.label == 'linux' and seen.finished > now - 5
        assert seen.trackers == (tracker.announce_url,) and q.started_hashes() == [h]
        assert q.started_hashes(incomplete=True) == []
    finally:
        d.stop()
        seeder.stop()
        tracker.stop()


def test_a_schedule_is_run_by_the_worker_not_its_own_scheduler(daemon, web):
    api(web, {'alt_down_limit': 40000, 'alt_up_limit': 20000})
    body = {'enabled': True, 'cell_minutes': 30, 'default': 'normal',
            'windows': [{'days': ['Monday'], 'from': '01:30', 'to': '07:00', 'profile': 'alternative'}]}
    answer = web.post('/api/target/q/schedule', json=body, headers={'X-CSRF-Token': token(web)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()['run_by'] == 'worker'
    assert daemon.json('app/preferences')['scheduler_enabled'] is False
    assert "run by pyroTorrent's worker" in page_text(web.get('/target/q/schedule').get_data(as_text=True))
