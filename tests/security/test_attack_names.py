"""Names a user types (speed groups, schedule profiles, rules, labels) that hold a line
break or a control character, sent for real through the app's forms and its JSON API to a
real rtorrent: every one is a 400 that names the kind of name and what is wrong with it in
words, and nothing of it is kept (read back from the store and from rtorrent).  One check
serves them all (lib/names.py, docs/api.rst "Names")."""
import base64
import io
import os

import pytest

from lib.store import Store
from model import rules, schedule, settings
from tests import rig, webapp
from tests.webapp import page_text

# A trailing line break is what got past `$` in a regex; the others are the same fault elsewhere.
BAD = {
    'a trailing line break': ('slow\n', 'line break'),
    'a trailing carriage return': ('slow\r', 'line break'),
    'a line break inside': ('sl\now', 'line break'),
    'a line separator': ('slow\u2028', 'line break'),
    'a C1 control character': ('\x9bslow', 'control character'),
    'an escape': ('slow\x1b[2J', 'control character'),
    'a NUL': ('slow\x00', 'control character'),
    'a DEL': ('slow\x7f', 'control character'),
}
LABEL = 'Linux ISOs'


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('names'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    try:
        hashes = daemon.load_many(rig.synthetic_torrents(2, seed='names'), label=LABEL)
        yield daemon, workdir, hashes
    finally:
        daemon.stop()


@pytest.fixture
def web(box, tmp_path):
    daemon, _, _ = box
    path = str(tmp_path / 'store.sqlite3')
    Store.open(path)                                   # the worker's job; the pages need one there
    return webapp.client({'t': daemon.url}, STORE=path)


def token(web, path='/target/t/rules'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def refused(answer, kind, fault):
    """The answer is a 400 that says, in words, which kind of name and what it holds."""
    text = answer.get_data(as_text=True)
    words = ' '.join(text.split()) if answer.mimetype == 'application/json' else page_text(text)
    assert answer.status_code == 400, (kind, answer.status_code, words[:400])
    assert '%s name' % kind in words or kind == 'label' and 'label' in words, (kind, words[:600])
    assert fault in words, (kind, fault, words[:600])
    assert 'Traceback' not in text


def as_json(web, path, body, csrf):
    return web.post(path, json=body, headers={'X-CSRF-Token': csrf})


def kept(web):
    """Every name the store holds now: groups, profiles (the built-in ones too), rules, labels rules set."""
    store = Store.open(web.application.pyrotorrent.config.STORE)
    names = set(settings.desired_values(store, 't').get('groups', {}))
    names |= set(schedule.load(store, 't')[0]['profiles'])
    for rule in rules.load(store, 't'):
        names.add(rule['name'])
        if rule['do'].get('action') == 'label':
            names.add(rule['do']['value'])
    return names


def rtorrent_labels(daemon):
    return {label for _, label in daemon.call('d.multicall2', '', 'main', 'd.hash=', 'd.custom1=')}


@pytest.mark.parametrize('case', list(BAD))
def test_a_group_name_with_a_bad_character_is_refused_in_words(web, box, case):
    bad, fault = BAD[case]
    before, csrf = kept(web), token(web, '/target/t/settings')
    refused(as_json(web, '/api/target/t/settings', {'groups': {bad: {'down_limit': 1024, 'up_limit': 0}}}, csrf),
            'group', fault)
    refused(web.post('/target/t/settings', data={'csrf_token': csrf, 'new_group': bad, 'new_group_down': '10',
                                                 'new_group_up': '0'}), 'group', fault)
    assert kept(web) == before


@pytest.mark.parametrize('case', list(BAD))
def test_a_profile_name_with_a_bad_character_is_refused_in_words(web, case):
    bad, fault = BAD[case]
    before, csrf = kept(web), token(web, '/target/t/schedule')
    grid = web.get('/api/target/t/schedule').json['schedule']
    grid['profiles'][bad] = {'kind': 'limited', 'down_limit': 1024}
    refused(as_json(web, '/api/target/t/schedule', grid, csrf), 'profile', fault)
    refused(web.post('/target/t/schedule', data={'csrf_token': csrf, 'new_profile': bad, 'new_down': '10',
                                                 'new_up': '0', 'cell_minutes': '60'}), 'profile', fault)
    assert kept(web) == before


@pytest.mark.parametrize('case', list(BAD))
def test_a_rule_name_with_a_bad_character_is_refused_in_words(web, case):
    bad, fault = BAD[case]
    before, csrf = kept(web), token(web)
    rule = {'name': bad, 'match': {'all': True}, 'when': {'ratio': 5}, 'do': 'stop'}
    refused(as_json(web, '/api/target/t/rules', {'rules': [rule]}, csrf), 'rule', fault)
    refused(as_json(web, '/api/target/t/rules/preview', rule, csrf), 'rule', fault)
    refused(web.post('/target/t/rules', data={'csrf_token': csrf, 'rule_name': bad, 'match': 'all',
                                              'when': 'ratio', 'when_value': '5', 'do': 'stop'}), 'rule', fault)
    assert kept(web) == before


@pytest.mark.parametrize('case', list(BAD))
def test_a_label_with_a_bad_character_is_refused_in_words(web, box, case):
    daemon, workdir, hashes = box
    bad, fault = BAD[case]
    before, csrf = kept(web), token(web)
    rule = {'name': 'label them', 'match': {'all': True}, 'when': {'event': 'added'}, 'do': {'label': bad}}
    refused(as_json(web, '/api/target/t/rules', {'rules': [rule]}, csrf), 'label', fault)
    refused(web.post('/target/t/rules', data={'csrf_token': csrf, 'rule_name': 'label them', 'match': 'all',
                                              'when': 'event', 'when_value': 'added', 'do': 'label',
                                              'do_value': bad}), 'label', fault)
    refused(as_json(web, '/api/target/t/action', {'action': 'label', 'hashes': hashes, 'label': bad}, csrf),
            'label', fault)
    refused(web.post('/target/t/action', data={'csrf_token': csrf, 'action': 'label', 'hash': hashes,
                                               'label': bad}), 'label', fault)
    torrent = rig.synthetic_torrents(1, seed='names-added-' + case)[0]
    refused(as_json(web, '/api/target/t/add', {'files': [{'filename': 'a.torrent',
                                                          'data': base64.b64encode(torrent).decode()}],
                                               'start': False, 'label': bad}, csrf), 'label', fault)
    refused(web.post('/target/t/add', data={'csrf_token': csrf, 'start': 'no', 'label': bad,
                                            'files': (io.BytesIO(torrent), 'a.torrent')}), 'label', fault)
    assert kept(web) == before
    assert rtorrent_labels(daemon) == {LABEL}
    assert len(daemon.call('download_list')) == len(hashes)


def test_good_names_are_kept_with_their_outer_spaces_dropped(web, box):
    """The check refuses only what it says: a name of letters, signs and inner spaces,
    typed with spaces around it, is kept without them."""
    daemon, _, hashes = box
    before, csrf = kept(web), token(web)
    answer = as_json(web, '/api/target/t/settings', {'down_limit': 10 * 2 ** 20, 'up_limit': 10 * 2 ** 20,  # rTorrent
                                                     'groups': {' slow ': {'down_limit': '100k', 'up_limit': '10k'}}},  # makes groups
                     csrf)                                                                              # only then
    assert answer.status_code == 200 and not answer.json['refused'], answer.get_data(as_text=True)
    grid = web.get('/api/target/t/schedule').json['schedule']
    grid['profiles'][' night '] = {'kind': 'limited', 'down_limit': 1024}
    answer = as_json(web, '/api/target/t/schedule', grid, csrf)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rule = {'name': '  Seed to 2 · Café  ', 'match': {'all': True}, 'when': {'ratio': 5}, 'do': {'label': ' done '}}
    answer = as_json(web, '/api/target/t/rules', {'rules': [rule]}, csrf)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert kept(web) - before == {'slow', 'night', 'Seed to 2 · Café', 'done'}
    answer = as_json(web, '/api/target/t/action', {'action': 'label', 'hashes': hashes[:1], 'label': ' Straße '},
                     csrf)
    assert answer.status_code == 200 and all(r['ok'] for r in answer.json['results']), answer.json
    try:
        assert rtorrent_labels(daemon) == {LABEL, 'Straße'}
    finally:
        daemon.call('d.custom1.set', hashes[0], LABEL)
