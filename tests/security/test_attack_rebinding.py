"""Issue 9, hole 3, performed for real against `pyrotorrent.py --http`: DNS rebinding.

A page on rebind.attacker.example whose name now resolves to 127.0.0.1 talks to
pyroTorrent on loopback: the browser sends `Host: rebind.attacker.example` and, for its
POSTs, `Origin: http://rebind.attacker.example`.  In the no-users mode (the default) it got
/api/session's CSRF token and acted (Transmission's CVE-2018-5702 was this).  A foreign
Origin on a state change is refused in every mode.
"""
import http.client
import json
import os
import urllib.parse

import pytest

from lib import auth
from tests import webapp

EVIL = 'rebind.attacker.example'


def request(base, method, path, host=None, headers=None, body=None):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    sent = dict(headers or {})
    conn.putrequest(method, url.path + path, skip_host=True, skip_accept_encoding=True)
    conn.putheader('Host', host or url.netloc)
    for key, value in sent.items():
        conn.putheader(key, value)
    data = body.encode() if isinstance(body, str) else body
    if data is not None:
        conn.putheader('Content-Length', str(len(data)))
    conn.endheaders(data)
    answer = conn.getresponse()
    text = answer.read().decode('utf-8', 'replace')
    conn.close()
    return answer.status, dict(answer.getheaders()), text


@pytest.fixture(scope='module')
def open_server(swarm, tmp_path_factory):
    """No users: loopback only, the default."""
    workdir = str(tmp_path_factory.mktemp('rebind'))
    with webapp.http_server(workdir, {'BASE_URL': '', 'REFRESH_SECONDS': 0,
                                      'targets': {'seeder': {'url': swarm.seeder.url}}}) as base:
        yield base


def test_a_foreign_host_name_gets_nothing(open_server, swarm):
    status, _, text = request(open_server, 'GET', '/api/session', host=EVIL)
    assert status == 400 and 'csrf_token' not in text
    assert EVIL in text and 'ALLOWED_HOSTS' in text
    status, _, text = request(open_server, 'GET', '/target/seeder/', host=EVIL + ':8080')
    assert status == 400 and swarm.torrents[0]['name'] not in text


def test_loopback_names_and_addresses_are_served(open_server):
    for host in ('127.0.0.1', 'localhost', '[::1]', 'localhost:9', '127.0.0.1:%d' % urllib.parse.urlsplit(open_server).port):
        status, _, text = request(open_server, 'GET', '/api/session', host=host)
        assert status == 200 and json.loads(text)['csrf_token'], host


def test_a_state_change_from_another_origin_is_refused(open_server, swarm):
    """Even with the right token (read by a same-origin script earlier), a POST whose
    Origin is another site changes nothing."""
    status, headers, text = request(open_server, 'GET', '/api/session')
    token, cookie = json.loads(text)['csrf_token'], headers['Set-Cookie'].split(';')[0]
    h = swarm.torrents[0]['hash']
    before = swarm.seeder.call('d.custom1', h)
    body = json.dumps({'action': 'label', 'hashes': [h], 'label': 'pwned'})
    base = {'Cookie': cookie, 'Content-Type': 'application/json', auth.CSRF_HEADER: token}
    for origin in ('http://' + EVIL, 'null', 'http://127.0.0.1.attacker.example'):
        status, _, text = request(open_server, 'POST', '/api/target/seeder/action',
                                  headers=dict(base, Origin=origin), body=body)
        assert status == 403 and 'another site' in text, (origin, status, text)
        assert swarm.seeder.call('d.custom1', h) == before
    status, _, text = request(open_server, 'POST', '/api/target/seeder/action',
                              headers=dict(base, **{'Sec-Fetch-Site': 'cross-site'}), body=body)
    assert status == 403 and swarm.seeder.call('d.custom1', h) == before
    # the same request from pyroTorrent's own origin goes through
    status, _, text = request(open_server, 'POST', '/api/target/seeder/action',
                              headers=dict(base, Origin=open_server.rstrip('/')), body=json.dumps(
                                  {'action': 'label', 'hashes': [h], 'label': before}))
    assert status == 200 and json.loads(text)['results'][0]['ok'], text


def test_with_users_a_foreign_origin_is_refused_too(swarm, tmp_path):
    password = 'correct horse battery'
    users = {'ann': {'password': auth.hash_password(password), 'role': 'admin'}}
    with webapp.http_server(str(tmp_path), {'BASE_URL': '', 'users': users, 'ALLOWED_HOSTS': ['seedbox.example'],
                                            'targets': {'seeder': {'url': swarm.seeder.url}}}) as base:
        status, headers, page = request(base, 'GET', '/login', host='seedbox.example')
        assert status == 200
        cookie = headers['Set-Cookie'].split(';')[0] if 'Set-Cookie' in headers else ''
        token = webapp.csrf_token(page)
        form = urllib.parse.urlencode({'name': 'ann', 'password': password, 'csrf_token': token})
        hdrs = {'Content-Type': 'application/x-www-form-urlencoded', 'Origin': 'http://' + EVIL}
        if cookie:
            hdrs['Cookie'] = cookie
        status, _, text = request(base, 'POST', '/login', host='seedbox.example', headers=hdrs, body=form)
        assert status == 403 and 'another site' in text
        hdrs['Origin'] = 'http://seedbox.example'
        status, _, _ = request(base, 'POST', '/login', host='seedbox.example', headers=hdrs, body=form)
        assert status == 303
        status, _, _ = request(base, 'GET', '/login', host=EVIL)
        assert status == 400


def test_allowed_hosts_is_checked_at_start():
    from lib import config
    with pytest.raises(config.ConfigError, match='ALLOWED_HOSTS'):
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'ALLOWED_HOSTS': 'one.example'})
    assert config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}},
                             'ALLOWED_HOSTS': ['a.example', '.lan']}).ALLOWED_HOSTS == ('a.example', '.lan')
    assert os.path.exists(os.path.join(webapp.ROOT, 'config.py.example'))
