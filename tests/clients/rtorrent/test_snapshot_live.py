"""Backend.snapshot (the worker's look at every torrent, its numbers packed in one text a
torrent) against a real rtorrent: every field of every Seen is what rtorrent answers to the
single command, texts holding ':', quotes, '<' and non-ASCII included.  Its own daemon."""
import pytest

from model.clients.rtorrent import RTorrent
from tests import rig

ODD = ['a:b:c', 'Jazz "live" <1997> & more', 'Thème : deux', '']


@pytest.fixture(scope='module')
def daemon(make_box):
    d = make_box('snap').daemon
    hashes = d.load_many(rig.synthetic_torrents(6, seed='snapshot'))
    d.wait(lambda: d.call('view.size', '', 'main') == 6, 30, 'rtorrent to list 6 torrents')
    for i, h in enumerate(hashes):
        d.call('d.custom1.set', h, ODD[i % len(ODD)])
        d.call('d.throttle_name.set', h, ODD[(i + 1) % len(ODD)])
        d.call('d.priority.set', h, i % 4)
    d.call('d.message.set', hashes[0], 'Tracker: [Failure reason "unregistered: torrent"]')
    d.call('d.message.set', hashes[1], 'Thème: 404 <Not Found>')
    return d, hashes


def test_the_snapshot_is_what_rtorrent_says_field_by_field(daemon):
    d, hashes = daemon
    seen = {s.hash: s for s in RTorrent(d.url, name='snap').snapshot()}
    assert sorted(seen) == sorted(hashes)
    for h in hashes:
        s = seen[h]
        one = {f: d.call(c, h) for f, c in (
            ('name', 'd.name'), ('label', 'd.custom1'), ('group', 'd.throttle_name'), ('message', 'd.message'),
            ('size', 'd.size_bytes'), ('completed', 'd.completed_bytes'), ('ratio', 'd.ratio'),
            ('priority', 'd.priority'), ('added', 'd.load_date'), ('finished', 'd.timestamp.finished'),
            ('downloaded', 'd.down.total'), ('started', 'd.state'), ('complete', 'd.complete'))}
        assert (s.name, s.label, s.group, s.message) == (one['name'], one['label'], one['group'], one['message'])
        assert (s.size, s.completed, s.priority, s.added, s.finished, s.downloaded) == (
            one['size'], one['completed'], one['priority'], one['added'], one['finished'], one['downloaded'])
        assert s.ratio == one['ratio'] / 1000.0
        assert (one['started'], one['complete'], s.state) == (0, 0, 'stopped')     # loaded stopped, no data
        assert s.trackers == tuple(t[0] for t in d.call('t.multicall', h, '', 't.url='))
    assert seen[hashes[0]].message == 'Tracker: [Failure reason "unregistered: torrent"]'
    assert seen[hashes[1]].message == 'Thème: 404 <Not Found>'
    assert {seen[h].label for h in hashes} == set(ODD)
