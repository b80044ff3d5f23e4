"""The model of issue 3: one torrent in full, and every action, against real rtorrent daemons.

Every figure is compared with rtorrent's own answer to the single command, every action's
effect is read back from rtorrent.  Two rigs of this module's own (their torrents get
stopped, relabelled and erased): a swarm (tracker, seeder, leecher,
the leecher throttled so one transfer is in progress: peers), and a lone daemon for actions.
"""
import os
import shutil
import types

import pytest

from lib import bencode
from lib.config import Target
from model.clients.detail import Folder, file_tree, File, piece_map
from model.clients.errors import NotFound
from model.clients.rtorrent import RTorrent
from tests import rig

DEAD_TRACKER = 'http://127.0.0.1:1/announce'
ALBUM = 'Detail album (2025) & <b>'
ALBUM_FILES = ['01 - Intro.flac', 'CD 2/02 - Thème.flac', 'CD 2/03.flac', 'notes.txt']
SPECS = [
    (ALBUM, 640 * 1024, ALBUM_FILES, 'Music', False),
    ('single.iso', 200 * 1024, 1, None, False),
    ('slow transfer.bin', 8 * 1024 * 1024, 1, None, False),      # the leecher gets it, slowly
]


class Trips:
    """Counts the requests a backend sends (as tests/webapp.RoundTrips does)."""

    def __init__(self, backend):
        self.count = 0
        real = backend.transport.request

        def request(body):
            self.count += 1
            return real(body)
        backend.transport.request = request


@pytest.fixture(scope='module')
def swarm():
    s = rig.Swarm(specs=SPECS).start()
    s.leecher.call('throttle.global_down.max_rate.set_kb', '', 32)
    s.slow = next(t for t in s.torrents if t['name'] == 'slow transfer.bin')
    s.leecher.load(s.slow['torrent'], directory=s.leecher.download_dir, start=True)
    yield s
    s.stop()


@pytest.fixture(scope='module')
def seeder(swarm):
    backend = RTorrent(Target('seeder', swarm.seeder.url, download_roots=(swarm.data_dir,)))
    backend.offers()
    return backend


@pytest.fixture(scope='module')
def solo(make_box):
    made = make_box('detail')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    os.makedirs(data)
    backend = RTorrent(Target('solo', daemon.url, download_roots=(data,)))
    return types.SimpleNamespace(daemon=daemon, workdir=workdir, data=data, backend=backend, count=[0])


def fresh(solo, files=1, size=96 * 1024, start=True, name=None, prepare=None):
    """A new torrent with real data in solo.data; started torrents are waited for until
    their check is over.  prepare(path) may change the payload before the .torrent is made."""
    solo.count[0] += 1
    name = name or 'torrent-%02d%s' % (solo.count[0], '' if files == 1 else '-folder')
    path = rig.make_payload(solo.data, name, size, files)
    if prepare:
        prepare(path)
    data = rig.make_torrent(path, DEAD_TRACKER, os.path.join(solo.workdir, name + '.torrent'),
                            piece_size_exp=15)
    info_hash = solo.daemon.load(data, directory=solo.data, start=start)
    if start:
        solo.daemon.wait(lambda: solo.daemon.call('d.complete', info_hash) == 1, 30, 'the check of ' + name)
    return info_hash


def flags(daemon, info_hash):
    return tuple(daemon.multicall([(c, [info_hash]) for c in ('d.state', 'd.is_active', 'd.is_open')]))


# -- the torrent page in one round trip --------------------------------------------------------

