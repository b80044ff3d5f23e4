"""The rules API takes back what it gives (issue 32 item 1), over a real rtorrent and the real
app: every action in both of its forms ({"label": "x"} and {"action": "label", "value": "x"}),
a rule matching a label another rule sets, what GET answers posted back unchanged, and the
form still taking a new rule while such rules are kept."""
import os

import pytest

from lib import auth
from tests import rig, webapp

PASSWORD = 'correct horse battery'
USERS = {'admin': {'password': auth.hash_password(PASSWORD), 'role': 'admin'}}

# every action, as a person types it and as GET answers it
SHORT = {'stop': 'stop', 'remove': 'remove', 'remove_data': 'remove_data', 'label': {'label': 'x'},
         'group': {'group': 'slow'}, 'priority': {'priority': 'high'}}
LONG = {'stop': {'action': 'stop'}, 'remove': {'action': 'remove'}, 'remove_data': {'action': 'remove_data'},
        'label': {'action': 'label', 'value': 'x'}, 'group': {'action': 'group', 'value': 'slow'},
        'priority': {'action': 'priority', 'value': 3}}


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('rules-round-trip'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    daemon.load_many(rig.synthetic_torrents(2, seed='rules-round-trip'))
    yield daemon
    daemon.stop()


@pytest.fixture
def web(daemon, tmp_path):
    client = webapp.client({'t': {'url': daemon.url, 'download_roots': [daemon.download_dir]}},
                           STORE=str(tmp_path / 'store.sqlite3'), users=USERS)
    webapp.login(client, 'admin', PASSWORD)
    made = client.post('/api/target/t/settings', json={'groups': {'slow': {'down_limit': '100k', 'up_limit': '64k'}}},
                       headers={'X-CSRF-Token': token(client)})
    assert made.status_code == 200, made.get_data(as_text=True)
    return client


def token(web):
    return webapp.csrf_token(web.get('/target/t/rules').get_data(as_text=True))


def post_rules(web, rules):
    return web.post('/api/target/t/rules', json={'rules': rules}, headers={'X-CSRF-Token': token(web)})


def every_action(forms):
    """A rule per action (on 'added', for torrents labelled 'x'), and the rule that sets 'x'."""
    kept = [{'name': 'sets x', 'match': {'all': True}, 'when': {'event': 'added'}, 'do': forms['label']}]
    for action, do in forms.items():
        rule = {'name': 'on x: ' + action, 'match': {'label': 'x'}, 'when': {'event': 'added'}, 'do': do}
        if action == 'remove_data':
            rule['confirm_delete_data'] = True
        kept.append(rule)
    return kept


@pytest.mark.parametrize('forms', [SHORT, LONG], ids=['typed', 'as-get-answers'])
def test_what_get_answers_posts_back_unchanged(web, forms):
    answer = post_rules(web, every_action(forms))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    given = web.get('/api/target/t/rules').json['rules']
    assert [r['do'] for r in given] == [LONG['label']] + list(LONG.values())
    again = post_rules(web, given)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert web.get('/api/target/t/rules').json['rules'] == given


@pytest.mark.parametrize('forms', [SHORT, LONG], ids=['typed', 'as-get-answers'])
def test_the_form_takes_a_rule_of_every_action_while_a_set_label_is_matched(web, forms):
    assert post_rules(web, every_action(forms)[:2]).status_code == 200         # 'sets x' and one matching 'x'
    values = {'label': 'y', 'group': 'slow', 'priority': 'low'}
    for action in LONG:
        form = {'csrf_token': token(web), 'rule_name': 'form ' + action, 'match': 'label', 'match_value': 'x',
                'when': 'seeding', 'when_value': '2d', 'do': action, 'do_value': values.get(action, '')}
        if action == 'remove_data':
            form['confirm_delete_data'] = 'on'
        answer = web.post('/target/t/rules', data=form)
        assert answer.status_code == 303, webapp.page_text(answer.get_data(as_text=True))
    kept = {r['name']: r['do'] for r in web.get('/api/target/t/rules').json['rules']}
    assert kept['form label'] == {'action': 'label', 'value': 'y'} and kept['form priority'] == {'action': 'priority', 'value': 1}
    assert kept['form group'] == LONG['group'] and kept['form stop'] == LONG['stop'] and len(kept) == 8
    assert post_rules(web, web.get('/api/target/t/rules').json['rules']).status_code == 200     # and back again
