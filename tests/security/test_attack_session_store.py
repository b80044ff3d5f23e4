"""Issue 20, item 1: whoever can write to the session store must not run code in pyroTorrent.

The attacker writes to the store as a client of it would (redis: list the keys, SET one;
memcached: the text protocol, an item flagged as a pickle; the file store: overwrite the
session's file), putting there a pickle whose loading creates a marker file, and the victim
loads a page with their genuine, signed cookie.  The marker must not appear, and the victim
is simply anonymous: the login page says the session ended.  Unreadable entries, entries in
Beaker's old pickled format (an upgrade) and forged entries without the store's key alike.
"""
import os
import pickle
import socket

import pytest
from werkzeug.test import Client

from lib import auth, config, session_store
from pyrotorrent import make_app
from tests.webapp import from_address, login

PASSWORD = 'right-password-1'
SECRET = 'the same long random text on every process'
USERS = {'alice': {'password': auth.hash_password(PASSWORD), 'role': 'admin'}}
ENDED = 'Your session has ended: log in again.'


class Payload:
    """What the attacker plants: unpickling it creates the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


class FileStore:
    kind = 'file'

    def __init__(self, tmp_path):
        self.data_dir = str(tmp_path / 'sessions')
        self.options = {'session.data_dir': self.data_dir, 'session.secret': SECRET}

    def path(self, sid):
        from beaker.util import encoded_path
        return encoded_path(os.path.join(self.data_dir, 'container_file'), [sid], extension='.cache',
                            digest_filenames=False)

    def read(self, sid):
        with open(self.path(sid), 'rb') as f:
            return f.read()

    def write(self, sid, raw, pickled_flag=False):
        with open(self.path(sid), 'wb') as f:
            f.write(raw)

    def old_format(self, value):
        return pickle.dumps({'session': value})         # what Beaker's file store wrote


class RedisStore:
    kind = 'ext:redis'

    def __init__(self, server):
        import redis
        self.client = redis.Redis.from_url(server.url)
        self.options = {'session.type': 'ext:redis', 'session.url': server.url, 'session.secret': SECRET}

    def key(self, sid):
        keys = [k for k in self.client.keys('beaker_cache:*') if sid.encode() in k]     # as the attacker would
        assert len(keys) == 1, keys
        return keys[0]

    def read(self, sid):
        return self.client.get(self.key(sid))

    def write(self, sid, raw, pickled_flag=False):
        self.client.set(self.key(sid), raw)

    def old_format(self, value):
        return pickle.dumps(value)                      # what Beaker's ext:redis wrote


class MemcachedStore:
    kind = 'ext:memcached'

    def __init__(self, server):
        self.host, port = server.address.split(':')
        self.port = int(port)
        self.options = {'session.type': 'ext:memcached', 'session.url': server.address, 'session.secret': SECRET}

    def _talk(self, command):
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            s.sendall(command)
            answer = b''
            while not answer.endswith((b'END\r\n', b'STORED\r\n', b'ERROR\r\n')):
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            return answer

    def read(self, sid):
        answer = self._talk(b'get %s_session\r\n' % sid.encode())
        header, _, rest = answer.partition(b'\r\n')
        assert header.startswith(b'VALUE'), answer
        return rest[:int(header.split()[3])]

    def write(self, sid, raw, pickled_flag=False):
        # python-memcached's flag 1: "this item is a pickle"
        flags = 1 if pickled_flag else 0
        answer = self._talk(b'set %s_session %d 0 %d\r\n%s\r\n' % (sid.encode(), flags, len(raw), raw))
        assert answer == b'STORED\r\n', answer

    def old_format(self, value):
        return value.encode()                           # Beaker stored the text (python-memcached's flag 0)


@pytest.fixture(params=['file', 'redis', 'memcached'])
def store(request, tmp_path):
    if request.param == 'file':
        return FileStore(tmp_path)
    if request.param == 'redis':
        return RedisStore(request.getfixturevalue('redis_server'))
    return MemcachedStore(request.getfixturevalue('memcached_server'))


def browser(store):
    app = from_address(make_app(config.from_dict({
        'targets': {'home': {'url': 'scgi://127.0.0.1:9'}}, 'BASE_URL': '', 'REFRESH_SECONDS': 0,
        'users': USERS, 'session_options': store.options})))
    return Client(app)


def logged_in(store):
    web = browser(store)
    assert login(web, 'alice', PASSWORD).status_code == 303
    assert web.get('/api/session').get_json()['user'] == 'alice'
    sid = web.get_cookie('pyrotorrent_session').value[40:]      # Beaker's signed cookie: 40 hex of HMAC, the id
    return web, sid


def assert_anonymous_and_told(web, answer=None):
    answer = answer or web.get('/')
    assert answer.status_code == 303 and '/login' in answer.headers['Location']
    page = web.get(answer.headers['Location'])
    assert page.status_code == 200
    assert ENDED in page.get_data(as_text=True)
    assert web.get('/api/session').status_code == 401


def test_a_planted_pickle_runs_nothing_and_the_victim_is_anonymous(store, tmp_path):
    web, sid = logged_in(store)
    marker = tmp_path / 'pwned'
    store.write(sid, pickle.dumps(Payload(str(marker))), pickled_flag=True)
    answer = web.get('/')
    assert not marker.exists(), 'reading the planted session ran its code'
    assert_anonymous_and_told(web, answer)


def test_unreadable_and_forged_entries_are_anonymous_not_an_error(store):
    for raw in (b'\x00garbage\xff' * 10, b'', session_store.MARK + b'0' * 64 + b':' + b'eJzLSM3JyVcozy/KSQEAGgQEXQ=='):
        web, sid = logged_in(store)
        store.write(sid, raw or b' ')
        assert_anonymous_and_told(web)
    # signed with the store's key, but not a session inside: Beaker's loader fails, the session is fresh
    web, sid = logged_in(store)
    entries = session_store.namespace_class(store.kind, SECRET)(sid, **_manager_args(store))
    store.write(sid, entries._pack('not base64, zlib nor JSON'))
    assert_anonymous_and_told(web)


def test_a_session_from_before_the_upgrade_is_ended_in_words(store):
    web, sid = logged_in(store)
    value = store.read(sid)
    assert value.startswith(session_store.MARK)         # what is stored: the mark, not a pickle
    inner = value[len(session_store.MARK):].partition(b':')[2]
    store.write(sid, store.old_format(inner.decode()))
    assert_anonymous_and_told(web)
    # and logging in again works
    assert login(web, 'alice', PASSWORD).status_code == 303
    assert web.get('/api/session').get_json()['user'] == 'alice'


def test_unsupported_stores_refused_at_start(tmp_path):
    for kind in ('dbm', 'ext:database', 'ext:sqla', 'cookie'):
        with pytest.raises(config.ConfigError) as refused:
            config.from_dict({'targets': {'home': {'url': 'scgi://127.0.0.1:9'}},
                              'session_options': {'session.type': kind, 'session.secret': SECRET}})
        assert 'keeps pickles' in str(refused.value) and "'file', 'ext:redis', 'ext:memcached'" in str(refused.value)


def _manager_args(store):
    if store.kind == 'file':
        return {'data_dir': store.data_dir, 'digest_filenames': False}
    return {'url': store.options['session.url']}
