"""The schedule, rules and events pages and their JSON API over a real rtorrent: the grid
as a form that works without JavaScript, overrides with the time left and the way back,
rules previewed before they are kept, refusals before anything is kept, who may change."""
import os
import re

import pytest

from lib import auth
from lib.store import Store
from model import tasks
from model.clients.rtorrent import RTorrent
from tests import rig, webapp
from tests.webapp import page_text

PASSWORD = 'correct horse battery'
USERS = {name: {'password': auth.hash_password(PASSWORD), 'role': name} for name in ('viewer', 'admin')}


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('schedule-web')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'seeded.iso', 128 * 1024)
    seeding = daemon.load(rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'a.torrent'),
                                           piece_size_exp=15), directory=data, start=True, label='Linux ISOs')
    stopped = daemon.load_many(rig.synthetic_torrents(2, seed='sched-web'))
    daemon.wait(lambda: daemon.call('d.complete', seeding) == 1, 30, 'the torrent to be checked')
    return {'daemon': daemon, 'seeding': seeding, 'stopped': stopped, 'box': made}


@pytest.fixture
def web(box, tmp_path):
    return box['box'].web(tmp_path, users=USERS, login_as=('admin', PASSWORD), TIME_ZONE='Europe/Berlin')


def token(web, path='/target/t/schedule'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def post_json(web, path, body):
    return web.post(path, json=body, headers={'X-CSRF-Token': token(web)})


def test_the_grid_is_a_form_of_selects_and_saving_it_is_read_back(web):
    page = web.get('/target/t/schedule').get_data(as_text=True)
    assert len(re.findall(r'<select name="cell_\d+"', page)) == 168
    assert '<script>' not in page and 'style="' not in page            # CSP: no inline script or style
    assert 'because the schedule is off' in page_text(page) and 'Times are in Europe/Berlin' in page_text(page)
    form = {'csrf_token': token(web), 'enabled': 'on', 'cell_minutes': '60',
            'new_profile': 'night', 'new_down': '100', 'new_up': '0'}
    assert web.post('/target/t/schedule', data=form).status_code == 303
    form = {'csrf_token': token(web), 'enabled': 'on', 'cell_minutes': '60'}
    form.update({'cell_%d' % i: 'night' for i in range(0, 6)})          # Monday 00:00-06:00
    form.update({'cell_%d' % i: 'seed only' for i in range(24 * 5, 24 * 7)})   # the weekend
    assert web.post('/target/t/schedule', data=form).status_code == 303
    data = web.get('/api/target/t/schedule').json
    cells = data['schedule']['cells']
    assert cells[:6] == ['night'] * 6 and cells[6] == 'normal' and cells[120:] == ['seed only'] * 48
    assert data['schedule']['profiles']['night'] == {'kind': 'limited', 'down_limit': 100 * 1024, 'up_limit': 0}
    assert data['in_force']['source'] == 'schedule' and data['time_zone'] == 'Europe/Berlin'
    # finer cells keep the week
    form = {'csrf_token': token(web), 'enabled': 'on', 'cell_minutes': '15'}
    assert web.post('/target/t/schedule', data=form).status_code == 303
    cells = web.get('/api/target/t/schedule').json['schedule']['cells']
    assert len(cells) == 672 and cells[:24] == ['night'] * 24 and cells[24] == 'normal'


def test_bad_schedules_are_refused_before_anything_is_kept(web):
    answer = post_json(web, '/api/target/t/schedule', {'profiles': {'normal': {'kind': 'own'}, 'n': {'kind': 'paused'}},
                                                      'default': 'normal', 'windows': [
        {'days': ['Mon', 'Tue'], 'from': '22:00', 'to': '06:00', 'profile': 'n'},
        {'days': ['Tue'], 'from': '04:00', 'to': '05:00', 'profile': 'normal'}]})
    assert answer.status_code == 400
    assert 'window 2 and window 1 overlap on Tuesday at 04:00' in answer.json['error']['message']
    answer = post_json(web, '/api/target/t/schedule', {'profiles': {'x': {'kind': 'limited'}}, 'cells': ['x'] * 168})
    assert answer.status_code == 400 and 'limits nothing' in answer.json['error']['message']
    form = {'csrf_token': token(web), 'enabled': 'on', 'new_profile': 'empty', 'new_down': '0', 'new_up': ''}
    answer = web.post('/target/t/schedule', data=form)
    assert answer.status_code == 400 and "Nothing was changed: profile 'empty' is limited but limits nothing" in \
        page_text(answer.get_data(as_text=True))
    assert 'grid' not in Store.open(web.store_path).values('t', 'schedule')


def test_an_override_shows_the_time_left_and_the_way_back(web):
    answer = post_json(web, '/api/target/t/schedule', {'profiles': {'normal': {'kind': 'own'}, 'paused': {'kind': 'paused'}},
                                                      'default': 'normal', 'windows': [
        {'days': list(range(7)), 'from': '00:00', 'to': '12:00', 'profile': 'paused'}]})
    assert answer.status_code == 200 and answer.json['in_force']['until'] is not None
    assert web.post('/target/t/schedule', data={'csrf_token': token(web), 'override': 'paused'}).status_code == 303
    page = page_text(web.get('/target/t/schedule').get_data(as_text=True))
    assert re.search(r'paused \(every started torrent stopped.*\) ?, an override by admin, until \d{4}-\d\d-\d\d \d\d:\d\d CES?T \(\d+[dhm] \d+[hms] left\)', page)
    assert 'Back to the schedule' in page
    assert ('While paused is in force, a torrent added started, or started by hand or from outside, is stopped '
            'within a worker tick (5 s) and starts again with the others when paused ends; one added stopped '
            'stays stopped.') in page
    data = web.get('/api/target/t/schedule').json['in_force']
    assert data['source'] == 'override' and 0 < data['seconds_left'] <= 12 * 3600
    assert web.post('/target/t/schedule', data={'csrf_token': token(web), 'back': '1'}).status_code == 303
    assert web.get('/api/target/t/schedule').json['in_force']['source'] == 'schedule'
    answer = post_json(web, '/api/target/t/schedule', {'override': 'turbo'})
    assert answer.status_code == 400 and "there is no profile 'turbo'" in answer.json['error']['message']


def test_rules_are_previewed_refused_and_kept(web, box):
    form = {'csrf_token': token(web, '/target/t/rules'), 'rule_name': 'iso stop', 'match': 'label',
            'match_value': 'Linux ISOs', 'when': 'ratio', 'when_value': '0.0001', 'do': 'stop', 'preview': '1'}
    answer = web.post('/target/t/rules', data=form)
    text = page_text(answer.get_data(as_text=True))
    assert answer.status_code == 200 and 'Saved now, it would act on 0 torrent(s)' in text and 'none right now' in text
    assert web.get('/api/target/t/rules').json['rules'] == []            # a preview keeps nothing
    preview = post_json(web, '/api/target/t/rules/preview', {'name': 'label', 'match': {'label': 'Linux ISOs'},
                                                            'when': {'event': 'finished'}, 'do': {'label': 'done'}})
    assert [t['hash'] for t in preview.json['torrents']] == [box['seeding']]
    del form['preview']
    assert web.post('/target/t/rules', data=form).status_code == 303
    assert [r['name'] for r in web.get('/api/target/t/rules').json['rules']] == ['iso stop']
    for body, words in (
            ({'name': 'x', 'match': {'label': 'Movies'}, 'when': {'ratio': 1}, 'do': 'stop'}, "no torrent has the label 'Movies'"),
            ({'name': 'x', 'match': {'all': True}, 'when': {'event': 'added'}, 'do': 'remove'}, 'would remove every torrent'),
            ({'name': 'x', 'match': {'all': True}, 'when': {'ratio': 1}, 'do': 'remove_data',
              'confirm_delete_data': True}, "this target's data cannot be deleted")):
        answer = post_json(web, '/api/target/t/rules', {'rules': [body]})
        assert answer.status_code == 400 and words in answer.json['error']['message'], body
    assert [r['name'] for r in web.get('/api/target/t/rules').json['rules']] == ['iso stop']
    answer = post_json(web, '/api/target/t/rules', {'rules': [
        {'name': 'done', 'match': {'all': True}, 'when': {'event': 'finished'}, 'do': {'label': 'done'}},
        {'name': 'seeded', 'match': {'label': 'done'}, 'when': {'seeding': '2d'}, 'do': 'stop'}]})
    assert answer.status_code == 200 and answer.json['would_touch']['seeded'] == []
    assert set(answer.json['would_touch']['done']) == {box['seeding']} | set(box['stopped'])      # its scope
    page = page_text(web.get('/target/t/rules').get_data(as_text=True))
    assert "torrents labelled 'done', when seeding ≥ 2d: stop" in page


def test_events_page_and_api(web, box):
    store = Store.open(web.store_path)
    backend = RTorrent(box['daemon'].url, name='t')
    tasks.tick(store, backend)                                  # the first look: nothing happened yet
    added = box['daemon'].load_many(rig.synthetic_torrents(1, seed='sched-web-added'))[0]
    try:
        tasks.tick(store, backend)
    finally:
        box['daemon'].call('d.erase', added)
    tasks.tick(store, backend)
    data = web.get('/api/target/t/events').json
    assert [e['kind'] for e in data['events']] == ['removed', 'added'] and data['latest'] == data['events'][0]['seq']
    assert data['events'][1]['subject'] == added and data['events'][1]['text'].endswith("' was added")
    assert web.get('/api/target/t/events', query_string={'since': data['latest']}).json['events'] == []
    assert [e['kind'] for e in web.get('/api/target/t/events', query_string={'kind': 'added'}).json['events']] == ['added']
    page = web.get('/target/t/events').get_data(as_text=True)
    assert 'was added' in page_text(page) and 'events.js' in page and 'data-latest="%d"' % data['latest'] in page
    assert web.get('/target/t/events', query_string={'kind': 'nope'}).status_code == 400


def test_viewers_look_admins_change_and_every_post_needs_its_token(box, tmp_path):
    web = webapp.client({'t': box['daemon'].url}, STORE=str(tmp_path / 's.sqlite3'), users=USERS)
    webapp.login(web, 'viewer', PASSWORD)
    for path in ('/target/t/schedule', '/target/t/rules', '/target/t/events', '/api/target/t/schedule',
                 '/api/target/t/rules', '/api/target/t/events'):
        assert web.get(path).status_code == 200, path
    assert 'Only an admin can change rules' in page_text(web.get('/target/t/rules').get_data(as_text=True))
    assert 'name="cell_0"' not in web.get('/target/t/schedule').get_data(as_text=True)
    csrf = token(web)
    assert web.post('/target/t/schedule', data={'csrf_token': csrf, 'override': 'paused'}).status_code == 403
    assert web.post('/api/target/t/rules', json={'rules': []}, headers={'X-CSRF-Token': csrf}).status_code == 403
    admin = webapp.client({'t': box['daemon'].url}, STORE=str(tmp_path / 's.sqlite3'), users=USERS)
    webapp.login(admin, 'admin', PASSWORD)
    assert admin.post('/target/t/schedule', data={'override': 'paused'}).status_code == 403     # no token
    assert admin.post('/api/target/t/schedule', json={'override': None}).status_code == 403
