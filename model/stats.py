"""Transfer statistics: every byte each target, tracker, label and torrent moved.

The worker samples each target every STATS_SECONDS (Sampler.sample: one
Backend.transfer_totals round trip) and credits the *deltas of the totals* the client keeps
(never its rates: rTorrent's are 60-second moving averages) to four kinds of series:

    target   ''              every torrent of the target together
    tracker  its domain      of the torrent's first tracker ('' : none)
    label    the label       ('' : none)
    torrent  its hash        dropped TORRENT_DAYS after the torrent is gone (the rest stays)

Each delta is added, in the same transaction, to a bucket of every resolution the kind
keeps: a minute, a local hour and a local day (TIME_ZONE; a month is the local days of a
month, so it matches a data cap).  The buckets hold whole numbers of bytes and every byte
goes to all resolutions at once, so a sum over any range is the same at every resolution.
Old minute and hour buckets are deleted (KEEP); days stay forever.

What is never counted, and why:
  - a torrent seen for the first time is a baseline: its totals are what it moved before
    we watched (ruTorrent credits them, and over-counts).  The one exception is a torrent
    loaded (d.load_date) after the previous sample of the same daemon instance, with no gap
    between: all its bytes moved since then.
  - a counter that went back (rTorrent restarted after a crash: its session is saved every
    20 minutes) is a new baseline for that torrent, recorded as an event.
What is counted once, late:
  - bytes moved while the worker was not sampling (a gap) or across a daemon restart are the
    difference of two totals: real, never doubled, but of unknown timing.  They are dated at
    the sample that closes the gap, and the gap is an event that graphs draw.
Everything a sample writes (buckets, last totals, its state) is one transaction: a worker
killed mid-write leaves the previous sample, never half of one.
"""
import bisect
import collections
import dataclasses
import datetime
import logging
import sys
import time

from lib.format import size as format_size
from lib.zone import time_zone
from model.clients.trackers import tracker_name  # the list's tracker filter uses it too
from model.clients.types import same_daemon_run

MINUTE, HOUR, DAY = 60, 3600, 86400
KINDS = ('target', 'tracker', 'label', 'torrent')
RESOLUTIONS = {'target': (MINUTE, HOUR, DAY), 'tracker': (MINUTE, HOUR, DAY),
               'label': (MINUTE, HOUR, DAY), 'torrent': (HOUR, DAY)}   # a torrent: no minutes
KEEP = {MINUTE: 2 * DAY, HOUR: 90 * DAY, DAY: None}     # seconds a bucket is kept; None: forever
DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS = 60, 10, 300
DETAILS_SECONDS = 3600          # how often names and trackers are asked again (new torrents: at once)
PRUNE_SECONDS = 3600
GAP_EVENTS = ('gap', 'restart')          # events drawn as gaps
log = logging.getLogger('pyrotorrent.worker')


# -- time ---------------------------------------------------------------------------------