def test_detail_is_one_round_trip_and_matches_rtorrent_field_by_field(swarm, seeder):
    album = next(t for t in swarm.torrents if t['name'] == ALBUM)
    h = album['hash']
    trips = Trips(seeder)
    header, detail = seeder.torrent_detail(h.lower())
    assert trips.count == 1
    assert header.client_version == '0.9.8'

    own = dict(zip(
        ('name', 'size', 'completed', 'ratio', 'label', 'added', 'message', 'up_total', 'down_total',
         'priority', 'directory', 'base_path', 'multi', 'finished', 'open', 'chunks', 'completed_chunks',
         'hashed', 'tied', 'bitfield'),
        swarm.seeder.multicall([(c, [h]) for c in (
            'd.name', 'd.size_bytes', 'd.completed_bytes', 'd.ratio', 'd.custom1', 'd.load_date', 'd.message',
            'd.up.total', 'd.down.total', 'd.priority', 'd.directory', 'd.base_path', 'd.is_multi_file',
            'd.timestamp.finished', 'd.is_open', 'd.size_chunks', 'd.completed_chunks', 'd.chunks_hashed',
            'd.tied_to_file', 'd.bitfield')])))
    t = detail.torrent
    assert (t.hash, t.name, t.size, t.completed, t.label, t.added, t.message) == \
        (h, ALBUM, own['size'], own['completed'], 'Music', own['added'], own['message'])
    assert t.ratio == own['ratio'] / 1000.0 and t.state == 'seeding' and t.eta is None
    assert (detail.up_total, detail.down_total, detail.priority, detail.priority_name) == \
        (own['up_total'], own['down_total'], own['priority'], 'normal')
    assert detail.directory == own['directory'] == os.path.join(swarm.data_dir, ALBUM)
    assert detail.base_path == own['base_path'] and detail.multi_file is True and detail.open is True
    assert detail.finished == own['finished'] > 0
    assert (detail.chunks, detail.chunks_completed, detail.chunks_hashed) == \
        (own['chunks'], own['completed_chunks'], own['hashed'])
    assert detail.tied_file == own['tied'] == ''
    assert detail.pieces == piece_map(own['bitfield'], own['chunks']) == [1.0] * own['chunks']
    assert detail.check_progress is None

    # files, against f.multicall asked field by field, and against the payload on disk
    own_files = [swarm.seeder.call('f.multicall', h, '', c + '=') for c in
                 ('f.path', 'f.size_bytes', 'f.completed_chunks', 'f.size_chunks', 'f.priority')]
    assert [(f.index, f.path, f.size, f.chunks_completed, f.chunks, f.priority) for f in detail.files] == \
        [(i,) + tuple(column[i][0] for column in own_files) for i in range(len(ALBUM_FILES))]
    assert sorted(f.path for f in detail.files) == sorted(ALBUM_FILES)
    for f in detail.files:
        assert os.path.getsize(os.path.join(detail.local_directory, f.path)) == f.size
        assert f.progress == 1.0 and f.priority_name == 'normal'

    # trackers: the rig's tracker, with the scrape figures rtorrent holds
    own_trackers = swarm.seeder.call('t.multicall', h, '', 't.url=', 't.is_enabled=', 't.success_counter=',
                                     't.scrape_complete=', 't.scrape_incomplete=')
    assert [(tr.url, tr.enabled, tr.seeders, tr.leechers) for tr in detail.trackers] == \
        [(u, bool(e), c, i) for u, e, _, c, i in own_trackers]
    assert detail.trackers[0].url == swarm.tracker.announce_url and detail.trackers[0].successes >= 1
    # 0.9.8 fills t.scrape_complete from the announce answer too: the seeder counts itself
    assert detail.scrape_seeders == max(c for _, e, _, c, _ in own_trackers if e) >= 1

    # where pyroTorrent sees it: a unix-socket target is local; the metafile is rtorrent's copy
    assert detail.local_directory == detail.directory and detail.can_delete_data
    assert detail.metafile == os.path.join(swarm.seeder.session_dir, h + '.torrent')
    with open(detail.local_metafile, 'rb') as f:
        assert bencode.info_hash(f.read()) == h


def test_detail_file_tree_has_folder_sizes_and_progress(swarm, seeder):
    album = next(t for t in swarm.torrents if t['name'] == ALBUM)
    tree = seeder.torrent_detail(album['hash'])[1].tree
    assert [f.name for f in tree.folders] == ['CD 2']
    assert [f.name for f in tree.files] == ['01 - Intro.flac', 'notes.txt']
    cd2 = tree.folders[0]
    assert cd2.path == 'CD 2' and [f.name for f in cd2.files] == ['02 - Thème.flac', '03.flac']
    assert cd2.size == sum(f.size for f in cd2.files) and tree.size == album['size']
    assert tree.progress == 1.0 and cd2.priority == 1 and sorted(tree.indexes) == [0, 1, 2, 3]


