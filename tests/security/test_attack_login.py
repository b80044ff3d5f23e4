"""Guessing passwords side by side: the throttle counts a try before the slow password
hash runs, so 40 guesses sent at once reach the hash only as often as the documented
rule allows (5 per name and per address), against a real pyrotorrent.py --http."""
import threading
import time

import requests

from lib import auth
from tests.webapp import checks_allowed, csrf_token, http_server

PASSWORD = 'right-password-1'


def test_forty_concurrent_wrong_passwords_reach_the_hash_five_times(tmp_path):
    settings = {'targets': {'home': {'url': 'scgi://127.0.0.1:9'}}, 'BASE_URL': '/torrent',
                'users': {'alice': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}}
    with http_server(str(tmp_path), settings) as base:
        guessers = []
        for _ in range(40):             # each its own browser: its own session and token
            browser = requests.Session()
            page = browser.get(base + '/login', timeout=30)
            guessers.append((browser, csrf_token(page.text)))
        start = threading.Barrier(len(guessers))
        codes = []

        def guess(browser, token, n):
            start.wait()
            answer = browser.post(base + '/login', data={'name': 'alice', 'password': 'wrong-%d' % n,
                                                          'csrf_token': token},
                                  allow_redirects=False, timeout=60)
            codes.append(answer.status_code)
        threads = [threading.Thread(target=guess, args=(b, t, n)) for n, (b, t) in enumerate(guessers)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        took = time.monotonic() - began
        # 401: the password was checked (the hash ran); 429: refused before it
        assert sorted(set(codes)) == [401, 429], codes
        assert 5 <= codes.count(401) <= checks_allowed(took), '%d of 40 guesses reached the password check in %.1f s' % (
            codes.count(401), took)
        # (the waits that follow are checked with a clock of the test's own, below)


def test_the_throttle_reserves_a_try_before_the_check():
    now = [1000.0]
    throttle = auth.LoginThrottle(clock=lambda: now[0])
    keys = throttle.keys('Bob', '192.0.2.1')
    start = threading.Barrier(40)
    waits = []

    def attempt():
        start.wait()
        waits.append(throttle.begin(keys))
    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert waits.count(0) == 5 and all(w == 1.0 for w in waits if w)
    # refused tries are not counted, and do not move the wait on
    now[0] += 0.5
    assert throttle.begin(keys) == 0.5
    now[0] += 0.51
    assert throttle.begin(keys) == 0          # the 6th failure
    assert throttle.begin(throttle.keys('BOB', '192.0.2.9')) == 2.0      # names ignore case
    assert throttle.begin(throttle.keys('carol', '192.0.2.1')) == 2.0    # per address too
    now[0] += 2.0
    assert throttle.begin(keys) == 0
    throttle.succeeded(keys)                  # the right password clears the count
    assert [throttle.begin(keys) for _ in range(6)] == [0] * 5 + [1.0]
    now[0] += throttle.forget_after + 1       # forgotten a while after the last failure
    assert throttle.begin(keys) == 0


def test_the_wait_doubles_up_to_the_cap():
    now = [0.0]
    throttle = auth.LoginThrottle(free=1, first_wait=1.0, cap=8.0, clock=lambda: now[0])
    keys = throttle.keys('x', 'y')
    seen = []
    for _ in range(7):
        assert throttle.begin(keys) == 0
        seen.append(throttle.begin(keys))
        now[0] += seen[-1]
    assert seen == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_a_counter_store_is_what_the_throttle_shares():
    """A shared store (redis, memcached) implements MemoryCounters' three methods."""
    store = auth.MemoryCounters()
    assert store.add('k', 10.0, 900.0) == (0, None)
    assert store.add('k', 11.0, 900.0) == (1, 10.0)
    store.undo('k', 1, 10.0)
    assert store.add('k', 12.0, 900.0) == (1, 10.0)
    store.clear('k')
    assert store.add('k', 13.0, 900.0) == (0, None)
    assert store.add('k', 2000.0, 900.0) == (0, None)        # forgotten
    throttle = auth.LoginThrottle(store=store)
    assert throttle.store is store
