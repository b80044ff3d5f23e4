"""Users, roles, sessions, CSRF and headers, against the real swarm's rtorrent daemons.

The route table is walked as a whole, so a route added without an access rule, or one
that forgets to hide a target, fails here.
"""
import html
import http.cookies
import json
import os
import re
import subprocess
import sys

import pytest
from werkzeug.routing import Map, Rule
from werkzeug.security import check_password_hash

from lib import auth, config
from lib.pages import app as pages_app
from lib.pages.app import ACCESS, PyroTorrent
from lib.pages.app import URL_MAP as url_map
from lib.web import PUBLIC, Route, unguarded
from pyrotorrent import make_app
from tests import webapp
from tests.webapp import page_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORDS = {'ada': 'ada-secret-1', 'bob': 'bob-secret-2', 'vic': 'vic-secret-3'}
_HASHES = {name: auth.hash_password(pw) for name, pw in PASSWORDS.items()}
USERS = {
    'ada': {'password': _HASHES['ada'], 'role': 'admin'},
    'bob': {'password': _HASHES['bob'], 'role': 'user', 'targets': ['seeder']},
    'vic': {'password': _HASHES['vic'], 'role': 'viewer', 'targets': ['seeder']},
}


def make_client(swarm, tmp_path, remote_addr='127.0.0.1', **settings):
    settings.setdefault('users', USERS)
    settings.setdefault('session_options', {'session.data_dir': str(tmp_path / 'sessions')})
    return webapp.client({'seeder': {'url': swarm.seeder.url, 'download_roots': [swarm.data_dir]},
                          'leecher': swarm.leecher.url}, remote_addr=remote_addr, **settings)


def csrf_of(web):
    """The token of this client's session, as a page's form carries it."""
    page = web.get('/login').get_data(as_text=True) if not _logged_in(web) else web.get('/').get_data(as_text=True)
    return webapp.csrf_token(page)


def _logged_in(web):
    return web.get('/api/session').status_code == 200


def session_cookie(web):
    cookie = web.get_cookie('pyrotorrent_session')
    return cookie.value if cookie else None


def login(web, name, password=None):
    token = csrf_of(web)
    return web.post('/login', data={'name': name, 'password': password or PASSWORDS[name],
                                    'csrf_token': token, 'next': '/'})


@pytest.fixture
def web(swarm, tmp_path):
    return make_client(swarm, tmp_path)


# -- config and the passwd command ------------------------------------------------------

def test_passwd_prints_a_salted_hash_that_config_accepts(tmp_path):
    answers = 'correct horse\ncorrect horse\n'
    runs = [subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), 'passwd'], input=answers,
                           capture_output=True, text=True, timeout=60, start_new_session=True) for _ in range(2)]
    hashes = [run.stdout.strip() for run in runs]
    assert all(run.returncode == 0 for run in runs), runs
    assert hashes[0].startswith('scrypt:') and hashes[0] != hashes[1]        # a salt of its own each time
    assert all(check_password_hash(h, 'correct horse') for h in hashes)
    assert not check_password_hash(hashes[0], 'correct horsE')
    assert 'correct horse' not in runs[0].stdout + runs[0].stderr
    cfg = config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}},
                            'users': {'me': {'password': hashes[0], 'role': 'admin'}}})
    assert cfg.users['me'].role == 'admin' and cfg.users['me'].targets is None
    mismatch = subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), 'passwd'],
                              input='one password\nanother one\n', capture_output=True, text=True,
                              timeout=60, start_new_session=True)
    assert mismatch.returncode == 1 and mismatch.stdout == '' and 'differ' in mismatch.stderr


@pytest.mark.parametrize('users, words', [
    ({'me': {'password': 'hunter22', 'role': 'admin'}}, 'password hash, not the password itself'),
    ({'me': {'password': 'scrypt:nope', 'role': 'admin'}}, 'password hash'),
    ({'me': {'password': _HASHES['ada'], 'role': 'root'}}, 'role must be one of viewer, user, admin'),
    ({'me': {'password': _HASHES['ada'], 'targets': ['elsewhere']}}, "no target named 'elsewhere'"),
    ({'me': {'password': _HASHES['ada'], 'rights': 'all'}}, "unknown key 'rights'"),
    ({' me': {'password': _HASHES['ada']}}, 'no space at either end'),
])
def test_bad_users_stop_start_up_with_one_line(users, words):
    with pytest.raises(config.ConfigError) as caught:
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'users': users})
    assert words in str(caught.value) and '\n' not in str(caught.value)


