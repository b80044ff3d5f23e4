"""A target's weekly schedule: a grid of the week whose cells each name a profile, and
which profile is in force at an instant.

The week starts on Monday 00:00 in the config's TIME_ZONE; a cell is 60, 30 or 15 minutes
of wall-clock time, so 7 x 24 cells by default.  Wall-clock time decides: on the spring
day of daylight saving the skipped hour's cell is never in force; on the autumn day the
repeated hour's cell is in force twice as long (what a person reading the grid expects).

A profile is a layer over the user's own settings (model/settings.py keeps those):

    own        the user's own settings, nothing added
    limited    the global limits given here instead of the user's (down_limit, up_limit)
    alt        the user's alternative speeds (settings' alt_down_limit, alt_up_limit)
    seed_only  downloading torrents stopped; they start again when it ends
    paused     every started torrent stopped; exactly those start again when it ends

A limited profile's 0 leaves that direction at the user's own limit.  A manual override
names a profile until the schedule's next change (shown with the time left); "back to the
schedule" ends it at once.  validate() refuses what cannot work, in words, before anything
is kept.

The worker's tick (tick() below, from model/tasks.py) applies the profile in force through
the Backend only: limits through model/settings.py's layer, torrents with act('stop') and
act('start').  What it needs across restarts is in the store: the schedule, the override
and the profile last applied (target values of kind 'schedule'), the torrents a profile
stopped (Store.hold), so exactly those start again.  While paused, a torrent started (or
added started) is stopped within a tick and starts with the others when it ends; one the
user had stopped is never started.
"""
import dataclasses
import datetime
import re
import json
import time

from lib import names
from lib.zone import time_zone
from model import settings
from model.clients.types import RUNNING, same_daemon_run

KINDS = {
    'own': "the user's own settings",
    'limited': 'limits of its own instead of the global ones',
    'alt': 'the alternative speeds of the settings',
    'seed_only': 'downloads stopped, seeding goes on',
    'paused': 'every started torrent stopped, and only those started again afterwards',
}
CELL_MINUTES = (60, 30, 15)
DAYS = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')
PROFILE_CHARACTER = r'[A-Za-z0-9 _.-]'
PROFILE_WORDS = "letters, digits, spaces, '_', '-' and '.'"
MAX_PROFILES = 16
# The profiles every schedule starts with; a user adds limited ones.
DEFAULT_PROFILES = {
    'normal': {'kind': 'own'},
    'alternative': {'kind': 'alt'},
    'seed only': {'kind': 'seed_only'},
    'paused': {'kind': 'paused'},
}
WEEK = datetime.timedelta(days=7)


def default_schedule():
    """Off, every cell 'normal'."""
    return {'enabled': False, 'cell_minutes': 60, 'profiles': dict(DEFAULT_PROFILES),
            'cells': ['normal'] * (7 * 24)}


def cells_per_day(cell_minutes):
    return 24 * 60 // cell_minutes


# -- what a user gives -------------------------------------------------------------------

def _minutes(text, what):
    """Minutes since midnight of 'HH:MM' (24:00 allowed as the end of a day)."""
    match = re.fullmatch(r'\s*(\d{1,2}):(\d{2})\s*', text) if isinstance(text, str) else None
    if not match or int(match.group(2)) > 59 or int(match.group(1)) > 24 or (
            int(match.group(1)) == 24 and int(match.group(2))):
        raise ValueError('%s must be a time like 22:00 or 06:30, not %r' % (what, text))
    return int(match.group(1)) * 60 + int(match.group(2))


def _day(value, what):
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        for i, name in enumerate(DAYS):
            if value.strip().lower() in (name.lower(), name[:3].lower()):
                return i
    raise ValueError('%s: %r is not a day (Monday to Sunday, or 0 for Monday to 6 for Sunday)' % (what, value))


