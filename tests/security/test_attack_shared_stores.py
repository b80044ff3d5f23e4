"""Issue 20, item 7 (sec-a's half): what several processes share, tried for real.

- Two pyrotorrent.py --http processes sharing sessions in a real redis: a logout in A ends
  the session for B too (the very cookie replayed), and so does the idle timeout.
- The login throttle shared through redis (SHARED_COUNTERS): failures in A count in B.
- A PostgreSQL store's password (in the URL's user part, or as ?password=) is never shown:
  not on a page (even an admin's), not in the log, not by test.py or the worker, whether the
  password is wrong (a real scram-sha-256 login refused) or the server is stopped.
"""
import os
import subprocess
import sys
import time

import pytest
import requests

from lib import auth
from tests import webapp
from tests.servers import Postgres, _pg_bin
from tests.webapp import CSRF_TOKEN
from tests.workers import WorkerProcess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = 'right-password-1'
USERS = {'ada': {'password': auth.hash_password(PASSWORD), 'role': 'admin'}}
SECRET = 'the same long random text on every process'
ENDED = 'Your session has ended: log in again.'


def settings(tmp_path, redis_url, **more):
    return dict({'targets': {'home': {'url': 'scgi://127.0.0.1:9', 'timeout': 1}}, 'BASE_URL': '',
                 'REFRESH_SECONDS': 0, 'users': USERS, 'STORE': str(tmp_path / 'store.sqlite3'),
                 'session_options': {'session.type': 'ext:redis', 'session.url': redis_url,
                                     'session.secret': SECRET}}, **more)


def log_in(base, name='ada', password=PASSWORD):
    http = requests.Session()
    token = CSRF_TOKEN.search(http.get(base + '/login', timeout=30).text).group(1)
    answer = http.post(base + '/login', data={'name': name, 'password': password, 'csrf_token': token},
                       allow_redirects=False, timeout=30)
    return http, answer


def who(base, cookie):
    answer = requests.get(base + '/api/session', cookies={'pyrotorrent_session': cookie}, timeout=30)
    return answer.json()['user'] if answer.status_code == 200 else answer.status_code


def two_processes(tmp_path, config):
    a_dir, b_dir = tmp_path / 'a', tmp_path / 'b'
    a_dir.mkdir(exist_ok=True)
    b_dir.mkdir(exist_ok=True)
    return webapp.http_server(str(a_dir), config), webapp.http_server(str(b_dir), config)


def test_logout_and_expiry_in_one_process_end_the_session_in_the_other(tmp_path, redis_server):
    first, second = two_processes(tmp_path, settings(tmp_path, redis_server.url))
    with first as a, second as b:
        http, answer = log_in(a)
        assert answer.status_code == 303
        cookie = http.cookies['pyrotorrent_session']
        assert who(a, cookie) == 'ada' and who(b, cookie) == 'ada'
        token = CSRF_TOKEN.search(http.get(a + '/target/home/add', timeout=30).text).group(1)
        assert http.post(a + '/logout', data={'csrf_token': token}, allow_redirects=False, timeout=30).status_code == 303
        assert who(b, cookie) == 401 and who(a, cookie) == 401       # the old cookie, replayed
        page = requests.get(b + '/login', cookies={'pyrotorrent_session': cookie}, timeout=30).text
        assert 'csrf_token' in page

    config = settings(tmp_path, redis_server.url)
    config['session_options'] = dict(config['session_options'], **{'session.timeout': 2})
    first, second = two_processes(tmp_path, config)
    with first as a, second as b:
        http, answer = log_in(a)
        cookie = http.cookies['pyrotorrent_session']
        assert who(b, cookie) == 'ada'
        time.sleep(3.5)                 # idle past session.timeout
        assert who(b, cookie) == 401
        page = requests.get(b + '/login', cookies={'pyrotorrent_session': cookie}, timeout=30).text
        assert ENDED in page
        assert who(a, cookie) == 401