def test_auth_false_with_users_is_a_contradiction():
    with pytest.raises(config.ConfigError, match='AUTH = False'):
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'users': {'ada': USERS['ada']}, 'AUTH': False})


# -- no users: loopback only, unless AUTH = False ------------------------------------------

def test_without_users_only_loopback_is_served_and_every_page_says_so(swarm, tmp_path):
    local = make_client(swarm, tmp_path, users={})
    page = local.get('/target/seeder/')
    assert page.status_code == 200 and 'No users are configured' in page_text(page.get_data(as_text=True))
    for remote in ('10.0.0.5', '192.0.2.7', '::ffff:10.1.2.3', '2001:db8::1'):
        answer = make_client(swarm, tmp_path, users={}, remote_addr=remote).get('/target/seeder/')
        assert answer.status_code == 403, remote
        assert 'answers only on this machine' in page_text(answer.get_data(as_text=True))
    # a proxy on this machine that forwards a request from elsewhere is not "this machine"
    forwarded = local.get('/target/seeder/', headers={'X-Forwarded-For': '203.0.113.9'})
    assert forwarded.status_code == 403
    # visitors' addresses, not daemons': any loopback address is this machine
    for remote in ('127.0.0.1', '127.0.0.9', '::1', '::ffff:127.0.0.1'):
        assert make_client(swarm, tmp_path, users={}, remote_addr=remote).get('/').status_code == 200, remote
    open_ = make_client(swarm, tmp_path, users={}, AUTH=False, remote_addr='203.0.113.9')
    answer = open_.get('/target/seeder/')
    assert answer.status_code == 200 and 'Logins are off' in page_text(answer.get_data(as_text=True))


def test_http_server_refuses_a_public_address_without_users(tmp_path):
    path = tmp_path / 'config.py'
    path.write_text("targets = {'t': {'url': 'scgi://127.0.0.1:1'}}\n")
    done = subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--http', '0.0.0.0:1',
                           '--config', str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and 'declares no users' in done.stderr


# -- logging in and out -------------------------------------------------------------------

def test_pages_need_a_login_and_the_api_says_401(web):
    answer = web.get('/target/seeder/?sort=size')
    assert answer.status_code == 303
    assert answer.headers['Location'].endswith('/login?next=/target/seeder/%3Fsort%3Dsize')
    api = web.get('/api/target/seeder/torrents')
    assert api.status_code == 401 and 'Log in first' in api.json['error']['message']


def test_login_lands_on_next_and_refuses_other_sites(web):
    token = csrf_of(web)
    answer = web.post('/login', data={'name': 'bob', 'password': PASSWORDS['bob'], 'csrf_token': token,
                                      'next': '/target/seeder/?sort=size'})
    assert answer.status_code == 303 and answer.headers['Location'] == '/target/seeder/?sort=size'
    assert web.get('/target/seeder/').status_code == 200
    for evil in ('//evil.example/', 'https://evil.example/', '/\\evil.example', 'evil'):
        fresh = webapp.Client(web.application)
        token = csrf_of(fresh)
        answer = fresh.post('/login', data={'name': 'bob', 'password': PASSWORDS['bob'],
                                            'csrf_token': token, 'next': evil})
        assert answer.headers['Location'] == '/', evil


def test_wrong_password_and_unknown_name_look_the_same(web):
    answers = [login(web, 'bob', 'wrong password'), login(web, 'nobody-here', 'wrong password')]
    assert [a.status_code for a in answers] == [401, 401]
    texts = [page_text(a.get_data(as_text=True)) for a in answers]
    assert all('That name and password do not match.' in t for t in texts)
    assert texts[0].replace('bob', 'X') == texts[1].replace('nobody-here', 'X')
    assert not _logged_in(web)


def test_login_changes_the_session_id(web):
    web.get('/login')
    assert session_cookie(web) is None               # the login form stores no session
    planted = '0123456789abcdef' * 2                 # an id an attacker planted in the browser
    web.set_cookie('pyrotorrent_session', planted)
    assert login(web, 'bob').status_code == 303
    assert session_cookie(web) not in (None, planted)
    # someone holding the planted id is not logged in
    other = webapp.Client(web.application)
    other.set_cookie('pyrotorrent_session', planted)
    assert other.get('/target/seeder/').status_code == 303


