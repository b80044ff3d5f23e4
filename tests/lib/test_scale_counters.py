"""lib/shared_counters.py on a real redis-server and memcached: the login throttle's counts
(lib.auth.MemoryCounters' interface) shared by processes, each step atomic."""
import multiprocessing
import os

import pytest

from lib import auth, config
from lib.shared_counters import CountersError, counters_for, throttle_options

FORGET = 900.0


@pytest.fixture(params=['redis', 'memcached'])
def url(request, redis_server, memcached_server):
    if request.param == 'redis':
        return redis_server.url
    return 'memcached://' + memcached_server.address


def fresh_key(name):
    return ('name', '%s-%d-%s' % (name, os.getpid(), os.urandom(4).hex()))


def test_add_undo_clear_and_forgetting(url):
    counters, key = counters_for(url), fresh_key('alice')
    assert counters.add(key, 1000.0, FORGET) == (0, None)
    assert counters.add(key, 1001.5, FORGET) == (1, 1000.0)
    assert counters.add(key, 1002.25, FORGET) == (2, 1001.5)
    counters.undo(key, 2, 1001.5)                          # nothing counted since: as it was
    assert counters.add(key, 1003.0, FORGET) == (2, 1001.5)
    assert counters.add(key, 1003.0 + FORGET + 1, FORGET) == (0, None)      # forgotten
    counters.clear(key)
    assert counters.add(key, 5000.0, FORGET) == (0, None)
    counters.undo(key, 0, None)                             # back to nothing at all
    assert counters.add(key, 5001.0, FORGET) == (0, None)
    other = fresh_key('bob')
    counters.undo(other, 3, 1.0)                            # nothing to undo: nothing happens
    assert counters.add(other, 1.0, FORGET) == (0, None)


def test_the_same_answers_as_memory_counters(url):
    shared, mine, key = counters_for(url), auth.MemoryCounters(), fresh_key('carol')
    steps = [('add', 10.0), ('add', 11.0), ('undo',), ('add', 12.0), ('add', 13.0), ('clear',), ('add', 14.0)]
    last_add = {}
    for step in steps:
        if step[0] == 'add':
            one, two = shared.add(key, step[1], FORGET), mine.add(key, step[1], FORGET)
            assert one == two
            last_add = one
        elif step[0] == 'undo':
            shared.undo(key, *last_add)
            mine.undo(key, *last_add)
        else:
            shared.clear(key)
            mine.clear(key)


def _hammer(url, key, tries, queue):
    counters = counters_for(url)
    queue.put([counters.add(key, 100.0 + i / 1000, FORGET)[0] for i in range(tries)])


def test_forty_tries_from_two_processes_at_once_are_each_counted_once(url):
    key = fresh_key('guess')
    queue = multiprocessing.get_context('fork').Queue()
    procs = [multiprocessing.get_context('fork').Process(target=_hammer, args=(url, key, 20, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    seen = queue.get(timeout=60) + queue.get(timeout=60)
    for p in procs:
        p.join(30)
    assert sorted(seen) == list(range(40))                  # every try saw a different count


def test_throttle_options_and_the_config_key(redis_server):
    conf = config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'SHARED_COUNTERS': redis_server.url})
    options = throttle_options(conf)
    assert options['clock'].__name__ == 'time' and hasattr(options['store'], 'undo')
    assert throttle_options(config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}})) == {}
    with pytest.raises(config.ConfigError, match='SHARED_COUNTERS must be a URL like "redis://127.0.0.1:6379/1"'):
        config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'SHARED_COUNTERS': '127.0.0.1:6379'})
    with pytest.raises(CountersError, match='SHARED_COUNTERS must be a URL'):
        counters_for('http://x')


def test_a_server_that_is_gone_is_an_error_in_words():
    with pytest.raises(CountersError, match=r'the shared counters at redis://:\*\*\*@127.0.0.1:1/0 cannot be used'):
        counters_for('redis://:secret@127.0.0.1:1/0').add(('name', 'x'), 1.0, FORGET)
    with pytest.raises(CountersError, match='the shared counters at memcached://127.0.0.1:1 cannot be used'):
        counters_for('memcached://127.0.0.1:1').add(('name', 'x'), 1.0, FORGET)
