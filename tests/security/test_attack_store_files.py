"""Issue 20, item 6: the SQLite store's files are private, and only admins see where it lives.

The store holds who did what and the targets' settings: made under the usual umask (022) its
file, -wal and -shm must still be 600 and a folder pyroTorrent makes 750.  A store that
cannot be opened (here: a file that is not a database) is a 503 naming the store's path to an
admin only; a viewer is told the same in words, without the path or its folder.
"""
import os
import stat

import pytest
from werkzeug.test import Client

from lib import auth, config
from lib.store import Store
from pyrotorrent import make_app
from tests.webapp import from_address, login

PASSWORD = 'right-password-1'
USERS = {'ada': {'password': auth.hash_password(PASSWORD), 'role': 'admin'},
         'vic': {'password': auth.hash_password(PASSWORD), 'role': 'viewer'},
         'uma': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_sqlite_store_is_private_whatever_the_umask(tmp_path, usual_umask):
    path = str(tmp_path / 'data' / 'store.sqlite3')
    store = Store.open(path)
    store.put_preference('ada', 'columns', ['name', 'size'])        # a write: -wal and -shm exist now
    assert store.preference('ada', 'columns') == ['name', 'size']
    files = [path, path + '-wal', path + '-shm']
    assert all(os.path.exists(f) for f in files), os.listdir(str(tmp_path / 'data'))
    assert {f: oct(mode(f)) for f in files} == {f: oct(0o600) for f in files}
    assert oct(mode(str(tmp_path / 'data'))) == oct(0o750)
    # a second process's connection (the worker) keeps them so
    again = Store.open(path)
    again.put_preference('vic', 'columns', ['name'])
    assert {f: oct(mode(f)) for f in files} == {f: oct(0o600) for f in files}


def broken_store_app(tmp_path):
    path = tmp_path / 'private-folder' / 'store.sqlite3'
    path.parent.mkdir()
    path.write_bytes(b'this is not an SQLite database, but it is where the store should be' * 20)
    app = make_app(config.from_dict({
        'targets': {'home': {'url': 'scgi://127.0.0.1:9', 'timeout': 1}}, 'BASE_URL': '', 'REFRESH_SECONDS': 0,
        'users': USERS, 'STORE': str(path), 'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}))
    return app, str(path)


PAGES = ['/target/home/settings', '/api/target/home/settings', '/stats/', '/api/stats',
         '/target/home/schedule', '/api/target/home/schedule', '/target/home/events', '/api/target/home/events']


def test_only_admins_see_where_a_broken_store_lives(tmp_path):
    app, path = broken_store_app(tmp_path)
    folder = os.path.dirname(path)
    told = {}
    for name in ('ada', 'vic', 'uma'):
        web = Client(from_address(app))
        assert login(web, name, PASSWORD).status_code == 303
        for page in PAGES:
            answer = web.get(page)
            text = answer.get_data(as_text=True)
            assert answer.status_code == 503, (name, page, answer.status_code, text[:300])
            told[name, page] = text
            if name == 'ada':
                assert path in text, (page, text[:500])
            else:
                assert path not in text and folder not in text and 'private-folder' not in text, (name, page, text)
                assert '(its location is shown to admins)' in text, (name, page, text[:500])
    assert 'not a database' in told['vic', '/target/home/settings']     # the cause, in words, for everyone