def cookie_attributes(response):
    header = [v for k, v in response.headers.items() if k.lower() == 'set-cookie'][-1]
    jar = http.cookies.SimpleCookie()
    jar.load(header)
    morsel = jar['pyrotorrent_session']
    return morsel, header.lower()


def test_session_cookie_flags(web, swarm, tmp_path):
    web.get('/login')
    morsel, raw = cookie_attributes(login(web, 'vic'))
    assert 'httponly' in raw and morsel['samesite'] == 'Lax' and 'secure' not in raw
    assert morsel['expires'] == '' and morsel['max-age'] == ''      # ends with the browser
    https = make_client(swarm, tmp_path)
    page = https.get('/login', base_url='https://localhost/')
    token = webapp.csrf_token(page.get_data(as_text=True))
    answer = https.post('/login', base_url='https://localhost/',
                        data={'name': 'vic', 'password': PASSWORDS['vic'], 'csrf_token': token})
    morsel, raw = cookie_attributes(answer)
    assert answer.status_code == 303 and 'secure' in raw and 'httponly' in raw


def test_idle_session_ends(swarm, tmp_path):
    import time
    web = make_client(swarm, tmp_path, session_options={'session.data_dir': str(tmp_path / 's'),
                                                        'session.timeout': 1})
    assert login(web, 'vic').status_code == 303
    assert web.get('/target/seeder/').status_code == 200
    time.sleep(2.2)
    assert web.get('/target/seeder/').status_code == 303


def test_logout_ends_the_session_for_the_old_cookie_too(web):
    login(web, 'vic')
    cookie = session_cookie(web)
    token = csrf_of(web)
    assert web.post('/logout', data={'csrf_token': token}).status_code == 303
    replay = webapp.Client(web.application)
    replay.set_cookie('pyrotorrent_session', cookie)
    assert replay.get('/target/seeder/').status_code == 303
    assert web.get('/target/seeder/').status_code == 303


def test_a_changed_password_ends_old_sessions(swarm, tmp_path):
    web = make_client(swarm, tmp_path)
    login(web, 'vic')
    cookie = session_cookie(web)
    changed = dict(USERS, vic=dict(USERS['vic'], password=auth.hash_password('new-secret-4')))
    other = make_client(swarm, tmp_path, users=changed)
    other.set_cookie('pyrotorrent_session', cookie)
    assert other.get('/target/seeder/').status_code == 303


def test_failed_logins_slow_down_per_name_and_per_address(swarm, tmp_path):
    web = make_client(swarm, tmp_path)
    throttle = web.application.pyrotorrent.throttle
    now = [1000.0]
    throttle.clock = lambda: now[0]
    for _ in range(throttle.free):
        assert login(web, 'bob', 'wrong').status_code == 401
    # now even the right password waits, and the answer says for how long
    answer = login(web, 'bob')
    assert answer.status_code == 429 and answer.headers['Retry-After'] == '1'
    assert 'try again in 1 s' in page_text(answer.get_data(as_text=True))
    assert not _logged_in(web)
    now[0] += 1.01
    assert login(web, 'bob', 'wrong').status_code == 401
    assert login(web, 'bob').status_code == 429 and login(web, 'bob').headers['Retry-After'] == '2'
    now[0] += 2.01
    assert login(web, 'bob').status_code == 303
    # per address: five different names from one address, then the sixth waits too
    elsewhere = make_client(swarm, tmp_path, remote_addr='192.0.2.50')
    elsewhere.application.pyrotorrent.throttle.clock = lambda: now[0]
    for i in range(5):
        assert login(elsewhere, 'guess%d' % i, 'x').status_code == 401
    assert login(elsewhere, 'vic').status_code == 429
    # an unknown name is slowed exactly like a known one
    fresh = make_client(swarm, tmp_path, remote_addr='192.0.2.51')
    for name in ('vic', 'not-a-user'):
        fresh.application.pyrotorrent.throttle.clock = lambda: now[0]
        codes = [login(fresh, name, 'x').status_code for _ in range(6)]
        assert codes == [401] * 5 + [429], name
        fresh.application.pyrotorrent.throttle.succeeded(fresh.application.pyrotorrent.throttle.keys(name, '192.0.2.51'))


# -- the whole route table: access, hidden targets, CSRF ------------------------------

SAMPLE = {'view': 'main', 'info_hash': '0' * 40}