def test_detail_of_a_transfer_in_progress_has_peers_on_both_sides(swarm, seeder):
    leecher = RTorrent(swarm.leecher.url)
    h = swarm.slow['hash']

    def transferring():
        detail = leecher.torrent_detail(h)[1]
        t = detail.torrent
        return detail if detail.peers and 0 < t.completed < t.size and t.down_rate > 0 else None
    detail = swarm.leecher.wait(transferring, 60, 'the leecher to be downloading from the seeder')
    t = detail.torrent
    assert t.state == 'downloading' and t.eta is not None and t.eta > 0
    peer = detail.peers[0]
    assert peer.address == swarm.seeder.bind and peer.incoming is False and peer.down_total > 0
    own = swarm.leecher.call('p.multicall', h, '', 'p.address=', 'p.port=', 'p.client_version=',
                             'p.is_incoming=', 'p.is_encrypted=', 'p.is_snubbed=')
    assert [(p.address, p.port, p.client, p.incoming, p.encrypted, p.snubbed) for p in detail.peers] == \
        [(a, port, c, bool(i), bool(e), bool(s)) for a, port, c, i, e, s in own]
    assert 0 < sum(detail.pieces) < len(detail.pieces)        # partly there, drawn as a bar
    assert len(detail.pieces) == min(100, detail.chunks) and all(0.0 <= x <= 1.0 for x in detail.pieces)

    seen = seeder.torrent_detail(h)[1]                          # the seeder sees the leecher
    leechers = [p for p in seen.peers if p.address == swarm.leecher.bind]
    assert leechers and leechers[0].incoming is True and leechers[0].percent < 100


def test_unknown_or_malformed_hash_is_not_found(seeder):
    trips = Trips(seeder)
    with pytest.raises(NotFound, match='has no torrent with hash 0{40}'):
        seeder.torrent_detail('0' * 40)
    assert trips.count == 1
    for bad in ('xyz', '', None, '0' * 39, '0' * 40 + ':f0'):
        with pytest.raises(NotFound):
            seeder.torrent_detail(bad)
    assert trips.count == 1


def test_piece_map_and_tree_helpers():
    assert piece_map('FFC0', 10, 5) == [1.0] * 5
    assert piece_map('F0', 8, 2) == [1.0, 0.0]
    assert piece_map('A0', 4, 100) == [1.0, 0.0, 1.0, 0.0]
    assert piece_map('C0', 8, 4) == [1.0, 0.0, 0.0, 0.0]
    assert piece_map('', 8) is None and piece_map('zz', 8) is None
    tree = file_tree([File(0, 'a/b/c.bin', 100, 100, 1), File(1, 'a/d.bin', 300, 75, 0)])
    assert isinstance(tree.folders[0], Folder) and tree.size == 400
    assert tree.done == 100 + 75 and tree.priority is None and tree.folders[0].folders[0].priority == 1


# -- actions, read back from rtorrent ----------------------------------------------------------

def test_each_action_leaves_the_documented_state(solo):
    h = fresh(solo)
    d, b = solo.daemon, solo.backend
    steps = [('pause', (1, 0, 1)), ('resume', (1, 1, 1)), ('stop', (0, 0, 1)), ('resume', (1, 1, 1)),
             ('close', (0, 0, 0)), ('start', (1, 1, 1)), ('pause', (1, 0, 1)), ('close', (0, 0, 0)),
             ('resume', (1, 1, 1)), ('stop', (0, 0, 1)), ('start', (1, 1, 1))]
    for action, expected in steps:
        assert [r.ok for r in b.act(action, h)] == [True], action
        d.wait(lambda: flags(d, h) == expected, 10, '%s to leave (state, active, open) %s, not %s'
               % (action, expected, flags(d, h)))
        assert b.torrent(h)[1].state == {(1, 0, 1): 'paused', (1, 1, 1): 'seeding'}.get(expected, 'complete')


def test_bulk_action_is_one_round_trip_with_a_result_per_hash(solo):
    hashes = [fresh(solo) for _ in range(3)]
    trips = Trips(solo.backend)
    given = hashes + ['F' * 40, 'not-a-hash', hashes[0].lower()]
    results = solo.backend.act('stop', given)
    assert trips.count == 1
    assert [(r.hash, r.ok) for r in results] == [(h, True) for h in hashes] + [('F' * 40, False), ('not-a-hash', False)]
    assert "has no torrent with hash " + 'F' * 40 in results[3].reason
    assert 'not a torrent hash' in results[4].reason
    assert [flags(solo.daemon, h) for h in hashes] == [(0, 0, 1)] * 3
    assert [r.ok for r in solo.backend.act('start', hashes)] == [True] * 3
    assert trips.count == 2
    with pytest.raises(ValueError):
        solo.backend.act('execute', hashes)


