"""Settings through the page, the header, the API and the worker, against a real rtorrent:
every value read back from rtorrent itself."""
import os
import re
import signal

import pytest

from lib import auth
from lib.store import Store
from tests import rig, webapp
from tests.webapp import page_text
from tests.workers import WorkerProcess, write_config

KiB = 1024


@pytest.fixture(scope='module')
def box(make_box):
    """One rtorrent seeding a real torrent (so it is active) and holding a stopped one."""
    made = make_box('settings')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'seeded.bin', 256 * 1024)
    active = daemon.load(rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'a.torrent'),
                                          piece_size_exp=15), directory=data, start=True)
    daemon.wait(lambda: daemon.call('d.is_active', active) == 1 and daemon.call('d.complete', active) == 1, 30,
                'the torrent to be checked and active')
    stopped = daemon.load_many(rig.synthetic_torrents(1, seed='settings'))[0]
    return {'daemon': daemon, 'workdir': workdir, 'active': active, 'stopped': stopped, 'box': made}


@pytest.fixture
def store_path(tmp_path, box):
    yield str(tmp_path / 'store.sqlite3')
    box['daemon'].multicall([(c, ['', v]) for c, v in (
        ('throttle.global_down.max_rate.set', 0), ('throttle.global_up.max_rate.set', 0),
        ('throttle.max_uploads.global.set', 0), ('throttle.max_downloads.global.set', 0))])


def web_for(box, store_path, **settings):
    return box['box'].web(store_path, **settings)


