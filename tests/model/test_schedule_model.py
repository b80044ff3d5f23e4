"""The weekly grid with an injected clock: every cell boundary, overnight windows, the
daylight-saving days of Europe/Berlin, overrides that expire, and refusals in words."""
import datetime
import zoneinfo

import pytest

from model import schedule as sch

BERLIN = zoneinfo.ZoneInfo('Europe/Berlin')
UTC = datetime.timezone.utc
PROFILES = {'normal': {'kind': 'own'}, 'night': {'kind': 'limited', 'down_limit': 1024 * 1024, 'up_limit': 0},
            'paused': {'kind': 'paused'}}


def at(tz, *fields):
    """The unix time of a wall-clock moment in tz (fold 0)."""
    return datetime.datetime(*fields, tzinfo=tz).timestamp()


def alternating(minutes):
    """Each cell its own profile: a, b, c, a, b, c... (so every boundary is a change)."""
    total = 7 * sch.cells_per_day(minutes)
    return sch.validate({'cell_minutes': minutes, 'profiles': {'a': {'kind': 'own'}, 'b': {'kind': 'alt'},
                                                               'c': {'kind': 'seed_only'}},
                         'cells': ['abc'[i % 3] for i in range(total)]})


@pytest.mark.parametrize('minutes', [60, 30, 15])
def test_every_cell_boundary_of_a_week(minutes):
    grid = alternating(minutes)
    monday = at(BERLIN, 2026, 6, 1)            # a Monday in summer time, no DST change that week
    step = minutes * 60
    for i in range(7 * sch.cells_per_day(minutes)):
        boundary = monday + i * step
        assert sch.cell_at(grid, boundary, BERLIN) == i
        assert sch.cell_at(grid, boundary + step - 1, BERLIN) == i
        if i:
            assert sch.cell_at(grid, boundary - 1, BERLIN) == i - 1
        force = sch.in_force(grid, None, boundary, BERLIN)
        assert (force.name, force.cell, force.source) == ('abc'[i % 3], i, 'schedule')
        assert force.until == boundary + step          # the next cell changes the profile
        assert sch.next_change(grid, boundary + step - 1, BERLIN) == boundary + step
    # the week wraps: Sunday's last cell is followed by Monday's first
    assert sch.cell_at(grid, monday + 7 * 86400, BERLIN) == 0


def test_an_overnight_window_runs_into_the_next_day_and_sunday_into_monday():
    grid = sch.validate({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:00', 'to': '06:00', 'profile': 'night'},
        {'days': ['Sunday'], 'from': '23:00', 'to': '01:00', 'profile': 'paused'}]})
    name = lambda *t: sch.scheduled_at(grid, at(BERLIN, *t), BERLIN)      # noqa: E731
    assert name(2026, 6, 1, 21, 59) == 'normal'
    assert name(2026, 6, 1, 22, 0) == 'night' and name(2026, 6, 2, 5, 59) == 'night'   # Tuesday morning
    assert name(2026, 6, 2, 6, 0) == 'normal' and name(2026, 6, 2, 22, 0) == 'normal'  # no window on Tuesday
    assert name(2026, 6, 7, 23, 30) == 'paused' and name(2026, 6, 8, 0, 30) == 'paused'   # Sunday -> Monday
    assert name(2026, 6, 8, 1, 0) == 'normal'
    force = sch.in_force(grid, None, at(BERLIN, 2026, 6, 1, 23, 0), BERLIN)
    assert force.until == at(BERLIN, 2026, 6, 2, 6, 0)


def test_weekday_nights_are_not_inverted():
    """qBittorrent #903/#19509: an overnight window on weekdays must cover the night after
    each weekday, and leave the weekend's nights alone."""
    grid = sch.validate({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], 'from': '23:00', 'to': '07:00', 'profile': 'night'}]})
    name = lambda *t: sch.scheduled_at(grid, at(BERLIN, *t), BERLIN)      # noqa: E731
    assert name(2026, 6, 1, 3, 0) == 'normal'           # Monday 03:00: Sunday night had no window
    assert name(2026, 6, 1, 23, 0) == 'night' and name(2026, 6, 2, 6, 59) == 'night'
    assert name(2026, 6, 2, 12, 0) == 'normal'
    assert name(2026, 6, 6, 6, 59) == 'night'           # Saturday morning: Friday's night
    assert name(2026, 6, 6, 23, 0) == 'normal' and name(2026, 6, 7, 3, 0) == 'normal'


