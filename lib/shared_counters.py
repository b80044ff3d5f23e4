"""Counters that several pyroTorrent processes share: the login throttle's failed tries,
kept in redis or memcached (the same server the sessions may use), so N FastCGI
processes on any number of hosts allow the documented number of guesses together.

The same interface as lib.auth.MemoryCounters, each method atomic on its own key:

    add(key, now, forget_after) -> (count, last) as they were before this try
    undo(key, count, last)      takes back the try add() counted
    clear(key)

redis: one Lua script a call (redis runs a script alone).  memcached: compare-and-set on
the key (gets/cas), retried when another process changed it in between.  Each key expires
by itself after forget_after seconds, so a flood of names cannot fill the server.
`now` must be the same clock on every host (time.time, not time.monotonic).

    counters = counters_for('redis://127.0.0.1:6379/1')      # or memcached://127.0.0.1:11211
"""
import hashlib
import json
import math
import time
import urllib.parse

PREFIX = 'pyrotorrent:counter:'


class CountersError(Exception):
    """The shared counters' server cannot be used; str() names it and says why."""


def counters_for(url, prefix=PREFIX):
    """The shared counters at `url`: redis://[:password@]host:port/db, rediss://..., or
    memcached://host:port[,host:port...]."""
    scheme = urllib.parse.urlsplit(url).scheme.lower() if isinstance(url, str) else ''
    if scheme in ('redis', 'rediss', 'unix'):
        return RedisCounters(url, prefix)
    if scheme == 'memcached':
        return MemcachedCounters(url, prefix)
    raise CountersError('SHARED_COUNTERS must be a URL like redis://127.0.0.1:6379/1 or '
                        'memcached://127.0.0.1:11211, not %r' % (url,))


def throttle_options(config):
    """LoginThrottle's keyword arguments for config.SHARED_COUNTERS: its counters and a clock
    that every host shares; {} (the throttle's own defaults) when it is not set."""
    url = getattr(config, 'SHARED_COUNTERS', '')
    if not url:
        return {}
    return {'store': counters_for(url), 'clock': time.time}


def _name(prefix, key):
    """A key the server takes whatever the name holds (memcached: no spaces, <= 250 bytes)."""
    return prefix + hashlib.sha256(json.dumps(key, ensure_ascii=False).encode('utf-8')).hexdigest()[:40]


def _redact(url):
    parts = urllib.parse.urlsplit(url)
    return url.replace(':%s@' % parts.password, ':***@') if parts.password else url


# KEYS[1]; ARGV: now, forget_after.  The hash holds count and last (as the caller wrote it).
_ADD = """
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local last = redis.call('HGET', KEYS[1], 'last')
if last and tonumber(ARGV[1]) - tonumber(last) > tonumber(ARGV[2]) then
  count = 0
  last = false
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return {tostring(count), last}
"""
# KEYS[1]; ARGV: count, last ('' for none), forget_after.
_UNDO = """
local current = redis.call('HGET', KEYS[1], 'count')
if not current then return 0 end
current = tonumber(current)
if current == tonumber(ARGV[1]) + 1 then
  if tonumber(ARGV[1]) == 0 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'count', ARGV[1], 'last', ARGV[2])
  end
else
  redis.call('HSET', KEYS[1], 'count', math.max(0, current - 1))
end
return 1
"""


class RedisCounters:
    def __init__(self, url, prefix=PREFIX):
        try:
            import redis
        except ImportError:
            raise CountersError('SHARED_COUNTERS %s needs the redis package: pip install -r requirements.txt'
                                % _redact(url)) from None
        self.url, self.prefix = url, prefix
        self._error = redis.RedisError
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._add = self.client.register_script(_ADD)
        self._undo = self.client.register_script(_UNDO)

    def _call(self, what, *args, **kwargs):
        try:
            return what(*args, **kwargs)
        except self._error as exc:
            raise CountersError('the shared counters at %s cannot be used: %s' % (_redact(self.url), exc)) from None

    def add(self, key, now, forget_after):
        count, last = self._call(self._add, keys=[_name(self.prefix, key)], args=[repr(float(now)), forget_after])
        return int(count), (float(last) if last else None)

    def undo(self, key, count, last):
        self._call(self._undo, keys=[_name(self.prefix, key)],
                   args=[count, '' if last is None else repr(float(last))])

    def clear(self, key):
        self._call(self.client.delete, _name(self.prefix, key))


class MemcachedCounters:
    RETRIES = 100                        # compare-and-set rounds before giving up in words

    def __init__(self, url, prefix=PREFIX):
        try:
            import memcache
        except ImportError:
            raise CountersError('SHARED_COUNTERS %s needs the python-memcached package: '
                                'pip install -r requirements.txt' % url) from None
        servers = urllib.parse.urlsplit(url).netloc.split(',')
        self.url, self.prefix = url, prefix
        self.client = memcache.Client(servers, cache_cas=True, socket_timeout=5, dead_retry=1)

    def _update(self, key, change, forget_after):
        """change((count, last) or None) -> new (count, last) or None (delete); atomic by CAS.
        What was there before is returned."""
        name = _name(self.prefix, key)
        seconds = int(math.ceil(forget_after)) + 1
        for _ in range(self.RETRIES):
            self.client.reset_cas()
            raw = self.client.gets(name)
            before = tuple(json.loads(raw)) if raw else None
            after = change(before)
            if after is None:
                if before is None or self.client.delete(name):
                    return before
                continue
            value = json.dumps(after)
            stored = self.client.add(name, value, time=seconds) if before is None else \
                self.client.cas(name, value, time=seconds)
            if stored:
                return before
            if before is None and not self._reachable():
                break
        raise CountersError('the shared counters at %s cannot be used: no answer, or the key kept changing'
                            % self.url)

    def _reachable(self):
        return any(server.connect() for server in self.client.servers)

    def add(self, key, now, forget_after):
        def change(before):
            count, last = before or (0, None)
            if last is not None and now - last > forget_after:
                count = 0
            return count + 1, now
        before = self._update(key, change, forget_after)
        count, last = before or (0, None)
        if last is not None and now - last > forget_after:
            return 0, None
        return count, last

    def undo(self, key, count, last, forget_after=900.0):
        def change(current):
            if current is None:
                return None
            if current[0] == count + 1:
                return (count, last) if count else None
            return max(0, current[0] - 1), current[1]
        self._update(key, change, forget_after)

    def clear(self, key):
        self.client.delete(_name(self.prefix, key))
