"""lib.idle_rows on its own: which rows a refresh may keep instead of asking rTorrent (the
real-daemon side is in test_live_refresh)."""
import dataclasses

from lib.idle_rows import WAKE_COST, IdleRows
from model.clients.types import is_idle

WAKE = ('started', 'hashing')
SIZES = {'main': 10000, 'started': 0, 'hashing': 0, 'stopped': 10000}


@dataclasses.dataclass
class Row:
    hash: str
    state: str = 'stopped'
    down_rate: int = 0
    up_rate: int = 0


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def keeper():
    clock = Clock()
    return IdleRows(is_idle, keep=30.0, clock=clock), clock


def test_a_row_is_kept_after_two_looks_found_it_idle():
    idle, clock = keeper()
    a, b = Row('A' * 40), Row('B' * 40, state='complete')
    idle.seen('t', [a, b], SIZES)
    assert idle.usable('t', [a.hash, b.hash], WAKE) == ({}, SIZES)       # once is not enough
    clock.now += 2
    idle.seen('t', [a, b], SIZES)
    kept, sizes = idle.usable('t', [a.hash.lower(), b.hash, 'C' * 40], WAKE)
    assert kept == {a.hash: a, b.hash: b} and sizes == SIZES
    assert idle.usable('other target', [a.hash], WAKE) == ({}, {})


def test_a_row_moving_data_or_checking_is_never_kept_and_forgets_what_was():
    idle, clock = keeper()
    rows = [Row('1' * 40, state='seeding'), Row('2' * 40, state='checking'), Row('3' * 40, up_rate=12),
            Row('4' * 40, state='paused'), Row('5' * 40)]
    for _ in range(3):
        idle.seen('t', rows, SIZES)
    assert set(idle.usable('t', [r.hash for r in rows], WAKE)[0]) == {'5' * 40}
    idle.seen('t', [Row('5' * 40, state='downloading')], SIZES)             # started meanwhile
    assert idle.usable('t', ['5' * 40], WAKE)[0] == {}


def test_a_kept_row_is_asked_again_keep_seconds_after_the_last_real_look():
    idle, clock = keeper()
    a = Row('A' * 40)
    idle.seen('t', [a], SIZES)
    idle.seen('t', [a], SIZES)
    clock.now += 29.9
    assert idle.usable('t', [a.hash], WAKE)[0] == {a.hash: a}
    clock.now += 0.2
    assert idle.usable('t', [a.hash], WAKE)[0] == {}
    idle.seen('t', [a], SIZES)          # looked at again, too late to count as a look in a row
    assert idle.usable('t', [a.hash], WAKE)[0] == {}
    idle.seen('t', [a], SIZES)
    assert idle.usable('t', [a.hash], WAKE)[0] == {a.hash: a}
    idle.forget('t', [a.hash.lower()])   # an action of pyroTorrent's on it
    assert idle.usable('t', [a.hash], WAKE)[0] == {}


def test_rows_are_kept_only_when_the_wake_views_cost_less_than_the_lookups():
    idle, clock = keeper()
    rows = [Row('%040d' % i) for i in range(10)]
    for started in (0, 10000 * 10 // WAKE_COST - 1, 10000 * 10 // WAKE_COST):
        sizes = dict(SIZES, started=started)
        idle.seen('t', rows, sizes)
        idle.seen('t', rows, sizes)
        kept, _ = idle.usable('t', [r.hash for r in rows], WAKE)
        assert len(kept) == (10 if WAKE_COST * started < 10 * 10000 else 0), started
    assert idle.usable('t', [r.hash for r in rows], ())[0] == {}      # a client that cannot tell
    idle.seen('t', rows, {'started': 0})                                # no size of the whole list
    assert idle.usable('t', [r.hash for r in rows], WAKE)[0] == {}


def test_many_rows_do_not_fill_memory():
    clock = Clock()
    idle = IdleRows(is_idle, keep=30.0, clock=clock, limit=100)
    for i in range(1000):
        idle.seen('t', [Row('%040X' % i)], SIZES)
    assert len(idle._rows) <= 100