def cells_from_windows(windows, default, cell_minutes):
    """A grid from windows [{"days": [...], "from": "22:00", "to": "06:00", "profile": P}]:
    each starts on its days and may run past midnight into the next day (22:00-06:00 on
    Monday is Monday 22:00 to Tuesday 06:00).  The rest of the week is `default`.  Windows
    that overlap are refused with both named; so is a time off the cells' boundaries."""
    per_day = cells_per_day(cell_minutes)
    cells = [None] * (7 * per_day)
    owner = [None] * (7 * per_day)
    if not isinstance(windows, list):
        raise ValueError('windows must be a list of {"days": [...], "from": "HH:MM", "to": "HH:MM", "profile": ...}')
    for n, window in enumerate(windows):
        what = 'window %d' % (n + 1)
        if not isinstance(window, dict) or set(window) - {'days', 'from', 'to', 'profile'}:
            raise ValueError('%s must be {"days": [...], "from": "HH:MM", "to": "HH:MM", "profile": ...}' % what)
        start, end = _minutes(window.get('from'), what + ' from'), _minutes(window.get('to'), what + ' to')
        for minute, side in ((start, 'from'), (end, 'to')):
            if minute % cell_minutes:
                raise ValueError('%s: %s %s is not on a boundary of the %d-minute cells'
                                 % (what, side, window.get(side), cell_minutes))
        if start == end:
            raise ValueError('%s starts and ends at %s: it is empty (give different times)' % (what, window['from']))
        days = window.get('days')
        if isinstance(days, (str, int)):
            days = [days]
        if not days or not isinstance(days, list):
            raise ValueError('%s has no days' % what)
        length = (end - start) % (24 * 60)
        for day in sorted({_day(d, what) for d in days}):
            first = day * per_day + start // cell_minutes
            for i in range(length // cell_minutes):
                index = (first + i) % len(cells)
                if owner[index] is not None and owner[index] != n:
                    raise ValueError('%s and window %d overlap on %s at %s' % (
                        what, owner[index] + 1, DAYS[index // per_day], clock(index, cell_minutes)))
                owner[index] = n
                cells[index] = window.get('profile')
    return [default if c is None else c for c in cells]


def clock(index, cell_minutes):
    """'HH:MM' of the start of cell `index` in its day."""
    minute = (index % cells_per_day(cell_minutes)) * cell_minutes
    return '%02d:%02d' % (minute // 60, minute % 60)


def check_profile(name, profile, plain_number_bytes=1):
    """A clean profile; ValueError in words for an unknown kind or an empty one."""
    name = names.check('profile', name, 32, PROFILE_CHARACTER, PROFILE_WORDS)
    if not isinstance(profile, dict) or profile.get('kind') not in KINDS:
        raise ValueError("profile '%s' needs a kind: one of %s" % (name, ', '.join(KINDS)))
    kind = profile['kind']
    extra = set(profile) - {'kind', 'down_limit', 'up_limit'}
    if extra or (kind != 'limited' and set(profile) - {'kind'}):
        raise ValueError("profile '%s' (%s) takes no %s" % (name, kind, ', '.join(sorted(set(profile) - {'kind'}))))
    if kind != 'limited':
        return {'kind': kind}
    clean = {'kind': kind}
    for field in ('down_limit', 'up_limit'):
        try:
            clean[field] = settings.whole_kib(settings.parse_rate(profile.get(field, 0), plain_number_bytes))
        except ValueError as exc:
            raise ValueError("profile '%s': %s %s" % (name, field, exc)) from None
    if not clean['down_limit'] and not clean['up_limit']:
        raise ValueError("profile '%s' is limited but limits nothing (both limits are 0, unlimited): give a "
                         "download or upload limit, or make it 'own'" % name)
    return clean


def _outer_spaces_dropped(name):
    return name.strip(' ') if isinstance(name, str) else name     # as names.check() keeps a profile's name


def validate(data, plain_number_bytes=1):
    """A clean schedule from what the API or the form gives, or ValueError in words:
    {"enabled": bool, "cell_minutes": 60|30|15, "profiles": {name: {"kind":, ...}},
     "cells": [profile name, ...] (Monday 00:00 first) or "windows": [...] with "default"}."""
    if not isinstance(data, dict):
        raise ValueError('send a JSON object: {"enabled": true, "profiles": {...}, "cells": [...]}')
    unknown = set(data) - {'enabled', 'cell_minutes', 'profiles', 'cells', 'windows', 'default'}
    if unknown:
        raise ValueError('a schedule has no %s (it has enabled, cell_minutes, profiles, cells or windows '
                         'and default)' % ', '.join(sorted(unknown)))
    enabled = data.get('enabled', True)
    if not isinstance(enabled, bool):
        raise ValueError('enabled is true or false, not %r' % (enabled,))
    minutes = data.get('cell_minutes', 60)
    if minutes not in CELL_MINUTES or isinstance(minutes, bool):
        raise ValueError('cell_minutes is one of %s, not %r' % (', '.join(map(str, CELL_MINUTES)), minutes))
    given = data.get('profiles', DEFAULT_PROFILES)
    if not isinstance(given, dict) or not given:
        raise ValueError('profiles must be an object of name: {"kind": ...}, with at least one')
    if len(given) > MAX_PROFILES:
        raise ValueError('at most %d profiles' % MAX_PROFILES)
    profiles = {}
    for name, profile in given.items():
        clean = names.check('profile', name, 32, PROFILE_CHARACTER, PROFILE_WORDS)
        if clean in profiles:
            raise ValueError("two profiles are named '%s' (spaces at either end are dropped)" % clean)
        profiles[clean] = check_profile(clean, profile, plain_number_bytes)
    if ('cells' in data) == ('windows' in data):
        raise ValueError('give either cells (one profile a cell, Monday 00:00 first) or windows, not %s'
                         % ('both' if 'cells' in data else 'neither'))
    total = 7 * cells_per_day(minutes)
    if 'windows' in data:
        default = _outer_spaces_dropped(data.get('default'))
        if default not in profiles:
            raise ValueError('with windows, default names the profile of the rest of the week (one of %s), '
                             'not %r' % (', '.join(profiles), default))
        cells = cells_from_windows(data['windows'], default, minutes)
    else:
        cells = data['cells']
        cells = [_outer_spaces_dropped(c) for c in cells] if isinstance(cells, list) else cells
        if not isinstance(cells, list) or len(cells) != total:
            raise ValueError('cells must list %d profile names (7 days of %d cells of %d minutes), not %s'
                             % (total, cells_per_day(minutes), minutes,
                                len(cells) if isinstance(cells, list) else repr(cells)))
    for index, name in enumerate(cells):
        if name not in profiles:
            raise ValueError("%s %s names the profile %r, which this schedule does not have (it has %s)"
                             % (DAYS[index // cells_per_day(minutes)], clock(index, minutes), name,
                                ', '.join(profiles)))
    return {'enabled': enabled, 'cell_minutes': minutes, 'profiles': profiles, 'cells': list(cells)}


# -- which profile is in force -----------------------------------------------------------

@dataclasses.dataclass
class InForce:
    """What decides a target's profile at an instant."""
    name: str                 # the profile's name
    profile: dict             # {'kind':, ...}
    source: str               # 'schedule', 'override' or 'off' (no schedule: the own settings)
    cell: int = None          # the grid's cell in force (None while off)
    until: float = None       # unix time of the next change (None: none within a week)
    override: dict = None     # the override in force, if any

    @property
    def kind(self):
        return self.profile['kind']

    def left(self, now):
        """Seconds until the next change, or None."""
        return None if self.until is None else max(0.0, self.until - now)

    def as_dict(self, now):
        return {'profile': self.name, 'kind': self.kind, 'source': self.source, 'cell': self.cell,
                'until': self.until, 'seconds_left': self.left(now),
                'override': self.override, 'limits': {k: v for k, v in self.profile.items() if k != 'kind'}}


def cell_at(schedule, instant, tz):
    """The index of the cell in force at a unix time (wall clock of tz)."""
    local = datetime.datetime.fromtimestamp(instant, tz)
    minutes = schedule['cell_minutes']
    return local.weekday() * cells_per_day(minutes) + (local.hour * 60 + local.minute) // minutes


def scheduled_at(schedule, instant, tz):
    """The profile name the grid gives at a unix time."""
    return schedule['cells'][cell_at(schedule, instant, tz)]


def next_change(schedule, instant, tz):
    """The unix time after `instant` when the grid's profile next changes, or None when it
    does not within a week.  Every cell boundary of the coming eight days, as an instant of
    tz (a boundary in the skipped spring hour falls on the jump itself; one in the repeated
    autumn hour counts twice), in order."""
    minutes = schedule['cell_minutes']
    local = datetime.datetime.fromtimestamp(instant, tz).replace(tzinfo=None)
    start = local.replace(minute=(local.minute // minutes) * minutes, second=0, microsecond=0)
    now_profile = scheduled_at(schedule, instant, tz)
    step = datetime.timedelta(minutes=minutes)
    per_day = cells_per_day(minutes)
    # a day of boundaries at a time (most changes come within one), from an hour back: on
    # the autumn day a boundary of the repeated hour comes twice (both folds)
    for day in range(8):
        first = day * per_day + 1 - (0 if day else 60 // minutes + 1)
        moments = sorted({(start + step * k).replace(tzinfo=tz, fold=fold).timestamp()
                          for k in range(first, (day + 1) * per_day + 1) for fold in (0, 1)})
        for moment in moments:
            if moment > instant and scheduled_at(schedule, moment, tz) != now_profile:
                return moment
    return None


def override_for(schedule, profile, instant, tz, who=''):
    """An override of `profile` from now until the grid's next change."""
    if profile not in schedule['profiles']:
        raise ValueError("there is no profile %r (there are %s)" % (profile, ', '.join(schedule['profiles'])))
    until = next_change(schedule, instant, tz) if schedule.get('enabled') else None
    return {'profile': profile, 'set_at': instant, 'until': until, 'set_by': who}


def in_force(schedule, override, instant, tz):
    """The InForce at a unix time: a live override first, then the grid, else the own settings."""
    if schedule is None:
        schedule = default_schedule()
    live = override is not None and override.get('profile') in schedule['profiles'] and (
        override.get('until') is None or instant < override['until'])
    if live:
        return InForce(override['profile'], schedule['profiles'][override['profile']], 'override',
                       cell_at(schedule, instant, tz) if schedule.get('enabled') else None,
                       override.get('until'), override)
    if not schedule.get('enabled'):
        return InForce('normal', {'kind': 'own'}, 'off')
    name = scheduled_at(schedule, instant, tz)
    return InForce(name, schedule['profiles'][name], 'schedule', cell_at(schedule, instant, tz),
                   next_change(schedule, instant, tz))


def grid_rows(schedule):
    """[(day name, [(cell index, 'HH:MM', profile name)])] for the page's table."""
    minutes = schedule['cell_minutes']
    per_day = cells_per_day(minutes)
    return [(DAYS[d], [(d * per_day + i, clock(i, minutes), schedule['cells'][d * per_day + i])
                       for i in range(per_day)]) for d in range(7)]


def resized(schedule, cell_minutes):
    """The same week in cells of another size (each new cell takes the profile its start
    falls in)."""
    old = schedule['cell_minutes']
    total = 7 * cells_per_day(cell_minutes)
    cells = [schedule['cells'][(i * cell_minutes) // old] for i in range(total)]
    return dict(schedule, cell_minutes=cell_minutes, cells=cells)


# -- kept in the store --------------------------------------------------------------------

KIND = 'schedule'                   # target values: 'grid', 'override', 'applied'
HOLDS = {'paused': 'paused', 'seed_only': 'seed only'}


def load(store, target):
    """(schedule, override) of a target: the default schedule (off) until one is saved."""
    values = store.values(target, KIND)
    grid = values['grid'].value if 'grid' in values else default_schedule()
    override = values['override'].value if 'override' in values else None
    return grid, override


def check_for_target(grid, desired, override=None):
    """Refusals that depend on the target's settings: a profile of alternative speeds in use
    while no alternative limit is kept."""
    used = set(grid['cells']) if grid.get('enabled') else set()
    if override:
        used.add(override['profile'])
    alt = [n for n in sorted(used) if grid['profiles'][n]['kind'] == 'alt']
    if alt and not any(desired.get(f) for f in ('alt_down_limit', 'alt_up_limit')):
        raise ValueError("profile '%s' uses the alternative speeds, but none are set: set them on the settings "
                         "page first (alt_down_limit, alt_up_limit)" % alt[0])


def save(store, target, grid, who, desired=None):
    """Keep a validated schedule; an override that names a profile no longer there ends."""
    check_for_target(grid, desired or {})
    values = {'grid': grid}
    _, override = load(store, target)
    if override and override['profile'] not in grid['profiles']:
        values['override'] = None
    store.put_values(target, KIND, values, set_by=who)


def set_override(store, target, profile, who, now, tz, desired=None):
    """Override the schedule with `profile` until its next change; None: back to the schedule."""
    grid, _ = load(store, target)
    if profile is None:
        store.put_values(target, KIND, {'override': None}, set_by=who)
        return None
    override = override_for(grid, profile, now, tz, who)
    check_for_target(dict(grid, enabled=False), desired or {}, override)
    store.put_values(target, KIND, {'override': override}, set_by=who)
    return override


# -- a client's own timetable (Capabilities.timetable: Transmission's alt-speed-time-*) ------

SUNDAY_FIRST_BIT = {i: 1 << ((i + 1) % 7) for i in range(7)}    # Monday (0) -> 2 ... Sunday (6) -> 1


def timetable_window(grid):
    """The schedule as ONE window of alternative speeds with the same begin and end on every
    day it is on ({'begin': minutes after midnight, 'end': minutes, 'days': bit mask, Sunday
    = 1 ... Saturday = 64}), or None when it is not that (off, other kinds of profile, two
    windows a day, different times, a window across midnight)."""
    if not grid.get('enabled'):
        return None
    kinds = {grid['profiles'][name]['kind'] for name in grid['cells']}
    if 'alt' not in kinds or kinds - {'alt', 'own'}:
        return None
    per_day = cells_per_day(grid['cell_minutes'])
    window, days = None, 0
    for day in range(7):
        row = [grid['profiles'][n]['kind'] == 'alt' for n in grid['cells'][day * per_day:(day + 1) * per_day]]
        if not any(row):
            continue
        first = row.index(True)
        last = per_day - row[::-1].index(True)
        if not all(row[first:last]):
            return None                             # two windows in one day
        here = (first * grid['cell_minutes'], last * grid['cell_minutes'])
        if window not in (None, here):
            return None
        window, days = here, days | SUNDAY_FIRST_BIT[day]
    if window[1] >= 24 * 60 and window[0] == 0 and days == 127:
        return None                                 # alt all week: nothing to time
    return {'begin': window[0], 'end': window[1] % (24 * 60), 'days': days}


def runner(store, target):
    """Who runs a target's schedule: 'client' (pushed to its own timetable) or 'worker'."""
    pushed = store.values(target, KIND).get('timetable')
    return 'client' if pushed is not None and pushed.value else 'worker'


def sync_timetable(store, backend, who='pyroTorrent'):
    """Push a schedule that fits the client's one timetable to it (so it runs while
    pyroTorrent is down), or turn the client's timetable off when it no longer fits (or an
    override is in force).  A client without a timetable: nothing.  Returns the window
    pushed, or None; BackendError when the client cannot be asked."""
    if not backend.CAPABILITIES.timetable:
        return None
    grid, override = load(store, backend.name)
    window = None if override else timetable_window(grid)
    pushed = store.values(backend.name, KIND).get('timetable')
    pushed = pushed.value if pushed is not None else None
    if window != pushed:
        if window is not None or pushed is not None:
            backend.set_timetable(window)
        store.put_values(backend.name, KIND, {'timetable': window}, set_by=who)
    return window


def layer_of(profile):
    """What a profile puts over the global limits (model.settings.apply_layer), or None."""
    if profile['kind'] == 'limited':
        return {f: profile[f] for f in ('down_limit', 'up_limit') if profile.get(f)}
    if profile['kind'] == 'alt':
        return {'alt': True}
    return None


def _fingerprint(force):
    return json.dumps([force.name, force.profile], sort_keys=True)


def tick(store, backend, seen, instance, now=None, tz=None, catch_up=False):
    """Apply the profile in force now: its layer of limits when the profile (or the client's
    instance) changed since it was last applied, or on the worker's first tick (catch_up);
    torrents stopped and started to match it every tick.  (words or None, [event dicts])."""
    now = time.time() if now is None else now
    tz = tz or time_zone()
    name = backend.name
    sync_timetable(store, backend, 'worker')
    grid, override = load(store, name)
    force = in_force(grid, override, now, tz)
    events, said = [], []
    if override and force.source != 'override':
        store.put_values(name, KIND, {'override': None}, set_by='worker')
        said.append('the override (%s) ended' % override['profile'])
    applied = store.values(name, KIND).get('applied')
    applied = applied.value if applied else None
    changed = applied is None or applied['fingerprint'] != _fingerprint(force)
    restarted = applied is not None and not same_daemon_run(applied.get('instance'), instance)
    if applied is None and force.source == 'off' and not settings.current_layer(store, name) and not store.held(name):
        return None, []                         # never scheduled: nothing to do, nothing to undo
    if changed or restarted or catch_up:
        layer = layer_of(force.profile)
        live, faults = settings.apply_layer(store, backend, layer, 'worker')
        refused = '; '.join('%s: %s' % kv for kv in faults.items())
        why = ('override by %s' % (force.override.get('set_by') or 'someone') if force.source == 'override'
               else 'the schedule is off' if force.source == 'off'
               else '%s %s in the schedule' % (DAYS[force.cell // cells_per_day(grid['cell_minutes'])],
                                               clock(force.cell, grid['cell_minutes'])))
        store.put_values(name, KIND, {'applied': {'fingerprint': _fingerprint(force), 'profile': force.name,
                                                  'kind': force.kind, 'instance': instance, 'at': now,
                                                  'source': force.source, 'why': why}}, set_by='worker')
        if changed:
            events.append({'key': 'profile:%s:%.0f' % (force.name, now), 'kind': 'schedule', 'at': now,
                           'detail': {'profile': force.name, 'kind': force.kind, 'why': why,
                                      'limits': live.values if layer else None, 'refused': refused or None,
                                      'until': force.until,
                                      'was': applied['profile'] if applied else None}})
        said.append('profile %s (%s)%s%s' % (force.name, why, ' again: %s restarted' % backend.client
                                             if restarted and not changed else '',
                                             '; refused: ' + refused if refused else ''))
    stopped, started = hold_and_release(store, backend, seen, force.kind, now)
    if stopped or started:
        events.append(_torrents_event(force, stopped, started, now))
        said.append('%s: stopped %d, started %d torrent(s)' % (force.name, len(stopped), len(started)))
    return '; '.join(said) or None, events


def quick_tick(store, backend, now=None, tz=None):
    """Between the worker's looks at every torrent (EVENTS_SECONDS), each tick: while a
    paused or seed-only profile is in force, stop what runs though it should not (added
    started, or started by hand) from one small question to the client (Backend.started_hashes:
    rTorrent's 'started' or 'leeching' view, which holds only those).  (words, [event dicts],
    due): due is True when the profile in force is not the one applied (it changed): the
    caller takes the full look now, so a change of profile also applies within a tick."""
    now = time.time() if now is None else now
    values = store.values(backend.name, KIND)
    grid = values['grid'].value if 'grid' in values else default_schedule()
    override = values['override'].value if 'override' in values else None
    force = in_force(grid, override, now, tz or time_zone())
    applied = values['applied'].value if 'applied' in values else None
    if applied is None:
        return None, [], force.source != 'off'
    if applied['fingerprint'] != _fingerprint(force):
        return None, [], True
    if force.kind not in HOLDS:
        return None, [], False
    running = backend.started_hashes(incomplete=force.kind == 'seed_only')
    if not running:
        return None, [], False
    stopped = _stop(store, backend, running, force.kind, store.held(backend.name), now)
    if not stopped:
        return None, [], False
    return ('%s: stopped %d torrent(s) started meanwhile' % (force.name, len(stopped)),
            [_torrents_event(force, stopped, [], now)], False)


def _torrents_event(force, stopped, started, now):
    return {'key': 'torrents:%s:%.3f' % (force.name, now), 'kind': 'schedule', 'at': now,
            'detail': {'profile': force.name, 'stopped': stopped, 'started': started,
                       'why': 'profile %s (%s)' % (force.name, KINDS[force.kind])}}


def _stop(store, backend, hashes, kind, held, now):
    """Hold then stop `hashes` (remembered first, so a crash never loses one); the ones stopped."""
    store.hold(backend.name, hashes, HOLDS[kind], now)
    results = backend.act('stop', hashes)
    store.release(backend.name, [r.hash for r in results if not r.ok and r.hash not in held])
    return [r.hash for r in results if r.ok]


def hold_and_release(store, backend, seen, kind, now):
    """Stop what the profile stops (remembered first, so a crash never loses one) and start
    again exactly the torrents a profile stopped that this one lets run.  ([hash], [hash])."""
    name = backend.name
    held = store.held(name)
    present = {t.hash: t for t in seen}
    running = RUNNING
    if kind == 'paused':
        stop = [t.hash for t in seen if t.state in running and t.hash not in held]
        release = []
    elif kind == 'seed_only':
        stop = [t.hash for t in seen if t.state in running and not t.complete and t.hash not in held]
        release = [h for h in held if h in present and present[h].complete]
    else:
        stop, release = [], list(held)
    stop += [h for h in held if h in present and present[h].state in running and kind in HOLDS
             and (kind == 'paused' or not present[h].complete)]     # started again by hand
    gone = [h for h in held if h not in present]
    stopped, started = [], []
    if stop:
        stopped = _stop(store, backend, stop, kind, held, now)
    wake = [h for h in release if h in present and present[h].state not in running]
    if wake:
        results = backend.act('start', wake)
        started = [r.hash for r in results if r.ok]
    done = set(started) | {h for h in release if h in present and present[h].state in running} | set(gone)
    if done:
        store.release(name, sorted(done))
    return stopped, started