def test_recheck_finds_damaged_data(solo):
    h = fresh(solo, size=128 * 1024)                  # 4 pieces of 32 KiB
    detail = solo.backend.torrent_detail(h)[1]
    with open(os.path.join(detail.local_directory, detail.files[0].path), 'r+b') as f:
        f.write(b'\0' * 1024)                          # spoil piece 0
    assert solo.backend.act('recheck', h)[0].ok
    solo.daemon.wait(lambda: solo.daemon.call('d.hashing', h) == 0
                     and solo.daemon.call('d.completed_chunks', h) == 3, 30, 'the recheck to find 3 good pieces')
    detail = solo.backend.torrent_detail(h, buckets=4)[1]
    assert detail.pieces == [0.0, 1.0, 1.0, 1.0] and detail.chunks_completed == 3


def test_announce_now_reaches_the_tracker(swarm, seeder):
    h = next(t for t in swarm.torrents if t['name'] == 'single.iso')['hash']
    before = swarm.seeder.call('t.multicall', h, '', 't.success_counter=')[0][0]
    assert seeder.act('announce', h)[0].ok
    swarm.seeder.wait(lambda: swarm.seeder.call('t.multicall', h, '', 't.success_counter=')[0][0] > before,
                      30, 'a new successful announce')


HOSTILE_LABELS = [
    '"; d.erase= $execute={sh,-c,touch /tmp/pwned} ',
    'a:b:c\n<b>&amp;</b>\t\'"',
    '$d.name=,(d.erase)',
    '日本語 ∕ ../..',
    '',
]


def test_a_hostile_label_round_trips_verbatim(solo):
    hashes = [fresh(solo), fresh(solo)]
    for label in HOSTILE_LABELS:
        assert [r.ok for r in solo.backend.set_label(hashes, label)] == [True, True]
        assert [solo.daemon.call('d.custom1', h) for h in hashes] == [label, label]
        assert solo.backend.torrent_detail(hashes[0])[1].torrent.label == label
    assert set(hashes) <= set(solo.daemon.hashes())
    assert not os.path.exists('/tmp/pwned')


def test_set_priority_reads_back(solo):
    h = fresh(solo)
    for priority in (0, 3, 1, 2):
        assert solo.backend.set_priority(h, priority)[0].ok
        assert solo.daemon.call('d.priority', h) == priority
    for bad in (4, -1, True, '2'):
        with pytest.raises(ValueError):
            solo.backend.set_priority(h, bad)


def test_file_priorities_read_back(solo):
    h = fresh(solo, files=['a.bin', 'b/c.bin', 'b/d.bin'])
    result = solo.backend.set_file_priorities(h, {0: 0, 2: 2})
    assert result.ok
    assert [row[0] for row in solo.daemon.call('f.multicall', h, '', 'f.priority=')] == [0, 1, 2]
    assert [f.priority_name for f in solo.backend.torrent_detail(h)[1].files] == ['off', 'normal', 'high']
    result = solo.backend.set_file_priorities(h, {7: 1})
    assert not result.ok and '%s:f7' % h in result.reason and 'Invalid index' in result.reason
    for bad in ({0: 3}, {-1: 1}, {}, {'0': 1}):
        with pytest.raises(ValueError):
            solo.backend.set_file_priorities(h, bad)


def test_tracker_enable_and_disable_read_back(solo):
    h = fresh(solo)
    assert solo.backend.set_tracker_enabled(h, 0, False).ok
    assert solo.daemon.call('t.multicall', h, '', 't.is_enabled=') == [[0]]
    assert solo.backend.torrent_detail(h)[1].trackers[0].enabled is False
    assert solo.backend.set_tracker_enabled(h, [0], True).ok
    assert solo.daemon.call('t.multicall', h, '', 't.is_enabled=') == [[1]]
    assert not solo.backend.set_tracker_enabled(h, 3, False).ok


def test_set_directory_only_when_stopped_and_closed(solo):
    h = fresh(solo, files=['x.bin', 'y.bin'])
    old = solo.daemon.call('d.directory', h)
    target = os.path.join(solo.workdir, 'moved')
    result = solo.backend.set_directory([h], target)[0]
    assert not result.ok and 'started' in result.reason
    solo.backend.act('stop', h)
    result = solo.backend.set_directory(h, target)[0]
    assert not result.ok and 'open' in result.reason and 'close' in result.reason
    assert solo.daemon.call('d.directory', h) == old
    solo.backend.act('close', h)
    trips = Trips(solo.backend)
    assert solo.backend.set_directory(h, target)[0].ok and trips.count == 2
    # multi-file: rtorrent puts the torrent's own folder inside the one given
    assert solo.daemon.call('d.directory', h) == os.path.join(target, solo.daemon.call('d.name', h))
    never_started = fresh(solo, start=False)
    assert solo.backend.set_directory(never_started, target)[0].ok
    assert solo.daemon.call('d.directory', never_started) == target
    with pytest.raises(ValueError):
        solo.backend.set_directory(h, 'relative/dir')


