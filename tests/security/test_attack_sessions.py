"""Anonymous visits must not fill the session store: a visitor with no cookie gets a login
form (and its CSRF token) without a stored session, and expired sessions are purged."""
import os
import time

from beaker.session import Session
from werkzeug.test import Client

from lib import auth, config, sessions
from pyrotorrent import make_app
from tests.webapp import csrf_token, from_address

PASSWORD = 'right-password-1'
USERS = {'alice': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}


def app(tmp_path, **settings):
    settings = dict({'targets': {'home': {'url': 'scgi://127.0.0.1:9'}}, 'BASE_URL': '', 'REFRESH_SECONDS': 0,
                     'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}, **settings)
    return from_address(make_app(config.from_dict(settings)))


def stored(tmp_path):
    """The files Beaker's file store holds (sessions and their locks)."""
    found = []
    for folder, _, files in os.walk(str(tmp_path / 'sessions')):
        found += [os.path.join(folder, f) for f in files if f.endswith(('.cache', '.lock'))]
    return found


def test_cookieless_visits_leave_no_session_files(tmp_path):
    web = Client(app(tmp_path, users=USERS), use_cookies=False)
    for _ in range(250):
        page = web.get('/login')
        assert page.status_code == 200 and csrf_token(page.get_data(as_text=True))
        assert web.get('/').status_code == 303
    assert stored(tmp_path) == []
    # and a login still works, its token from a page that stored nothing
    browser = Client(app(tmp_path, users=USERS))
    token = csrf_token(browser.get('/login').get_data(as_text=True))
    assert stored(tmp_path) == []
    answer = browser.post('/login', data={'name': 'alice', 'password': PASSWORD, 'csrf_token': token})
    assert answer.status_code == 303
    assert browser.get('/api/session').get_json()['user'] == 'alice'
    assert len([f for f in stored(tmp_path) if f.endswith('.cache')]) == 1
    # a token without its cookie, or another visitor's, is refused
    other = Client(app(tmp_path, users=USERS))
    assert other.post('/login', data={'name': 'alice', 'password': PASSWORD, 'csrf_token': token}).status_code == 403


def test_made_up_session_ids_leave_no_session_files(tmp_path):
    """A visitor sending a fresh made-up session id with every request (the cookie is the
    attacker's to write) must not make Beaker create a lock file (and its folders) for each:
    an unauthenticated flood would fill the disk's inodes, and the purger only removes the
    locks of sessions that were stored."""
    import secrets
    web = Client(app(tmp_path, users=USERS))
    for _ in range(100):
        web.set_cookie('pyrotorrent_session', secrets.token_hex(16))
        assert web.get('/login').status_code == 200
        assert web.get('/').status_code == 303
    assert stored(tmp_path) == []
    # a real login's session still works, and is the only one stored
    browser = Client(app(tmp_path, users=USERS))
    token = csrf_token(browser.get('/login').get_data(as_text=True))
    assert browser.post('/login', data={'name': 'alice', 'password': PASSWORD, 'csrf_token': token}).status_code == 303
    assert browser.get('/api/session').get_json()['user'] == 'alice'
    assert len([f for f in stored(tmp_path) if f.endswith('.cache')]) == 1


def test_without_users_pages_store_nothing_and_forms_still_work(tmp_path):
    web = Client(app(tmp_path), use_cookies=False)
    for _ in range(250):
        assert web.get('/login').status_code == 303
        page = web.get('/target/home/add')
        assert csrf_token(page.get_data(as_text=True))
    assert stored(tmp_path) == []
    browser = Client(app(tmp_path))
    token = csrf_token(browser.get('/target/home/add').get_data(as_text=True))
    assert browser.post('/logout', data={'csrf_token': token}).status_code == 303
    assert browser.post('/logout', data={'csrf_token': 'x' + token[1:]}).status_code == 403


def make_session(data_dir, age):
    session = Session({}, type='file', data_dir=data_dir, data_serializer='json', timeout=3600)
    session['user'] = 'alice'
    session.save()
    cache = stored_in(data_dir, session.id, '.cache')
    past = time.time() - age
    os.utime(cache, (past, past))
    return session.id


def stored_in(data_dir, session_id, extension):
    for folder, _, files in os.walk(data_dir):
        for name in files:
            if name.endswith(extension) and (name.startswith(session_id) or extension == '.lock'):
                return os.path.join(folder, name)


def test_purge_removes_expired_sessions_and_keeps_live_ones(tmp_path):
    data_dir = str(tmp_path / 'sessions')
    options = sessions.options({'session.data_dir': data_dir}, '/')
    sessions.private_dir(data_dir)
    old, live = make_session(data_dir, 7200), make_session(data_dir, 60)
    outside = tmp_path / 'precious.cache'
    outside.write_text('keep me')
    os.utime(str(outside), (0, 0))
    os.symlink(str(outside), os.path.join(data_dir, 'container_file', 'planted.cache'))
    os.symlink(str(tmp_path), os.path.join(data_dir, 'container_file', 'z'))
    assert len(stored(tmp_path)) == 5      # two sessions, their locks, the planted link
    removed = sessions.purge_expired(options)
    assert removed == 1
    names = [os.path.basename(f) for f in stored(tmp_path)]
    assert live + '.cache' in names and old + '.cache' not in names
    assert len([n for n in names if n.endswith('.lock')]) == 1        # the old one's lock went too
    assert outside.read_text() == 'keep me'
    assert Session({'HTTP_COOKIE': ''}, id=live, type='file', data_dir=data_dir, data_serializer='json',
                   timeout=3600)['user'] == 'alice'
    assert sessions.purge_expired(options, now=time.time() + 7200) == 1       # in two hours: the live one too
    assert sessions.purge_expired(sessions.options({'session.type': 'ext:memcached'}, '/')) == 0


def test_the_worker_purges_expired_sessions(tmp_path, swarm):
    """Purging is time-based work, so the worker does it (never a request): a real
    `pyrotorrent.py worker` on the same session folder deletes the expired session at once
    and keeps the live one."""
    from tests.workers import WorkerProcess, write_config
    data_dir = str(tmp_path / 'sessions')
    sessions.private_dir(data_dir)
    old, live = make_session(data_dir, 7200), make_session(data_dir, 60)
    config_path = write_config(str(tmp_path / 'config.py'), targets={'seeder': {'url': swarm.seeder.url}},
                               STORE=str(tmp_path / 'store.sqlite3'), WORKER_TICK_SECONDS=1,
                               session_options={'session.data_dir': data_dir})
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        worker.wait_log('removed 1 expired session(s)', 30)
    finally:
        assert worker.stop() == 0
    names = [os.path.basename(f) for f in stored(tmp_path)]
    assert live + '.cache' in names and old + '.cache' not in names
