"""Issue 20, item 6: two admins saving a target's settings at once must not leave the store
saying A while rTorrent does B.

Two pyroTorrent apps (two store connections, as two FastCGI processes have) on one store and
one real rtorrent.  Admin A's save reaches rtorrent, whose answer is slow to come back to A
(held a second on A's side of the socket); admin B saves another limit meanwhile.  Without a
lock B's value is in rtorrent and A's in the store.
"""
import threading
import time

import pytest

from lib.store import Store
from model import settings
from tests import webapp

KiB = 1024


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('race').daemon


def slow_answer_once(web, after):
    """A's transport: the first settings batch reaches rtorrent, then its answer waits 1 s."""
    backend = webapp.backends(web)['t']
    real = backend.transport.request
    state = {'slowed': False}

    def request(body):
        answer = real(body)
        if not state['slowed'] and b'throttle.global_down.max_rate.set' in body:
            state['slowed'] = True
            after.set()
            time.sleep(1.0)
        return answer
    backend.transport.request = request


def test_two_saves_at_once_leave_store_and_rtorrent_agreeing(daemon, tmp_path):
    store_path = str(tmp_path / 'store.sqlite3')
    web_a = webapp.client({'t': daemon.url}, STORE=store_path)
    web_b = webapp.client({'t': daemon.url}, STORE=store_path)
    tokens = {id(w): webapp.csrf_token(w.get('/target/t/settings').get_data(as_text=True)) for w in (web_a, web_b)}
    reached = threading.Event()
    slow_answer_once(web_a, reached)
    answers = {}

    def save(web, name, limit):
        answers[name] = web.post('/api/target/t/settings', json={'down_limit': limit},
                                 headers={'X-CSRF-Token': tokens[id(web)]})
    try:
        first = threading.Thread(target=save, args=(web_a, 'a', '100 KiB/s'))
        first.start()
        assert reached.wait(20), 'A never sent its settings'
        save(web_b, 'b', '200 KiB/s')
        first.join(30)
        assert answers['a'].status_code == 200 and answers['b'].status_code == 200, (
            answers['a'].get_data(as_text=True), answers['b'].get_data(as_text=True))
        stored = Store.open(store_path).values('t', settings.DESIRED)['down_limit'].value
        live = daemon.call('throttle.global_down.max_rate')
        assert stored == live, 'the store says %d B/s, rtorrent does %d B/s' % (stored, live)
        assert live == 200 * KiB                 # B came second: its save waited for A's
        assert Store.open(store_path).lease('settings t') is None       # released
    finally:
        daemon.call('throttle.global_down.max_rate.set', '', 0)


def test_a_save_held_past_its_time_is_refused_in_words(daemon, tmp_path):
    store_path = str(tmp_path / 'store.sqlite3')
    web = webapp.client({'t': {'url': daemon.url, 'timeout': 0.2}}, STORE=store_path)
    token = webapp.csrf_token(web.get('/target/t/settings').get_data(as_text=True))
    other = Store.open(store_path)
    other.acquire_lease('settings t', 'a process that hangs', 'elsewhere', 4242, 60)
    answer = web.post('/api/target/t/settings', json={'down_limit': '300 KiB/s'}, headers={'X-CSRF-Token': token})
    assert answer.status_code == 409, answer.get_data(as_text=True)
    message = answer.get_json()['error']['message']
    assert 'being saved by another request (process 4242 on elsewhere)' in message and 'nothing was changed' in message
    assert 'down_limit' not in Store.open(store_path).values('t', settings.DESIRED)
    assert daemon.call('throttle.global_down.max_rate') == 0


def test_the_user_role_sets_the_header_limits_and_nothing_else(daemon, tmp_path):
    """docs/security.rst's role table, exactly: a `user` may use the header's quick limits
    (the daily control) but no other setting; the POST routes open to `user` are these."""
    from lib.pages.app import URL_MAP
    from lib import auth
    user_posts = {r.endpoint for r in URL_MAP.iter_rules() if 'POST' in r.methods and r.role == 'user'}
    assert user_posts == {'action', 'api_action', 'erase', 'file_priorities', 'trackers', 'add', 'api_add',
                          'quick_limits'}
    users = {'uma': {'password': auth.hash_password('right-password-1'), 'role': 'user'}}
    web = webapp.client({'t': daemon.url}, STORE=str(tmp_path / 'store.sqlite3'), users=users)
    assert webapp.login(web, 'uma', 'right-password-1').status_code == 303
    token = webapp.csrf_token(web.get('/target/t/').get_data(as_text=True))
    try:
        answer = web.post('/target/t/limits', data={'down_limit': '50 KiB/s', 'csrf_token': token})
        assert answer.status_code == 303
        assert daemon.call('throttle.global_down.max_rate') == 50 * KiB
        answer = web.post('/target/t/limits', data={'alt_enabled': 'on', 'csrf_token': token})
        assert answer.status_code == 303
        refused = web.post('/target/t/settings', data={'down_limit': '70 KiB/s', 'csrf_token': token})
        assert refused.status_code == 403
        assert 'set the global speed limits from the header, but not change other settings' in \
            refused.get_data(as_text=True)
        refused = web.post('/api/target/t/settings', json={'max_peers': 10}, headers={'X-CSRF-Token': token})
        assert refused.status_code == 403
        assert daemon.call('throttle.global_down.max_rate') != 70 * KiB
    finally:
        daemon.multicall([('throttle.global_down.max_rate.set', ['', 0]), ('throttle.global_up.max_rate.set', ['', 0])])