def token(web, path='/target/t/settings'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def api(web, body):
    return web.post('/api/target/t/settings', json=body, headers={'X-CSRF-Token': token(web)})


def live(daemon, command, *args):
    return daemon.call(command, '', *args) if args else daemon.call(command)


def test_each_setting_through_the_page_is_read_back_from_rtorrent(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    page = web.get('/target/t/settings').get_data(as_text=True)
    assert 'unknown (rtorrent.rc decides)' in page_text(page)          # encryption: no getter
    answer = web.post('/target/t/settings', data={
        'csrf_token': token(web), 'down_limit': '500 KiB/s', 'up_limit': '2 MB/s', 'min_peers': '11',
        'max_peers': '77', 'min_peers_seed': '3', 'max_peers_seed': '33', 'max_uploads': '9',
        'max_uploads_global': '40', 'max_downloads_global': '41', 'encryption': 'preferred',
        'new_group': 'slow', 'new_group_down': '100', 'new_group_up': '50'})
    assert answer.status_code == 303
    assert live(daemon, 'throttle.global_down.max_rate') == 500 * KiB
    assert live(daemon, 'throttle.global_up.max_rate') == 1953 * KiB     # 2,000,000 in whole KiB
    assert [live(daemon, c) for c in ('throttle.min_peers.normal', 'throttle.max_peers.normal',
                                      'throttle.min_peers.seed', 'throttle.max_peers.seed', 'throttle.max_uploads',
                                      'throttle.max_uploads.global', 'throttle.max_downloads.global')] == \
        [11, 77, 3, 33, 9, 40, 41]
    assert live(daemon, 'throttle.down.max', 'slow') == 100 * KiB and live(daemon, 'throttle.up.max', 'slow') == 50 * KiB
    page = page_text(web.get('/target/t/settings').get_data(as_text=True))
    assert 't: download limit now 500.0 KiB/s' in page and 'encryption now preferred' in page
    assert re.search(r'Encryption .*preferred .*set by pyroTorrent \(local\) at \d{4}-\d\d-\d\d', page)
    assert 'differs from what pyroTorrent keeps' not in page


def test_the_api_answers_what_was_applied_read_back_and_refuses_bad_values_in_words(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    answer = api(web, {'down_limit': 1000000, 'alt_down_limit': '100k', 'alt_up_limit': '20 KiB/s',
                       'encryption': 'allowed', 'max_uploads_global': 50})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    data = answer.json
    assert data['applied']['down_limit'] == 977 * KiB == live(daemon, 'throttle.global_down.max_rate')
    assert data['applied']['encryption'] == 'allowed' and data['refused'] == {}
    assert data['settings']['alt_down_limit'] == 100 * KiB and data['live']['alt_down_limit'] is None
    assert 'encryption' in data['write_only'] and data['set_at']['encryption'] > 0
    before = (live(daemon, 'throttle.global_up.max_rate'), Store.open(store_path).values('t', 'desired'))
    for body, field, words in (
            ({'up_limit': -5}, 'up_limit', 'cannot be negative'),
            ({'up_limit': 'fast'}, 'up_limit', "'fast' is not a rate"),
            ({'up_limit': '2 GiB/s'}, 'up_limit', 'is above 1 GiB/s'),
            ({'encryption': 'paranoid'}, 'encryption', "'paranoid' is not an encryption preset"),
            ({'encryption': ['require', 'prefer_plaintext', 'allow_incoming', 'try_outgoing']}, 'encryption',
             'contradict'),
            ({'groups': {'my group': {'down_limit': 1}}}, 'groups', "the group name 'my group' holds ' ' (a space)"),
            ({'max_peers': 'many', 'up_limit': 1024}, 'max_peers', 'is not a whole number'),
            ({'colour': 'blue'}, 'colour', 'is not a setting')):
        answer = api(web, body)
        assert answer.status_code == 400, body
        assert words in answer.json['error']['fields'][field] and 'Nothing was changed' in answer.json['error']['message']
    assert (live(daemon, 'throttle.global_up.max_rate'), Store.open(store_path).values('t', 'desired')) == before


def test_a_half_applied_rate_is_put_back_and_not_stored(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    assert api(web, {'up_limit': '1 MiB/s', 'max_uploads_global': 0}).status_code == 200
    data = api(web, {'up_limit': '1 GiB/s'}).json
    assert 'applied it only in part' in data['refused']['up_limit'] and 'set it back' in data['refused']['up_limit']
    assert live(daemon, 'throttle.global_up.max_rate') == 1024 * KiB
    assert data['settings']['up_limit'] == 1024 * KiB                 # the store says what rtorrent does
    data = api(web, {'up_limit': '1 GiB/s', 'max_uploads_global': 200}).json   # slots first: it works
    assert data['refused'] == {} and live(daemon, 'throttle.global_up.max_rate') == 1 << 30


def test_alternative_speeds_and_the_quick_limits_in_the_header(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    page = web.get('/target/t/').get_data(as_text=True)
    assert 'data-quick-limits="t"' in page and 'data-quick-form="t"' in page and 'limits.js' in page
    csrf = webapp.csrf_token(page)
    web.post('/target/t/limits', data={'csrf_token': csrf, 'down_limit': '300', 'up_limit': '1.5M', 'next': '/target/t/'})
    assert live(daemon, 'throttle.global_down.max_rate') == 300 * KiB
    assert live(daemon, 'throttle.global_up.max_rate') == 1536 * KiB
    assert api(web, {'alt_down_limit': '20 KiB/s', 'alt_up_limit': '10 KiB/s'}).json['refused'] == {}
    assert live(daemon, 'throttle.global_down.max_rate') == 300 * KiB    # alt is off: not in force
    answer = web.post('/target/t/limits', data={'csrf_token': csrf, 'alt_enabled': 'on', 'next': '/target/t/'})
    assert answer.status_code == 303
    assert (live(daemon, 'throttle.global_down.max_rate'), live(daemon, 'throttle.global_up.max_rate')) == (20 * KiB, 10 * KiB)
    page = web.get('/target/t/').get_data(as_text=True)
    assert 'aria-pressed="true"' in page and 'alt speeds on' in page  # the switch shows it on (and turns it off)
    web.post('/target/t/limits', data={'csrf_token': csrf, 'down_limit': '25k', 'next': '/target/t/'})
    assert live(daemon, 'throttle.global_down.max_rate') == 25 * KiB      # typed while on: the alt limit
    web.post('/target/t/limits', data={'csrf_token': csrf, 'alt_enabled': 'off', 'next': '/target/t/'})
    assert (live(daemon, 'throttle.global_down.max_rate'), live(daemon, 'throttle.global_up.max_rate')) == (300 * KiB, 1536 * KiB)
    answer = web.post('/target/t/limits', data={'csrf_token': csrf, 'down_limit': '-1'})
    assert answer.status_code == 400 and 'cannot be negative' in answer.get_data(as_text=True)


def test_drift_is_shown_and_either_side_can_win(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    api(web, {'down_limit': '400k', 'max_peers': 60})
    daemon.call('throttle.global_down.max_rate.set_kb', '', 123)       # someone changed it behind our back
    data = web.get('/api/target/t/settings').json
    assert data['drift'] == ['down_limit'] and data['live']['down_limit'] == 123 * KiB
    page = page_text(web.get('/target/t/settings').get_data(as_text=True))
    assert 'differs from what pyroTorrent keeps' in page and "keep rTorrent's" in page and 'apply mine' in page
    web.post('/target/t/settings', data={'csrf_token': token(web), 'apply': '1'})
    assert live(daemon, 'throttle.global_down.max_rate') == 400 * KiB
    daemon.call('throttle.global_down.max_rate.set_kb', '', 123)
    web.post('/target/t/settings', data={'csrf_token': token(web), 'keep': 'down_limit'})
    data = web.get('/api/target/t/settings').json
    assert data['drift'] == [] and data['settings']['down_limit'] == 123 * KiB


def test_a_torrents_speed_group_from_its_page_and_the_bar(box, store_path):
    daemon, web = box['daemon'], web_for(box, store_path)
    api(web, {'groups': {'slow': {'down_limit': '100k', 'up_limit': '10k'}, 'fast': {'up_limit': '1M'}}})
    active, stopped = box['active'], box['stopped']
    page = web.get('/target/t/torrent/%s/' % active).get_data(as_text=True)
    assert '<option value="slow">' in page and 'stopped and started again around it' in page
    answer = web.post('/target/t/action', data={'csrf_token': webapp.csrf_token(page), 'action': 'group',
                                                'group': 'slow', 'hash': [active, stopped], 'next': '/target/t/'})
    assert answer.status_code == 303
    assert daemon.call('d.throttle_name', active) == 'slow' == daemon.call('d.throttle_name', stopped)
    assert daemon.call('d.is_active', active) == 1 and daemon.call('d.state', stopped) == 0
    told = page_text(web.get('/target/t/').get_data(as_text=True))
    assert re.search(r"Set the speed group of '[^']+' and 1 more\.", told) and 'was stopped and started again around the change' in told
    answer = web.post('/api/target/t/action', json={'action': 'group', 'group': 'nope', 'hashes': [active]},
                      headers={'X-CSRF-Token': token(web)})
    assert answer.status_code == 400 and "there is no speed group 'nope'" in answer.json['error']['message']
    assert 'slow' in page_text(web.get('/target/t/torrent/%s/' % active).get_data(as_text=True))


def test_who_may_look_and_who_may_change(box, store_path):
    password = 'correct horse battery'
    users = {name: {'password': auth.hash_password(password), 'role': name} for name in ('viewer', 'user', 'admin')}
    for name, settings_post, quick_post in (('viewer', 403, 403), ('user', 403, 303), ('admin', 303, 303)):
        web = web_for(box, store_path, users=users)
        webapp.login(web, name, password)
        assert web.get('/target/t/settings').status_code == 200
        csrf = token(web)
        assert web.post('/target/t/settings', data={'csrf_token': csrf, 'max_peers': '70'}).status_code == settings_post
        assert web.post('/target/t/limits', data={'csrf_token': csrf, 'up_limit': '70k'}).status_code == quick_post
        assert web.post('/api/target/t/settings', json={'max_peers': 71},
                        headers={'X-CSRF-Token': csrf}).status_code == (200 if name == 'admin' else 403)


def test_an_unusable_store_is_said_and_the_other_pages_still_work(box):
    web = web_for(box, '/proc/pyrotorrent/store.sqlite3')
    answer = web.get('/target/t/settings')
    assert answer.status_code == 503
    assert 'cannot be created: its folder /proc/pyrotorrent is not writable' in page_text(answer.get_data(as_text=True))
    assert web.get('/target/t/').status_code == 200


def test_pages_say_when_no_worker_ticks(box, store_path):
    web = web_for(box, store_path)
    api(web, {'max_peers': 66})
    assert 'no worker has ever ticked' in page_text(web.get('/target/t/').get_data(as_text=True))
    Store.open(store_path).beat('worker', 'x', 'somehost', 1, 5.0, now=1000.0)
    assert 'no worker has ticked since 1970-01-01' in page_text(web.get('/').get_data(as_text=True))
    Store.open(store_path).beat('worker', 'x', 'somehost', 1, 5.0)
    assert 'worker' not in page_text(web.get('/target/t/').get_data(as_text=True)).lower().replace('pyrotorrent', '')


def test_every_setting_comes_back_after_a_restart_with_the_worker_running(box, tmp_path):
    daemon = box['daemon']
    store_path = str(tmp_path / 'store.sqlite3')
    web = web_for(box, store_path)
    data = api(web, {'down_limit': '600k', 'up_limit': '300k', 'alt_down_limit': '60k', 'alt_up_limit': '30k',
                     'min_peers': 12, 'max_peers': 88, 'min_peers_seed': 4, 'max_peers_seed': 44, 'max_uploads': 8,
                     'max_uploads_global': 45, 'max_downloads_global': 46, 'encryption': 'required',
                     'groups': {'slowgroup': {'down_limit': '50k', 'up_limit': '25k'}}}).json
    assert data['refused'] == {}
    web.post('/api/target/t/action', json={'action': 'group', 'group': 'slowgroup', 'hashes': [box['active']]},
             headers={'X-CSRF-Token': token(web)})
    api(web, {'alt_enabled': True})
    expected = {'throttle.global_down.max_rate': 60 * KiB, 'throttle.global_up.max_rate': 30 * KiB,
                'throttle.min_peers.normal': 12, 'throttle.max_peers.normal': 88, 'throttle.min_peers.seed': 4,
                'throttle.max_peers.seed': 44, 'throttle.max_uploads': 8, 'throttle.max_uploads.global': 45,
                'throttle.max_downloads.global': 46}

    def settings_back():
        return {c: live(daemon, c) for c in expected} == expected and \
            live(daemon, 'throttle.down.max', 'slowgroup') == 50 * KiB and live(daemon, 'throttle.up.max', 'slowgroup') == 25 * KiB
    assert settings_back()
    config_path = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=store_path,
                               WORKER_TICK_SECONDS=0.5)
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        rig.wait_for(lambda: Store.open(store_path).heartbeat('worker'), 20, 'the worker to tick')
        old_pid = daemon.call('system.pid')
        daemon.stop()                                   # SIGTERM: rtorrent saves its session
        daemon.start()
        assert daemon.call('system.pid') != old_pid
        assert daemon.call('d.throttle_name', box['active']) == 'slowgroup'     # kept, and dangling
        worker.wait_log('re-applied', 30)
        rig.wait_for(settings_back, 10, 'every setting to be back')
        assert 'refused' not in worker.log().split('re-applied', 1)[1].split('\n', 1)[0]
        assert web.get('/api/target/t/settings').json['drift'] == []
        # the worker killed and started again: it finds nothing to do, and a later restart is caught
        worker.stop(signal.SIGKILL)
        worker = WorkerProcess(config_path, str(tmp_path / 'worker2.log'))
        worker.wait_log('took over the store', 30)
        daemon.stop()
        daemon.start()
        worker.wait_log('re-applied', 30)
        rig.wait_for(settings_back, 10, 'every setting to be back again')
    finally:
        worker.stop()
        api(web, {'alt_enabled': False, 'encryption': 'allowed', 'down_limit': 0, 'up_limit': 0,
                  'max_uploads_global': 0, 'max_downloads_global': 0})
