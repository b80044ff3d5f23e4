"""The rows of lists that were stopped and idle when last looked at, kept per process, so
a refresh need not ask the client for them again.

    idle = IdleRows(is_idle, keep=30.0)
    idle.seen(target, torrents, sizes)        # after every look at rows: a list, a refresh
    kept, sizes = idle.usable(target, hashes, wake)   # {hash: row} a refresh may leave out

rTorrent finds a torrent named by its hash by scanning its whole list (about 0.12 us a
torrent, 0.6 ms for one lookup at 10,000), while a stopped torrent's figures cannot change
until it is started or checked, which the refresh learns from the (small) 'started' and
'hashing' views instead.  A row is usable once it was seen idle at two looks in a row (a
tracker's answer to the stop may still change its message after the first), and for
`keep` seconds after the last look that really asked for it: a stopped row is asked again
at least that often, whatever happens.  Kept per process, like lib.single_flight.
"""
import threading
import time

# A refresh leaves idle rows out only when listing the 'started' and 'hashing' views costs
# less than the lookups it saves: a view row about 3 us, a lookup at the middle of a list
# of n about n x 0.06 us (measured on rtorrent 0.9.8 at 10,000 torrents), so when
# WAKE_COST x (torrents in those views) < (idle rows) x (torrents in all).
WAKE_COST = 50


class IdleRows:
    def __init__(self, is_idle, keep=30.0, clock=time.monotonic, limit=20000):
        self.is_idle, self.keep, self.clock, self.limit = is_idle, keep, clock, limit
        self._lock = threading.Lock()
        self._rows = {}         # (target, hash) -> [row, looks in a row it was idle, when asked]
        self._sizes = {}        # target -> {view: size} of its last look

    def seen(self, target, torrents, sizes=None):
        """A look that asked the client for these rows (each with .hash), and the view
        sizes that came with it."""
        now = self.clock()
        with self._lock:
            if sizes:
                self._sizes[target] = dict(sizes)
            for t in torrents:
                key = (target, t.hash.upper())
                if not self.is_idle(t):
                    self._rows.pop(key, None)
                    continue
                kept = self._rows.get(key)
                looks = kept[1] + 1 if kept and now - kept[2] < self.keep else 1
                self._rows[key] = [t, looks, now]
            if len(self._rows) > self.limit:        # many pages must not fill memory
                self._rows = {k: v for k, v in self._rows.items() if now - v[2] < self.keep}
                while len(self._rows) > self.limit:
                    del self._rows[next(iter(self._rows))]

    def usable(self, target, hashes, wake_views):
        """({hash: row} of these hashes a refresh may leave out, {view: size} at the look
        they came from): idle at two looks in a row, the last less than `keep` seconds ago,
        and only when the target's last look showed the views that tell a row woke
        (Backend.wake_views) small enough to be worth asking instead (WAKE_COST).  If the
        refresh finds any view's size changed since, a check may have ended meanwhile (a
        torrent checked complete leaves 'incomplete'): the caller asks the rows again."""
        now = self.clock()
        with self._lock:
            found = {}
            for h in hashes:
                kept = self._rows.get((target, h.upper()))
                if kept and kept[1] >= 2 and now - kept[2] < self.keep:
                    found[h.upper()] = kept[0]
            sizes = self._sizes.get(target, {})
        waking = sum(sizes.get(v, 0) for v in wake_views)
        if not found or not wake_views or 'main' not in sizes or WAKE_COST * waking >= len(found) * sizes['main']:
            return {}, sizes
        return found, sizes

    def forget(self, target, hashes):
        """These rows changed (or may have): ask them again."""
        with self._lock:
            for h in hashes:
                self._rows.pop((target, h.upper()), None)