# -- erase ---------------------------------------------------------------------------------------

def _snapshot(top):
    found = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, top)] = os.readlink(path) if os.path.islink(path) else None
    return found


def test_erase_keeps_the_data_and_is_one_round_trip(solo):
    hashes = [fresh(solo), fresh(solo, files=2)]
    before = _snapshot(solo.data)
    trips = Trips(solo.backend)
    assert [r.ok for r in solo.backend.erase(hashes)] == [True, True] and trips.count == 1
    assert not set(hashes) & set(solo.daemon.hashes())
    assert _snapshot(solo.data) == before


def test_erase_with_data_deletes_exactly_the_torrents_files(solo):
    outside = os.path.join(solo.workdir, 'outside-target.bin')

    def link_one_file_outside(path):
        shutil.copyfile(os.path.join(path, 'link.bin'), outside)
        os.unlink(os.path.join(path, 'link.bin'))
        os.symlink(outside, os.path.join(path, 'link.bin'))
    h = fresh(solo, files=['a.bin', 'sub/b.bin', 'sub/deeper/c.bin', 'link.bin'], size=128 * 1024,
              name='erase me', prepare=link_one_file_outside)
    neighbour = fresh(solo, files=['a.bin', 'sub/b.bin'], name='erase me too')   # same names, kept
    with open(os.path.join(solo.data, 'erase me.nfo'), 'w') as f:
        f.write('beside the torrent, not of it')
    with open(outside, 'rb') as f:
        outside_bytes = f.read()
    before = _snapshot(solo.data)
    detail = solo.backend.torrent_detail(h)[1]
    assert detail.can_delete_data

    trips = Trips(solo.backend)
    result, = solo.backend.erase(h, delete_data=True)
    assert result.ok, result.reason
    assert trips.count == 2
    assert h not in solo.daemon.hashes() and neighbour in solo.daemon.hashes()
    report = result.erased_data
    assert sorted(report.deleted) == sorted(os.path.join(solo.data, 'erase me', f)
                                            for f in ('a.bin', 'sub/b.bin', 'sub/deeper/c.bin', 'link.bin'))
    assert report.skipped == []
    expected = {k: v for k, v in before.items() if k != 'erase me' and not k.startswith('erase me/')}
    assert _snapshot(solo.data) == expected
    with open(outside, 'rb') as f:
        assert f.read() == outside_bytes                       # the symlink's target survives


def test_erase_with_data_of_a_single_file_torrent_keeps_its_folder(solo):
    h = fresh(solo, name='lonely.iso')
    beside = os.path.join(solo.data, 'lonely.iso.part-of-nothing')
    with open(beside, 'w') as f:
        f.write('same prefix, not the torrent')
    result, = solo.backend.erase([h], delete_data=True)
    assert result.ok and result.erased_data.deleted == [os.path.join(solo.data, 'lonely.iso')]
    assert result.erased_data.removed_folders == []
    assert os.path.isdir(solo.data) and os.path.exists(beside) and h not in solo.daemon.hashes()


def test_erase_with_data_refused_where_pyrotorrent_may_not_delete(solo):
    h = fresh(solo, files=2)
    before = _snapshot(solo.data)
    elsewhere = RTorrent(Target('solo', solo.daemon.url, download_roots=(os.path.join(solo.workdir, 'other'),)))
    result, = elsewhere.erase(h, delete_data=True)
    assert not result.ok and 'outside the download roots' in result.reason
    assert h in solo.daemon.hashes() and _snapshot(solo.data) == before
    remote = RTorrent(Target('far', 'scgi://192.0.2.1:5000', download_roots=(solo.data,)))
    trips = Trips(remote)
    result, = remote.erase(h, delete_data=True)                 # refused without asking anyone
    assert not result.ok and 'cannot see its disk' in result.reason and trips.count == 0
    no_roots = RTorrent(Target('solo', solo.daemon.url))
    result, = no_roots.erase(h, delete_data=True)
    assert not result.ok and 'no download_roots' in result.reason
    assert h in solo.daemon.hashes() and _snapshot(solo.data) == before