def bucket_start(t, resolution, zone):
    """Where the bucket holding unix time t begins: its minute, its local hour (a zone 5:30
    ahead of UTC starts hours at :30), or its local midnight."""
    moment = datetime.datetime.fromtimestamp(t, zone)
    if resolution == DAY:
        return day_start(moment.date(), zone)
    t = int(t // 1)
    offset = int(moment.utcoffset().total_seconds())
    return t - (t + offset) % resolution


def day_start(date, zone):
    """Unix time of the local midnight that begins date (23 or 25 hours long across DST)."""
    return int(datetime.datetime(date.year, date.month, date.day, tzinfo=zone).timestamp())


def month_start(t, zone, months_back=0):
    """Unix time the local month holding t began (months_back months earlier)."""
    d = datetime.datetime.fromtimestamp(t, zone).date()
    index = d.year * 12 + d.month - 1 - months_back
    return day_start(datetime.date(index // 12, index % 12 + 1, 1), zone)


@dataclasses.dataclass(frozen=True)
class Policy:
    """How statistics are kept (config: STATS_SECONDS, TIME_ZONE, STATS_TORRENT_DAYS)."""
    seconds: float = DEFAULT_SECONDS
    zone: object = dataclasses.field(default_factory=time_zone)
    torrent_days: float = None         # a removed torrent's own series kept this long; None: forever
    keep: dict = dataclasses.field(default_factory=lambda: dict(KEEP))

    @classmethod
    def from_config(cls, config):
        return cls(seconds=config.STATS_SECONDS, zone=time_zone(config.TIME_ZONE),
                   torrent_days=config.STATS_TORRENT_DAYS)

    @property
    def gap_seconds(self):
        """A pause between two samples longer than this is a gap (the worker or the daemon was away)."""
        return 3 * self.seconds


# -- the sampler (the worker's side) --------------------------------------------------------

@dataclasses.dataclass
class _State:
    instance: str
    sampled_at: float
    details_at: float
    pruned_at: float


class Sampler:
    """The statistics of one store; one instance in the worker samples every target.

    It keeps the last totals of each torrent in memory between ticks (10,000 rows are not
    read every minute) and in the store (stats_torrent), and reloads them when the store's
    state is not the one it wrote last (another worker took over meanwhile)."""

    def __init__(self, store, policy=None):
        self.store = store
        self.policy = policy or Policy()
        self._last = {}             # target -> {hash: (up, down, label, tracker, name)} last sampled, interned
        self._wrote = {}            # target -> sampled_at this sampler wrote last
        self._series = {}           # target -> {(kind, key): id}
        self._rate = {}             # target -> (up, down) bytes a second of its last sample

    def due(self, target, now=None, tick=0.0):
        state = self._state(target)
        now = time.time() if now is None else now
        return state is None or now - state.sampled_at >= self.policy.seconds - tick / 2

    def sample(self, backend, now=None, tick=0.0, instance=None):
        """Sample one target if it is due, or at once when `instance` (Backend.instance(), as
        the worker's tick just asked it) is not the run sampled last: a new baseline within
        a tick of a restart, so nothing that moves after it is lost.  What happened, in
        words, or None."""
        if not backend.CAPABILITIES.transfer_totals:
            return None
        target = backend.name
        now = time.time() if now is None else now
        state = self._state(target)
        restarted = instance is not None and state is not None and not same_daemon_run(state.instance, str(instance))
        if state is not None and not restarted and now - state.sampled_at < self.policy.seconds - tick / 2:
            return None
        last = self._load(target, state)
        details = state is None or now - state.details_at >= DETAILS_SECONDS
        snapshot = backend.transfer_totals(details=details)
        if not details and any(t.hash not in last for t in snapshot.torrents):
            snapshot = backend.transfer_totals(details=True)      # new torrents: their tracker and name
        return self._record(target, state, last, snapshot, now)

    def _state(self, target):
        row = self.store.stats_state(target)
        return _State(*row) if row else None

    def _load(self, target, state):
        if state is not None and self._wrote.get(target) == state.sampled_at and target in self._last:
            return self._last[target]
        self._last[target] = {h: (up, down, sys.intern(label), sys.intern(tracker), name)
                               for h, up, down, label, tracker, name in self.store.stats_last_totals(target)}
        self._series.pop(target, None)
        return self._last[target]

    def _record(self, target, state, last, snapshot, now):
        instance = str(snapshot.instance)
        prev_at = state.sampled_at if state else None
        same = state is not None and same_daemon_run(state.instance, instance)
        gap = state is not None and now - prev_at > self.policy.gap_seconds
        credit = collections.defaultdict(lambda: [0, 0])
        changed, seen, back, fresh = [], set(), [], []
        for t in snapshot.torrents:
            seen.add(t.hash)
            old = last.get(t.hash)
            if t.tracker is not None:
                tracker, name = sys.intern(tracker_name(t.tracker)), t.name or ''
            else:
                tracker, name = (old[3], old[4]) if old else ('', '')
            if old is None:
                fresh.append(t.hash)
                if same and not gap and t.added >= int(prev_at):   # loaded since: all of it is new
                    up, down = t.up_total, t.down_total
                else:
                    up = down = 0                                  # a baseline
            else:
                up, down = t.up_total - old[0], t.down_total - old[1]
                if up < 0 or down < 0:
                    back.append(t.hash)
                    up, down = max(up, 0), max(down, 0)
            if up or down:
                for key in (('target', ''), ('tracker', tracker), ('label', t.label), ('torrent', t.hash)):
                    c = credit[key]
                    c[0] += up
                    c[1] += down
            row = (t.up_total, t.down_total, t.label, tracker, name)
            if row != old:
                changed.append((t.hash,) + row)
                last[t.hash] = row
        gone = [h for h in last if h not in seen]
        for h in gone:
            del last[h]

        events = []
        if state is not None and not same:
            events.append(('restart', prev_at, now, self._restart_words(target, instance, state.instance, now - prev_at)))
        elif gap:
            events.append(('gap', prev_at, now, 'no sample for %d s' % (now - prev_at)))
        if back:
            events.append(('counter_back', prev_at, now, '%d torrent%s counted less than before (%s%s): '
                           'counted again from there' % (len(back), '' if len(back) == 1 else 's',
                                                         ', '.join(back[:3]), '…' if len(back) > 3 else '')))

        ids = self._series_ids(target, set(credit) | {('target', '')}, last, now)
        starts = {r: bucket_start(now, r, self.policy.zone) for r in (MINUTE, HOUR, DAY)}
        buckets = [(ids[key], r, starts[r], up, down) for key, (up, down) in credit.items()
                   for r in RESOLUTIONS[key[0]]]
        details_at = now if snapshot.details else state.details_at
        pruned_at = state.pruned_at if state else now
        self.store.stats_write_sample(target, buckets, changed, gone, fresh if state is not None else [], events,
                                      (instance, now, details_at, pruned_at))
        self._wrote[target] = now
        moved = credit.get(('target', ''), (0, 0))
        self._rate[target] = (moved[0] / (now - prev_at), moved[1] / (now - prev_at)) if (
            same and not gap and now > prev_at) else None
        if now - pruned_at >= PRUNE_SECONDS:
            self.prune(target, now)
        words = [e[3] for e in events]
        if state is None:
            words.append('statistics begin: %d torrent%s as a baseline' % (len(seen), '' if len(seen) == 1 else 's'))
        return '; '.join(words) or None

    def _restart_words(self, target, instance, was, seconds):
        """The restart event's words: what moved between the last sample and the crash is
        unknown; its bound is the last sample's rate over that time, when this sampler knows it."""
        words = 'the client restarted (instance %s, was %s): ' % (instance, was)
        rate = self._rate.get(target)
        if rate is None:
            return words + ('what moved in the %d s between the last sample and the restart may be missing'
                            % seconds)
        return words + ('up to %s down and %s up, moved in the %d s between the last sample and the restart, '
                        'may be missing (at the rate of the last sample)'
                        % (format_size(rate[1] * seconds), format_size(rate[0] * seconds), seconds))

    def _series_ids(self, target, keys, last, now):
        ids = self._series.get(target)
        if ids is None:
            ids = self._series[target] = self.store.stats_series_ids(target)
        missing = [k for k in keys if k not in ids]
        if missing:
            ids.update(self.store.stats_add_series(
                target, [(kind, key, last.get(key, [''] * 5)[4] if kind == 'torrent' else '') for kind, key in missing],
                now))
        return ids

    def prune(self, target, now=None):
        """Delete the buckets past their resolution's keep, and the own series of torrents gone
        longer than torrent_days (their bytes stay in the target, tracker and label)."""
        now = time.time() if now is None else now
        before = {resolution: now - keep for resolution, keep in self.policy.keep.items() if keep is not None}
        gone_before = None if self.policy.torrent_days is None else now - self.policy.torrent_days * DAY
        self.store.stats_prune(target, before, gone_before, now)
        self._series.pop(target, None)


# -- reading (pages, API, metrics) ----------------------------------------------------------

@dataclasses.dataclass
class Slot:
    start: int
    end: int
    up: int = 0
    down: int = 0
    gap: bool = False             # overlaps a gap or a restart
    sampled: bool = True          # False: before statistics began
    label: str = ''               # its local time, as the range reads it ('14:05', '2026-03-29')


@dataclasses.dataclass
class Chart:
    range: str
    resolution: int               # of the buckets summed (a year: days summed by month)
    slots: list
    gaps: list                    # of Event

    @property
    def up(self):
        return sum(s.up for s in self.slots)

    @property
    def down(self):
        return sum(s.down for s in self.slots)

    @property
    def start(self):
        return self.slots[0].start

    @property
    def end(self):
        return self.slots[-1].end


@dataclasses.dataclass
class Event:
    target: str
    kind: str
    started_at: float
    ended_at: float
    detail: str


RANGES = ('hour', 'day', 'week', 'month', 'year')
LABELS = {'hour': '%H:%M', 'day': '%a %H:00', 'week': '%a %Y-%m-%d', 'month': '%a %Y-%m-%d', 'year': '%Y-%m'}


def range_slots(name, now, zone):
    """(resolution, [(start, end)]) of a range ending with the bucket that holds now."""
    if name == 'hour':
        last = bucket_start(now, MINUTE, zone)
        return MINUTE, [(last - MINUTE * n, last - MINUTE * (n - 1)) for n in range(59, -1, -1)]
    if name == 'day':
        last = bucket_start(now, HOUR, zone)
        return HOUR, [(last - HOUR * n, last - HOUR * (n - 1)) for n in range(23, -1, -1)]
    if name in ('week', 'month'):
        today = datetime.datetime.fromtimestamp(now, zone).date()
        days = 7 if name == 'week' else 30
        dates = [today - datetime.timedelta(days=n) for n in range(days - 1, -2, -1)]
        return DAY, [(day_start(a, zone), day_start(b, zone)) for a, b in zip(dates, dates[1:])]
    if name == 'year':
        starts = [month_start(now, zone, n) for n in range(11, -2, -1)]     # -1: the next month
        return DAY, list(zip(starts, starts[1:]))
    raise ValueError("range must be one of %s, not '%s'" % (', '.join(RANGES), name))


class Reader:
    """What pages ask of the statistics: charts, totals, tables by key, events.  `targets` is
    a list of target names (one for a target's page, all visible ones for the overview)."""

    SETTLED = DAY             # a day bucket this much older than now is never written again

    def __init__(self, store, zone=None):
        self.store = store
        self.zone = zone or time_zone()
        self._settled = {}    # (targets, kind, resolution, before) -> {key: (up, down)}: see by_key_since

    def sums(self, targets, kind, key, resolution, start, end):
        """[(bucket start, up, down)] of one series summed over targets, start <= bucket < end."""
        return self.store.stats_sums(targets, kind, key, resolution, start, end)

    def total(self, targets, kind='target', key='', start=0, end=2 ** 62, resolution=DAY):
        """(up, down) of a series over a range of whole buckets."""
        return self.store.stats_total(targets, kind, key, resolution, start, end)

    def by_key(self, targets, kind, start=0, end=2 ** 62, resolution=DAY, limit=None):
        """[{key, name, up, down, gone}] of every series of a kind over a range, most bytes first."""
        out = [{'key': k, 'name': n or '', 'up': int(u), 'down': int(d), 'gone': bool(g)}
               for k, n, u, d, g in self.store.stats_by_key(targets, kind, resolution, start, end)]
        return out[:limit] if limit else out

    def by_key_since(self, targets, kind, since, resolution=DAY):
        """[{key, name, up, down, gone, month_up, month_down}]: all time and since `since` (a
        bucket start, e.g. this month's); most bytes since first, then all time.

        All time is the settled part (the buckets that began over a day before `since`: the
        sampler only ever adds to the bucket holding its own `now`, and prune never deletes
        the days of a target, tracker or label) summed once a month and kept, plus the
        recent part read each time: a year of a tracker's or label's days is thousands of
        rows, its recent part a few dozen each."""
        cut = int(since) - self.SETTLED
        keep = kind in ('target', 'tracker', 'label')      # a torrent's series may be pruned
        settled = self._settled.get((tuple(targets), kind, resolution, cut)) if keep else None
        if settled is None:
            settled = self.store.stats_by_key_before(targets, kind, resolution, cut)
            if keep:
                if len(self._settled) > 64:         # old months, other sets of targets
                    self._settled.clear()
                self._settled[(tuple(targets), kind, resolution, cut)] = settled
        out = []
        for k, n, g, count, u, d, mu, md in self.store.stats_by_key_from(targets, kind, resolution, cut, since):
            old = settled.get(k)
            if old is None and not count:
                continue                             # no bucket at all: not in the table
            if old is not None:
                u, d = u + old[0], d + old[1]
            out.append({'key': k, 'name': n or '', 'up': int(u), 'down': int(d), 'gone': bool(g),
                        'month_up': int(mu), 'month_down': int(md)})
        return sorted(out, key=lambda r: (-(r['month_up'] + r['month_down']), -(r['up'] + r['down']), r['key']))

    def events(self, targets, start, end, kinds=None):
        return [Event(*r) for r in self.store.stats_events(targets, start, end) if kinds is None or r[1] in kinds]

    def began(self, targets):
        """When statistics of these targets began (the first sample), or None."""
        return self.store.stats_began(targets)

    def chart(self, targets, range_name, kind='target', key='', now=None):
        now = time.time() if now is None else now
        resolution, spans = range_slots(range_name, now, self.zone)
        if kind == 'torrent' and resolution == MINUTE:
            resolution, spans = range_slots('day', now, self.zone)
        slots = [Slot(a, b) for a, b in spans]
        starts = [s.start for s in slots]
        for start, up, down in self.sums(targets, kind, key, resolution, slots[0].start, slots[-1].end):
            slot = slots[bisect.bisect_right(starts, start) - 1]
            slot.up += int(up)
            slot.down += int(down)
        gaps = self.events(targets, slots[0].start, slots[-1].end, GAP_EVENTS)
        began = self.began(targets)
        for slot in slots:
            slot.label = datetime.datetime.fromtimestamp(slot.start, self.zone).strftime(LABELS[range_name])
            slot.gap = any(e.started_at < slot.end and e.ended_at > slot.start for e in gaps)
            slot.sampled = began is not None and slot.end > began
        return Chart(range_name, resolution, slots, gaps)

    def summary(self, targets, now=None):
        """{'today': (up, down), 'month': ..., 'all': ...} from the day buckets."""
        now = time.time() if now is None else now
        today = bucket_start(now, DAY, self.zone)
        return {'today': self.total(targets, start=today), 'month': self.total(targets, start=month_start(now, self.zone)),
                'all': self.total(targets)}

    def all_time(self, targets, kinds=('target', 'tracker', 'label')):
        """[(target, kind, key, up, down)] of every series of these kinds, all time."""
        return self.store.stats_all_time(targets, kinds, DAY)

    def sampled(self, targets):
        """{target: unix time of its last sample}."""
        return self.store.stats_sampled(targets)
