"""Events found by comparing looks, with an injected clock and a real store: each once,
none on the first look, none twice after the worker was away, the right keys."""
import dataclasses

import pytest

from lib.store import Store
from model import events
from model.clients.types import Seen

H1, H2, H3 = 'A' * 40, 'B' * 40, 'C' * 40


@dataclasses.dataclass
class Target:           # what events.look needs of a backend: its name and client
    name: str = 't'
    client: str = 'rTorrent'


def torrent(h, **kw):
    data = dict(hash=h, name='name ' + h[0], label='', state='downloading', size=100, completed=0, down_rate=10,
                up_rate=0, ratio=0.0, finished=0, added=1000, message='')
    data.update(kw)
    return Seen(**data)


@pytest.fixture
def store(tmp_path):
    return Store.open(str(tmp_path / 'store.sqlite3'))


def kinds(found):
    return [(e.kind, e.subject) for e in found]


def test_the_first_look_learns_and_then_each_change_is_one_event(store):
    t = Target()
    assert events.look(store, t, [torrent(H1)], 100, now=0) == []
    assert kinds(events.look(store, t, [torrent(H1), torrent(H2)], 100, now=10)) == [('added', H2)]
    assert events.look(store, t, [torrent(H1), torrent(H2)], 100, now=20) == []
    done = torrent(H1, completed=100, state='seeding', finished=25)
    assert kinds(events.look(store, t, [done, torrent(H2)], 100, now=30)) == [('finished', H1)]
    assert kinds(events.look(store, t, [done], 100, now=40)) == [('removed', H2)]
    assert kinds(events.look(store, t, [done], 101, now=50)) == [('restarted', '')]
    bad = torrent(H1, completed=100, state='seeding', finished=25, message='Tracker: [Failure reason "unregistered"]')
    found = events.look(store, t, [bad], 101, now=60)
    assert kinds(found) == [('tracker_error', H1)] and found[0].detail['message'].startswith('Tracker:')
    assert events.look(store, t, [bad], 101, now=70) == []
    assert [e.kind for e in store.events('t')] == ['tracker_error', 'restarted', 'removed', 'finished', 'added']
    seqs = [e.seq for e in store.events('t')]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 5
    assert [e.kind for e in store.events('t', since=seqs[2])] == ['tracker_error', 'restarted']


def test_stalled_once_per_stall(store):
    t = Target()
    events.look(store, t, [torrent(H1)], 1, now=0)
    assert events.look(store, t, [torrent(H1, down_rate=0)], 1, now=100, stalled_after=300) == []
    found = events.look(store, t, [torrent(H1, down_rate=0)], 1, now=301, stalled_after=300)
    assert kinds(found) == [('stalled', H1)] and found[0].detail['since'] == 0
    assert events.look(store, t, [torrent(H1, down_rate=0)], 1, now=900, stalled_after=300) == []
    events.look(store, t, [torrent(H1, down_rate=5)], 1, now=1000)        # moving again
    assert kinds(events.look(store, t, [torrent(H1, down_rate=0)], 1, now=1400, stalled_after=300)) == [('stalled', H1)]
    # a stopped torrent is not stalled, nor is one that is not downloading
    events.look(store, t, [torrent(H1, state='stopped', down_rate=0)], 1, now=1500)
    assert events.look(store, t, [torrent(H1, state='stopped', down_rate=0)], 1, now=9999, stalled_after=300) == []


def test_catch_up_after_the_worker_was_away_fires_each_event_once(store):
    t = Target()
    events.look(store, t, [torrent(H1), torrent(H2)], 1, now=0)
    # hours later, with rtorrent restarted: H1 finished, H2 removed, H3 added meanwhile
    after = [torrent(H1, completed=100, state='seeding', finished=500), torrent(H3)]
    found = events.look(store, t, after, 2, now=7200)
    assert sorted(kinds(found)) == sorted([('restarted', ''), ('finished', H1), ('added', H3), ('removed', H2)])
    assert events.look(store, t, after, 2, now=7205) == []
    # the same events offered again (a look repeated after a crash before it was kept) are not new
    again = store.record('t', [{'key': e.key, 'kind': e.kind, 'subject': e.subject} for e in found], now=7300)
    assert again == []
    assert len(store.events('t')) == 4


def test_in_words():
    from lib.store import StoredEvent
    e = StoredEvent(1, 't', 'finished:x', 0, 'finished', H1, {'name': 'Debian.iso'})
    assert events.in_words(e) == "'Debian.iso' finished downloading"
    e = StoredEvent(2, 't', 'rule:x', 0, 'rule', '', {'rule': 'done', 'did': 'labelled', 'done': [H1], 'why': 'on finished'})
    assert events.in_words(e) == "rule 'done': labelled 1 torrent(s) (on finished)"


def test_a_download_quicker_than_a_tick_is_added_and_finished_one_loaded_complete_only_added(store):
    t = Target()
    events.look(store, t, [], 1, now=0)
    quick = torrent(H1, completed=100, state='seeding', finished=5, downloaded=100)
    from_disk = torrent(H2, completed=100, state='seeding', finished=5, downloaded=0)
    assert sorted(kinds(events.look(store, t, [quick, from_disk], 1, now=10))) == [
        ('added', H1), ('added', H2), ('finished', H1)]
