"""A shared session store that hangs (a real redis-server or memcached frozen with
SIGSTOP, as a host that stops answering): a request with a session answers within the
store's deadline instead of hanging for ever (redis: a 503 naming the store; memcached's
client takes a silent server for an empty one: the login page), without ending the
session: once the store is back the user is logged in as before."""
import os
import signal
import time

import pytest
from werkzeug.test import Client

from lib import auth, config
from pyrotorrent import make_app
from tests import rig
from tests.servers import Memcached, Redis
from tests.webapp import from_address, login, page_text

PASSWORD = 'right-password-1'
USERS = {'alice': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}
MARGIN = 3.0                 # seconds a deadline may be overrun by a busy machine


def options(kind, server):
    if kind == 'redis':
        return {'session.type': 'ext:redis', 'session.url': server.url, 'session.secret': 's' * 32}
    return {'session.type': 'ext:memcached', 'session.url': server.address, 'session.secret': 's' * 32}


@pytest.mark.parametrize('kind', ['redis', 'memcached'])
def test_a_frozen_session_store_answers_in_words_within_its_deadline(kind):
    server = (Redis if kind == 'redis' else Memcached)().start()
    try:
        app = make_app(config.from_dict({'targets': {'home': {'url': 'scgi://127.0.0.1:9'}}, 'BASE_URL': '',
                                         'REFRESH_SECONDS': 0, 'users': USERS,
                                         'session_options': options(kind, server)}))
        web = Client(from_address(app))
        assert login(web, 'alice', PASSWORD).status_code == 303
        assert web.get('/api/session').get_json()['user'] == 'alice'
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            answer = web.get('/target/home/')
            took = time.monotonic() - start
            assert took < 5 + MARGIN, 'the page waited %.1f s on a frozen %s' % (took, kind)
            if kind == 'redis':
                assert answer.status_code == 503
                text = page_text(answer.get_data(as_text=True))
                assert 'session store (redis at redis://127.0.0.1' in text and 'did not answer' in text
            else:       # python-memcached takes a server that does not answer for an empty one
                assert answer.status_code == 303 and '/login' in answer.headers['Location']
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        # python-memcached asks a server it found dead again after 30 s (dead_retry)
        rig.wait_for(lambda: web.get('/api/session').get_json().get('user') == 'alice', 45,
                     'the session to be back with its store')
    finally:
        server.stop()