def test_spring_day_the_skipped_hour_is_never_in_force():
    # 2026-03-29: Berlin's clocks go from 02:00 CET to 03:00 CEST (01:00 UTC)
    cells = ['normal'] * 168
    sunday = 6 * 24
    cells[sunday + 2] = 'paused'            # 02:00-03:00 does not exist that day
    cells[sunday + 3] = 'night'
    grid = sch.validate({'profiles': PROFILES, 'cells': cells})
    jump = datetime.datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()
    assert sch.scheduled_at(grid, jump - 1, BERLIN) == 'normal'          # 01:59:59 CET
    assert sch.scheduled_at(grid, jump, BERLIN) == 'night'               # 03:00:00 CEST
    assert sch.next_change(grid, jump - 1800, BERLIN) == jump            # at the jump itself
    assert all(sch.scheduled_at(grid, t, BERLIN) != 'paused' for t in range(int(jump) - 7200, int(jump) + 7200, 60))
    # a change that falls in the gap alone (02:00 differs, 03:00 is as before): no change at the jump
    cells[sunday + 3] = 'normal'
    grid = sch.validate({'profiles': PROFILES, 'cells': cells})
    later = sch.next_change(grid, jump - 1800, BERLIN)
    assert later is None or later > jump + 3600
    # the day has 23 hours of cells: cell 3 starts one real hour after cell 1 ends
    cells = ['normal' if i % 2 else 'night' for i in range(168)]
    grid = sch.validate({'profiles': PROFILES, 'cells': cells})
    assert sch.cell_at(grid, jump - 1, BERLIN) == sunday + 1 and sch.cell_at(grid, jump, BERLIN) == sunday + 3


def test_autumn_day_the_repeated_hour_lasts_two_hours():
    # 2026-10-25: 03:00 CEST back to 02:00 CET (01:00 UTC); 02:00-03:00 wall time happens twice
    cells = ['normal'] * 168
    sunday = 6 * 24
    cells[sunday + 2] = 'night'
    grid = sch.validate({'profiles': PROFILES, 'cells': cells})
    first = datetime.datetime(2026, 10, 25, 0, 0, tzinfo=UTC).timestamp()     # 02:00 CEST
    end = datetime.datetime(2026, 10, 25, 2, 0, tzinfo=UTC).timestamp()       # 03:00 CET
    assert sch.scheduled_at(grid, first - 1, BERLIN) == 'normal'
    for t in range(int(first), int(end), 600):
        assert sch.scheduled_at(grid, t, BERLIN) == 'night'
    assert sch.scheduled_at(grid, end, BERLIN) == 'normal'
    assert sch.next_change(grid, first - 60, BERLIN) == first
    assert sch.next_change(grid, first + 1800, BERLIN) == end          # in the first 02:30
    assert sch.next_change(grid, first + 5400, BERLIN) == end          # in the second 02:30
    assert sch.in_force(grid, None, first + 10, BERLIN).until == end
    # quarter-hour cells: a boundary inside the repeated hour is a change both times
    cells = ['normal'] * 672
    cells[(sunday + 2) * 4] = 'night'                   # 02:00-02:15, twice that night
    grid = sch.validate({'cell_minutes': 15, 'profiles': PROFILES, 'cells': cells})
    second = first + 3600                               # 02:00 CET
    assert sch.scheduled_at(grid, second + 60, BERLIN) == 'night'
    assert sch.next_change(grid, first + 60, BERLIN) == first + 900
    assert sch.next_change(grid, first + 900, BERLIN) == second
    assert sch.next_change(grid, second + 60, BERLIN) == second + 900