def test_failed_logins_in_one_process_count_in_the_other(tmp_path, redis_server):
    config = settings(tmp_path, redis_server.url, SHARED_COUNTERS=redis_server.url.replace('/0', '/3'))
    first, second = two_processes(tmp_path, config)
    with first as a, second as b:
        for _ in range(5):
            assert log_in(a, 'ada', 'wrong-password')[1].status_code == 401
        answer = log_in(b, 'ada', PASSWORD)[1]         # even the right password waits now
        assert answer.status_code == 429, answer.text[:300]
        assert 'Retry-After' in answer.headers and 'try again in' in answer.text


SECRET_PW = 'Sup3r-s3cret-pw'


@pytest.fixture(scope='module')
def guarded_postgres():
    """A PostgreSQL of its own where the user `guarded` logs in over TCP by scram-sha-256."""
    pg = Postgres().start()
    hba = os.path.join(pg.data, 'pg_hba.conf')
    with open(hba) as f:
        rules = f.read()
    with open(hba, 'w') as f:
        f.write('host all guarded 127.0.0.1/32 scram-sha-256\n' + rules)
    pg._run([_pg_bin('pg_ctl'), '-D', pg.data, 'reload'])
    pg.query('postgres', "CREATE ROLE guarded LOGIN PASSWORD 'the-real-one'")
    pg.query('postgres', 'CREATE DATABASE guarded OWNER guarded')
    yield pg
    pg.stop()


def leaks(text):
    return [line for line in text.splitlines() if SECRET_PW in line or SECRET_PW.lower() in line.lower()]


def check_nothing_shows_it(tmp_path, store_url):
    config = {'targets': {'home': {'url': 'scgi://127.0.0.1:9', 'timeout': 1}}, 'BASE_URL': '',
              'REFRESH_SECONDS': 0, 'users': USERS, 'STORE': store_url,
              'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}
    seen = []
    with webapp.http_server(str(tmp_path), config) as base:
        http, answer = log_in(base)
        assert answer.status_code == 303
        for page in ('/target/home/settings', '/api/target/home/settings', '/stats/', '/api/stats',
                     '/target/home/schedule', '/target/home/events', '/'):
            answer = http.get(base + page, timeout=60)
            seen.append((page, answer.text))
            assert not leaks(answer.text), (page, leaks(answer.text))
        settings_page = dict(seen)['/target/home/settings']
        assert 'guarded:***@' in settings_page or 'password=***' in settings_page, settings_page[:3000]
    with open(str(tmp_path / 'pyrotorrent.log'), encoding='utf-8', errors='replace') as f:
        log = f.read()
    assert not leaks(log), leaks(log)
    assert 'guarded' in log                     # the store's failure was logged, with its URL redacted
    config_path = str(tmp_path / 'config.py')
    tested = subprocess.run([sys.executable, os.path.join(ROOT, 'test.py'), config_path], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert not leaks(tested.stdout.decode()), tested.stdout
    worker = WorkerProcess(config_path, str(tmp_path / 'worker.log'))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and 'guarded' not in worker.log() and worker.alive():
            time.sleep(0.2)
    finally:
        worker.stop()
    assert 'guarded' in worker.log(), worker.log()
    assert not leaks(worker.log()), leaks(worker.log())
    return seen


@pytest.mark.parametrize('form', ['userinfo', 'query'])
def test_a_wrong_postgres_password_is_never_shown(tmp_path, guarded_postgres, form):
    pg = guarded_postgres
    url = ('postgresql://guarded:%s@127.0.0.1:%d/guarded' % (SECRET_PW, pg.port) if form == 'userinfo' else
           'postgresql://guarded@127.0.0.1:%d/guarded?password=%s&connect_timeout=5' % (pg.port, SECRET_PW))
    seen = check_nothing_shows_it(tmp_path, url)
    assert any('password authentication failed' in text for _, text in seen), seen[0][1][:2000]


def test_a_stopped_postgres_store_shows_no_password(tmp_path):
    pg = Postgres().start()
    port = pg.port
    pg.stop()
    url = 'postgresql://guarded:%s@127.0.0.1:%d/guarded?connect_timeout=5' % (SECRET_PW, port)
    check_nothing_shows_it(tmp_path, url)