def routes():
    for rule in url_map.iter_rules():
        for method in sorted(rule.methods - {'HEAD', 'OPTIONS'}):
            yield rule, method


def url_for(rule, name):
    values = dict(SAMPLE)
    if 'name' in rule.arguments:
        values['name'] = name
    return url_map.bind('localhost').build(rule.endpoint, {k: v for k, v in values.items() if k in rule.arguments})


def call(web, method, path, token=None):
    data = {'csrf_token': token} if token else {}
    return web.open(path, method=method, data=data if method == 'POST' else None)


def test_every_endpoint_has_an_access_rule(monkeypatch):
    assert unguarded(url_map) == []
    grown = Map([Route(r.rule, r.role, endpoint=r.endpoint, methods=r.methods) for r in url_map.iter_rules()]
                + [Rule('/new-page', endpoint='new_page')])     # a route declared without its role
    assert unguarded(grown) == ['new_page']
    monkeypatch.setattr(pages_app, 'URL_MAP', grown)
    with pytest.raises(RuntimeError, match='no ACCESS entry for endpoint.*new_page'):
        PyroTorrent(config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}}))


@pytest.mark.parametrize('rule, method', list(routes()), ids=lambda v: getattr(v, 'rule', v))
def test_route_table(rule, method, swarm, tmp_path):
    need = ACCESS[rule.endpoint]
    SAMPLE['info_hash'], SAMPLE['path'] = swarm.torrents[0]['hash'], swarm.torrents[0]['name']
    anonymous = make_client(swarm, tmp_path)
    path = url_for(rule, 'seeder')
    token = csrf_of(anonymous)
    answer = call(anonymous, method, path, token)
    if need is PUBLIC:
        assert answer.status_code != 403 and '/login?next=' not in answer.headers.get('Location', ''), path
    elif rule.rule.startswith('/api/'):
        assert answer.status_code == 401, path
    else:
        assert answer.status_code == 303 and '/login?next=' in answer.headers['Location'], path

    if need is PUBLIC:
        return
    # bob may see 'seeder' only: 'leecher' must look exactly like a target that does not exist
    for name, role in (('bob', 'user'), ('vic', 'viewer'), ('ada', 'admin')):
        web = make_client(swarm, tmp_path)
        login(web, name)
        token = csrf_of(web)
        answer = call(web, method, url_for(rule, 'seeder'), token)
        if answer.status_code == 303:
            web.get(answer.headers['Location'])          # as a browser does: shows its messages
        if auth.ROLES.index(role) < auth.ROLES.index(need):
            assert answer.status_code == 403, (name, path)
            assert "Your account '%s' is a %s" % (name, role) in html.unescape(answer.get_data(as_text=True))
        else:
            assert answer.status_code not in (401, 403, 404), (name, path, answer.status_code)
        if 'name' in rule.arguments and name != 'ada':
            hidden = call(web, method, url_for(rule, 'leecher'), token)
            missing = call(web, method, url_for(rule, 'no-such-target'), token)
            assert hidden.status_code == missing.status_code == 404, (name, path)
            assert (hidden.get_data(as_text=True).replace('leecher', 'X')
                    == missing.get_data(as_text=True).replace('no-such-target', 'X'))


@pytest.mark.parametrize('rule', [r for r, m in routes() if m == 'POST'], ids=lambda r: r.rule)
def test_every_post_needs_this_sessions_csrf_token(rule, swarm, tmp_path):
    other = make_client(swarm, tmp_path)
    login(other, 'bob')
    foreign = csrf_of(other)
    for sent in (None, '', foreign, 'x' * 43):
        web = make_client(swarm, tmp_path)
        login(web, 'bob')
        answer = call(web, 'POST', url_for(rule, 'seeder'), sent)
        assert answer.status_code == 403, (rule.rule, sent)
        assert 'nothing was changed' in page_text(answer.get_data(as_text=True))
        assert _logged_in(web)                 # a logout without its token does not log out
    web = make_client(swarm, tmp_path)
    login(web, 'ada' if rule.role == 'admin' else 'bob')      # with its token, a role that suffices passes
    assert call(web, 'POST', url_for(rule, 'seeder'), csrf_of(web)).status_code != 403


def test_login_form_without_a_token_logs_nobody_in(web):
    answer = web.post('/login', data={'name': 'bob', 'password': PASSWORDS['bob']})
    assert answer.status_code == 403 and not _logged_in(web)