def test_an_override_lasts_until_the_next_change_and_then_the_schedule_is_back():
    grid = sch.validate({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:00', 'to': '06:00', 'profile': 'night'}]})
    now = at(BERLIN, 2026, 6, 1, 20, 15)
    override = sch.override_for(grid, 'paused', now, BERLIN, 'alice')
    assert override['until'] == at(BERLIN, 2026, 6, 1, 22, 0)
    force = sch.in_force(grid, override, now, BERLIN)
    assert (force.name, force.source, force.kind) == ('paused', 'override', 'paused')
    assert force.left(now) == 105 * 60
    assert sch.in_force(grid, override, override['until'] - 1, BERLIN).source == 'override'
    back = sch.in_force(grid, override, override['until'], BERLIN)
    assert (back.name, back.source) == ('night', 'schedule')
    # with the schedule off an override has no end until "back to the schedule"
    off = dict(grid, enabled=False)
    override = sch.override_for(off, 'night', now, BERLIN)
    assert override['until'] is None
    assert sch.in_force(off, override, now + 10 * 86400, BERLIN).name == 'night'
    assert sch.in_force(off, None, now, BERLIN).source == 'off'
    with pytest.raises(ValueError, match="no profile 'fast'"):
        sch.override_for(grid, 'fast', now, BERLIN)


def test_a_schedule_that_never_changes_has_no_next_change():
    grid = sch.validate({'profiles': PROFILES, 'cells': ['night'] * 168})
    assert sch.in_force(grid, None, at(UTC, 2026, 1, 1), UTC).until is None


@pytest.mark.parametrize('data, words', [
    ({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:00', 'to': '06:00', 'profile': 'night'},
        {'days': ['Tue'], 'from': '05:00', 'to': '08:00', 'profile': 'paused'}]},
     'window 2 and window 1 overlap on Tuesday at 05:00'),
    ({'profiles': {'slow': {'kind': 'limited', 'down_limit': 0, 'up_limit': '0'}}, 'cells': ['slow'] * 168},
     "profile 'slow' is limited but limits nothing"),
    ({'profiles': {'slow': {'kind': 'limited'}}, 'cells': ['slow'] * 168}, 'limits nothing'),
    ({'profiles': PROFILES, 'cells': ['normal'] * 100}, 'cells must list 168 profile names'),
    ({'profiles': PROFILES, 'cells': ['normal'] * 167 + ['fast']}, "Sunday 23:00 names the profile 'fast'"),
    ({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:10', 'to': '06:00', 'profile': 'night'}]},
     'not on a boundary of the 60-minute cells'),
    ({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Mon'], 'from': '22:00', 'to': '22:00', 'profile': 'night'}]}, 'it is empty'),
    ({'profiles': PROFILES, 'default': 'normal', 'windows': [
        {'days': ['Funday'], 'from': '22:00', 'to': '23:00', 'profile': 'night'}]}, "'Funday' is not a day"),
    ({'profiles': {'x': {'kind': 'turbo'}}, 'cells': ['x'] * 168}, "profile 'x' needs a kind"),
    ({'profiles': {}, 'cells': []}, 'at least one'),
    ({'profiles': PROFILES, 'cells': ['normal'] * 168, 'cell_minutes': 20}, 'cell_minutes is one of 60, 30, 15'),
    ({'profiles': PROFILES}, 'give either cells'),
])
def test_bad_schedules_are_refused_in_words(data, words):
    with pytest.raises(ValueError) as refused:
        sch.validate(data)
    assert words in str(refused.value)


def test_rates_in_words_and_finer_cells():
    grid = sch.validate({'cell_minutes': 15, 'profiles': {'slow': {'kind': 'limited', 'down_limit': '500 KiB/s'},
                                                          'normal': {'kind': 'own'}},
                         'default': 'normal', 'windows': [{'days': [0], 'from': '08:15', 'to': '08:45',
                                                           'profile': 'slow'}]})
    assert grid['profiles']['slow'] == {'kind': 'limited', 'down_limit': 500 * 1024, 'up_limit': 0}
    assert len(grid['cells']) == 672
    assert [sch.scheduled_at(grid, at(UTC, 2026, 6, 1, 8, m), UTC) for m in (14, 15, 44, 45)] == \
        ['normal', 'slow', 'slow', 'normal']
    coarse = sch.resized(grid, 60)
    assert len(coarse['cells']) == 168 and coarse['cells'][8] == 'normal'


def test_time_zone_from_config():
    assert sch.time_zone('Europe/Berlin') == BERLIN
    assert sch.time_zone(None) is not None
    with pytest.raises(ValueError, match="'Mars/Olympus' is not a time zone"):
        sch.time_zone('Mars/Olympus')