def test_json_api_takes_the_token_in_a_header(web):
    login(web, 'bob')
    session = web.get('/api/session').json
    assert session['user'] == 'bob' and session['role'] == 'user' and session['targets'] == ['seeder']
    assert session['csrf_header'] == 'X-CSRF-Token' and len(session['csrf_token']) >= 32
    assert web.post('/logout').status_code == 403
    assert web.post('/logout', headers={'X-CSRF-Token': session['csrf_token']}).status_code == 303
    assert web.get('/api/session').status_code == 401


def test_a_get_never_changes_anything(web):
    login(web, 'bob')
    assert web.get('/logout').status_code == 405
    assert _logged_in(web)


# -- headers ------------------------------------------------------------------------------

@pytest.mark.parametrize('path', ['/', '/login', '/target/seeder/', '/api/target/seeder/torrents',
                                  '/target/nope/', '/api/target/nope/torrents', '/target/seeder',
                                  '/logout', '/static/nothing'])
def test_security_headers_on_every_answer(web, path):
    login(web, 'ada')
    answer = web.get(path)
    csp = answer.headers['Content-Security-Policy']
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and 'unsafe-inline' not in csp
    assert answer.headers['X-Frame-Options'] == 'DENY'
    assert answer.headers['X-Content-Type-Options'] == 'nosniff'
    assert answer.headers['Referrer-Policy'] == 'same-origin'


def test_templates_hold_no_inline_script_or_style():
    folder = os.path.join(ROOT, 'templates')
    names = [os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files]
    assert {'stats/stats.html', 'settings/page.html'} <= set(names)   # the folders of areas are checked too
    for name in names:
        text = open(os.path.join(folder, name), encoding='utf-8').read()
        assert not re.search(r'<script(?![^>]*\bsrc=)', text), name
        assert not re.search(r'\son[a-z]+=', text) and ' style=' not in text and '<style' not in text, name


def test_json_escapes_markup():
    app = make_app(config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}}))
    body = app.pyrotorrent.json({'name': '</script><b>&'}).get_data(as_text=True)
    assert '<' not in body and '>' not in body and json.loads(body) == {'name': '</script><b>&'}


# -- only commands from the table leave pyroTorrent ---------------------------------------

def test_only_table_commands_reach_rtorrent(swarm):
    from model.clients.rtorrent import commands
    from model.clients.rtorrent import RTorrent
    assert not [n for n in commands.ALLOWED if n.startswith(commands.FORBIDDEN)]
    backend = RTorrent(swarm.seeder.url)
    sent = []
    real = backend.transport.request
    backend.transport.request = lambda body: sent.append(body) or real(body)
    for method in ('execute.throw', 'execute2', 'method.insert', 'import', 'schedule2',
                   'network.scgi.open_port', 'd.create_link', 'system.shell'):
        with pytest.raises(ValueError, match='not a command in model/clients/rtorrent/commands.py'):
            backend.call(method, '')
        with pytest.raises(ValueError, match='not a command in model/clients/rtorrent/commands.py'):
            backend.multicall([('d.name', [swarm.torrents[0]['hash']]), (method, [''])])
    assert sent == []                                 # refused before anything was sent
    assert backend.call('system.client_version') == '0.9.8'


def test_session_folder_must_be_private(tmp_path):
    from lib import sessions
    folder = tmp_path / 'own' / 'sessions'
    sessions.private_dir(str(folder))
    assert oct(os.stat(folder).st_mode & 0o777) == '0o700'
    os.chmod(folder, 0o777)
    sessions.private_dir(str(folder))                       # closed again
    assert oct(os.stat(folder).st_mode & 0o777) == '0o700'
    open_parent = tmp_path / 'open'
    open_parent.mkdir()
    os.chmod(open_parent, 0o777)                            # others could swap the folder below
    with pytest.raises(PermissionError, match='can be written by other users'):
        sessions.private_dir(str(open_parent / 'sessions'))
    (tmp_path / 'real').mkdir()
    os.symlink(tmp_path / 'real', tmp_path / 'link')
    with pytest.raises(PermissionError, match='symlink'):
        sessions.private_dir(str(tmp_path / 'link'))
    if os.getuid() == 0:
        theirs = tmp_path / 'theirs'
        theirs.mkdir()
        os.chown(theirs, 65534, 65534)
        with pytest.raises(PermissionError, match='belongs to another user'):
            sessions.private_dir(str(theirs / 'sessions'))
