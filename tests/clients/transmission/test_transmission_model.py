"""The Transmission backend against a real transmission-daemon 3.00 started here (loopback,
DHT/LPD/PEX/uTP off): every read, action and add kind is read back from the daemon itself
(torrent-get), never from pyroTorrent's own answer; the 409 handshake across a restart,
wrong credentials and a stopped daemon in words, the answer cap; and a real transfer from
an rtorrent seeder to Transmission (rtorrent's add_peer: no tracker needed)."""
import os
import time

import pytest

from lib import metafile
from lib.config import Target
from model.clients import backend_for
from model.clients.types import AddOptions, ListQuery
from model.clients.errors import BadAnswer, LoginRefused, NotFound, TimedOut, Unreachable
from model.clients.transmission import SETTINGS_READ, Transmission
from model.clients.transmission.rows import PRIORITIES
from model.clients.transmission.rpc import Transport
from tests import rig

FILES = ['cd1/01 intro.flac', 'cd1/02 song.flac', 'notes ü.txt']
# Transmission 3.00 puts '_' on disk for each of <>:"\\|?* in a file's path (the name it shows keeps
# them): data it should find again has none.
MULTI, SINGLE = "Album & 'friends' ü", 'single image.iso'


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    """A daemon seeding a multi-file and a single-file torrent (their data checked complete),
    plus 12 synthetic stopped ones with labels."""
    workdir = str(tmp_path_factory.mktemp('trm'))
    daemon = rig.TransmissionDaemon(os.path.join(workdir, 'tr')).start()
    data = os.path.join(workdir, 'data')
    try:
        hashes, bodies = {}, {}
        for name, files, size in ((MULTI, FILES, 3 * 1024 * 1024 + 77), (SINGLE, 1, 1024 * 1024 + 5)):
            path = rig.make_payload(data, name, size, files=files)
            bodies[name] = rig.make_torrent(path, 'http://127.0.0.1:1/announce',
                                            os.path.join(workdir, '%d.torrent' % len(bodies)), piece_size_exp=16)
            hashes[name] = daemon.add(bodies[name], directory=data).upper()
        synthetic = [daemon.add(t, paused=True).upper() for t in rig.synthetic_torrents(12, start=500)]
        for i, h in enumerate(synthetic):
            daemon.call('torrent-set', ids=[h.lower()], labels=[['even', 'all'], ['odd', 'all']][i % 2])
        daemon.wait(lambda: all(t['percentDone'] == 1 and t['status'] == 6 for t in daemon.torrents(
            ['percentDone', 'status'], ids=[h.lower() for h in hashes.values()])), 30, 'the data to be checked')
        yield {'daemon': daemon, 'data': data, 'hashes': hashes, 'bodies': bodies, 'synthetic': synthetic,
               'workdir': workdir}
    finally:
        daemon.stop()


class Counting(Transport):
    """Counts round trips (a 409 and its retry inside one)."""
    calls = 0

    def request(self, body):
        Counting.calls += 1
        return super().request(body)


def backend(box, **target):
    target = dict({'url': box['daemon'].url}, **target)
    t = Transmission(Target(name='tr', client='transmission', **target))
    t.transport.__class__ = Counting
    return t


def row(daemon, h, *fields):
    return daemon.torrents(fields, ids=[h.lower()])[0]


def test_the_factory_and_the_declared_capabilities(box):
    t = backend_for(Target(name='tr', url=box['daemon'].url, client='transmission'))
    assert isinstance(t, Transmission) and t.version()[0].startswith('3.00')
    caps = t.CAPABILITIES
    assert caps.client == 'Transmission' and caps.labels == 'many' and caps.file_wanted
    assert not caps.tracker_toggle and not caps.views and caps.deletes_data_itself and caps.queue
    assert {'start', 'stop', 'recheck', 'announce', 'erase', 'start_now'} <= set(caps.actions)
    assert not {'pause', 'resume', 'close'} & set(caps.actions)
    assert caps.priorities == {-1: 'low', 0: 'normal', 1: 'high'} == caps.file_priorities
    # offered only once read_settings/apply_settings map them (model/transmission SETTINGS_READ)
    mapped = {'down_limit', 'up_limit', 'alt_down_limit', 'alt_up_limit', 'alt_enabled', 'encryption',
              'max_peers', 'max_peers_global'}
    assert caps.settings_read == caps.settings_write == mapped and 'groups' not in mapped
    assert caps.alt_native and caps.rate_unit == 1000 and caps.timetable
    assert {'down_limit', 'up_limit', 'alt_down_limit', 'alt_up_limit', 'alt_enabled', 'encryption'} <= SETTINGS_READ


def test_the_list_sorts_filters_by_labels_and_states_and_pages(box):
    t = backend(box)
    everything = t.torrent_list(ListQuery(per_page=100))
    assert everything.view_total == everything.total == 14
    assert everything.labels == {'all': 12, 'even': 6, 'odd': 6, '': 2}
    assert everything.view_sizes['seeding'] == 2 and everything.view_sizes['main'] == 14
    assert everything.header.views[0] == 'main' and everything.header.view_titles['main'] == 'all'
    names = [x.name for x in everything.torrents]
    assert names == sorted(names, key=str.casefold)
    by_size = t.torrent_list(ListQuery(sort='size', reverse=True, per_page=100)).torrents
    assert [x.size for x in by_size] == sorted((x.size for x in by_size), reverse=True)
    truth = {r['hashString'].upper(): r for r in box['daemon'].torrents(['hashString', 'totalSize', 'labels', 'name'])}
    for x in everything.torrents:       # as Transmission says, hashes upper case
        assert x.size == truth[x.hash]['totalSize'] and list(x.labels) == truth[x.hash]['labels']
    odd = t.torrent_list(ListQuery(label='odd', per_page=100))
    assert odd.total == 6 and all('odd' in x.labels and 'all' in x.labels for x in odd.torrents)
    assert {x.name for x in t.torrent_list(ListQuery(label='', per_page=100)).torrents} == {MULTI, SINGLE}
    seeding = t.torrent_list(ListQuery(view='seeding'))
    assert {x.state for x in seeding.torrents} == {'seeding'} and seeding.view_total == 2
    assert t.torrent_list(ListQuery(text='IMAGE')).torrents[0].name == SINGLE
    pages = [t.torrent_list(ListQuery(page=p, per_page=5)).torrents for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [5, 5, 4] and sum(pages, []) == everything.torrents
    with pytest.raises(NotFound, match="has no view named 'nope'"):
        t.torrent_list(ListQuery(view='nope'))


def test_a_list_costs_four_calls_however_many_torrents(box):
    t = backend(box)
    for per_page in (1, 100):
        Counting.calls = 0
        t.torrent_list(ListQuery(per_page=per_page, sort='ratio'))
        assert Counting.calls == 4


def test_the_torrent_page_reads_files_pieces_trackers_in_three_calls(box):
    t = backend(box)
    h = box['hashes'][MULTI]
    Counting.calls = 0
    header, detail = t.torrent_detail(h.lower())
    assert Counting.calls == 3 and header.client == 'Transmission'
    assert detail.torrent.hash == h and detail.torrent.state == 'seeding' and detail.multi_file
    assert detail.directory == os.path.join(box['data'], MULTI)         # its own folder, as for rTorrent
    assert sorted(f.path for f in detail.files) == sorted(FILES)
    assert all(f.progress == 1.0 and f.wanted and f.priority_name == 'normal' for f in detail.files)
    assert detail.pieces and set(detail.pieces) == {1.0} and detail.chunks_completed == detail.chunks
    assert [tr.url for tr in detail.trackers] == ['http://127.0.0.1:1/announce']
    assert detail.trackers[0].successes is None and detail.trackers[0].enabled
    assert detail.local_metafile and os.path.isfile(detail.local_metafile)
    assert detail.priority_name == 'normal' and detail.down_limit == 0
    single = t.torrent_detail(box['hashes'][SINGLE])[1]
    assert not single.multi_file and single.directory == box['data'] and single.files[0].path == SINGLE
    with pytest.raises(NotFound):
        t.torrent_detail('0' * 40)
    with pytest.raises(NotFound, match='not a torrent hash'):
        t.torrent_detail('../etc')


def test_actions_one_and_many_read_back(box):
    t, daemon = backend(box), box['daemon']
    some = box['synthetic'][:3]
    Counting.calls = 0
    results = t.act('start', some + ['nothex', '0' * 40, some[0].lower()])
    assert Counting.calls == 2
    assert [r.ok for r in results] == [True, True, True, False, False]
    assert 'no torrent with hash' in results[4].reason and 'not a torrent hash' in results[3].reason
    daemon.wait(lambda: all(row(daemon, h, 'status')['status'] != 0 for h in some), 10, 'them to start')
    assert all(r.ok for r in t.act('stop', some))
    daemon.wait(lambda: all(row(daemon, h, 'status')['status'] == 0 for h in some), 10, 'them to stop')
    last = box['synthetic'][-1]
    assert t.act('queue_top', [last])[0].ok
    assert row(daemon, last, 'queuePosition')['queuePosition'] == 0
    assert t.act('queue_bottom', [last])[0].ok and t.act('queue_up', [last])[0].ok
    assert row(daemon, last, 'queuePosition')['queuePosition'] == 12
    assert t.act('start_now', [last])[0].ok
    daemon.wait(lambda: row(daemon, last, 'status')['status'] != 0, 10, 'it to start now')
    assert t.act('recheck', [box['hashes'][SINGLE]])[0].ok and t.act('announce', [box['hashes'][SINGLE]])[0].ok
    daemon.wait(lambda: row(daemon, box['hashes'][SINGLE], 'status', 'percentDone') == {'status': 6, 'percentDone': 1},
                20, 'the recheck to end seeding')
    t.act('stop', [last])
    with pytest.raises(ValueError):
        t.act('pause', some)                      # not a Transmission action: never sent


def test_labels_priority_directory_read_back(box, tmp_path):
    t, daemon = backend(box), box['daemon']
    two = box['synthetic'][3:5]
    assert all(r.ok for r in t.set_label(two, ' Linux, ISOs ,Linux, '))
    assert [row(daemon, h, 'labels')['labels'] for h in two] == [['Linux', 'ISOs']] * 2
    assert t.set_label(two[:1], '')[0].ok and row(daemon, two[0], 'labels')['labels'] == []
    t.set_label(two[:1], 'odd, all')
    assert t.set_priority(two, 1)[0].ok and row(daemon, two[1], 'bandwidthPriority')['bandwidthPriority'] == 1
    with pytest.raises(ValueError):
        t.set_priority(two, 3)
    t.set_priority(two, 0)
    target = str(tmp_path / 'moved')
    assert t.set_directory(two[:1], target)[0].ok
    daemon.wait(lambda: row(daemon, two[0], 'downloadDir')['downloadDir'] == target, 10, 'the move')


def test_file_priorities_and_skipping_read_back(box):
    t, daemon, h = backend(box), box['daemon'], box['hashes'][MULTI]
    order = [f['name'] for f in row(daemon, h, 'files')['files']]
    notes = order.index(MULTI + '/notes ü.txt')
    assert t.set_file_priorities(h, {notes: 1, (notes + 1) % 3: -1}).ok
    stats = row(daemon, h, 'priorities', 'wanted')
    assert stats['priorities'][notes] == 1 and stats['priorities'][(notes + 1) % 3] == -1
    assert t.set_files_wanted(h, [notes], False).ok and row(daemon, h, 'wanted')['wanted'][notes] == 0
    page = t.torrent_detail(h)[1]
    assert [f.wanted for f in page.files if f.index == notes] == [False]
    assert t.set_file_priorities(h, {notes: 0}).ok          # a priority means: get it again
    assert row(daemon, h, 'wanted')['wanted'][notes] == 1
    refused = t.set_file_priorities(h, {9: 0})
    assert not refused.ok and 'has 3 files, none numbered 9' in refused.reason
    with pytest.raises(ValueError):
        t.set_file_priorities(h, {0: 2})


def test_adding_uploads_and_magnets_with_their_options_read_back(box, tmp_path):
    t, daemon = backend(box), box['daemon']
    bodies = rig.synthetic_torrents(2, start=900)
    items = [metafile.parse(b, 'f%d.torrent' % i) for i, b in enumerate(bodies)]
    magnet = metafile.parse_magnet('magnet:?xt=urn:btih:' + 'cd' * 20 + '&dn=a%20magnet', 'the magnet')
    present = metafile.parse(box['bodies'][SINGLE], 'again.torrent')
    broken = metafile.MetafileError('not bencoded', 'broken.torrent')
    folder = str(tmp_path / 'into')
    options = AddOptions(start=False, directory=folder, label='new, <b>x</b>', priority=1, priorities=PRIORITIES)
    Counting.calls = 0
    results = t.add_torrents(items + [magnet, present, broken, items[0]], options)
    assert Counting.calls == 1 + 3 + 1 + 1                # present?, 3 adds, labels, read back
    assert [r.status for r in results] == ['added', 'added', 'added', 'present', 'refused', 'refused']
    assert results[2].size is None and results[3].name == SINGLE and 'item 1' in results[5].reason
    for r in results[:3]:
        got = row(daemon, r.info_hash, 'labels', 'bandwidthPriority', 'downloadDir', 'status')
        assert got['labels'] == ['new', '<b>x</b>'] and got['bandwidthPriority'] == 1
        assert got['downloadDir'] == folder and got['status'] in (0, 1, 2) and r.note is None   # a check, no transfer
    started = t.add_torrents([metafile.parse(rig.synthetic_torrents(1, start=950)[0], 's.torrent')],
                             AddOptions(start=True, priority=0, priorities=PRIORITIES))[0]
    assert started.status == 'added'
    assert row(daemon, started.info_hash, 'status', 'labels') != {'status': 0, 'labels': []}
    t.erase([r.info_hash for r in results[:3]] + [started.info_hash])


def test_erase_keeps_or_deletes_data_by_transmission_or_by_pyrotorrent(box, tmp_path):
    daemon = box['daemon']

    def added(name):
        data = str(tmp_path / name)
        path = rig.make_payload(data, name, 64 * 1024, files=['a.bin', 'sub/b.bin'])
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / (name + '.torrent')))
        return daemon.add(body, directory=data).upper(), data, path

    keep, keep_data, keep_path = added('kept')
    assert backend(box).erase([keep])[0].ok and os.path.exists(keep_path)
    assert not daemon.torrents(['id'], ids=[keep.lower()])

    # no download roots, or pyroTorrent cannot see them: Transmission deletes the data itself
    h, data, path = added('by-transmission')
    result = backend(box).erase([h], delete_data=True)[0]
    assert result.ok and result.erased_data is None
    daemon.wait(lambda: not os.path.exists(os.path.join(path, 'a.bin')), 10, 'Transmission to delete it')

    # roots declared that hold it not: refused, it stays
    h, data, path = added('outside')
    refused = backend(box, download_roots=[str(tmp_path / 'elsewhere')]).erase([h], delete_data=True)[0]
    assert not refused.ok and 'outside the download roots' in refused.reason
    assert daemon.torrents(['id'], ids=[h.lower()]) and os.path.exists(os.path.join(path, 'a.bin'))

    # pyroTorrent sees the disk and the roots: it deletes exactly the torrent's own files
    with open(os.path.join(data, 'stranger.txt'), 'w') as f:
        f.write('not the torrent')
    result = backend(box, download_roots=[data]).erase([h], delete_data=True)[0]
    assert result.ok and sorted(os.path.relpath(p, path) for p in result.erased_data.deleted) == ['a.bin', 'sub/b.bin']
    assert not os.path.exists(path) and os.path.exists(os.path.join(data, 'stranger.txt'))


def test_a_restarted_daemon_with_a_new_session_id_is_transparent(tmp_path):
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        t = Transmission(daemon.url, name='restarted')
        t.transport.__class__ = Counting
        t.version()
        first = t.transport.session_id
        daemon.stop()
        with pytest.raises(Unreachable, match="Transmission 'restarted' at http://%s:%d/transmission/rpc "
                                              "is not reachable: connection refused" % (daemon.bind, daemon.rpc_port)):
            t.version()
        daemon.start()
        Counting.calls = 0
        assert t.version()[0].startswith('3.00') and Counting.calls == 1
        assert t.transport.session_id and t.transport.session_id != first
    finally:
        daemon.stop()


def test_wrong_credentials_are_said_in_words(tmp_path):
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr'), user='ann', password='p@ss:w/rd').start()
    try:
        assert Transmission(daemon.url, name='ok').version()[0].startswith('3.00')
        wrong = 'http://ann:nope@%s:%d/transmission/rpc' % (daemon.bind, daemon.rpc_port)
        with pytest.raises(LoginRefused) as caught:
            Transmission(wrong, name='locked').version()
        assert str(caught.value) == ("Transmission 'locked' at http://ann:***@%s:%d/transmission/rpc "
                                     "refused pyroTorrent: wrong user name or password (HTTP 401)"
                                     % (daemon.bind, daemon.rpc_port))
        bare = 'http://%s:%d/transmission/rpc' % (daemon.bind, daemon.rpc_port)
        with pytest.raises(LoginRefused, match='wants a user name and password'):
            Transmission(bare, name='bare').version()
    finally:
        daemon.stop()


def test_an_answer_larger_than_the_cap_or_too_slow_is_refused_in_words(box):
    t = backend(box)
    t.transport.max_answer = 2000
    with pytest.raises(BadAnswer.__mro__[1]) as caught:     # a BackendError, in words
        t.torrent_list(ListQuery())
    assert 'larger than the 2,000 bytes' in str(caught.value) or 'more than the 2,000' in str(caught.value)
    import socket
    import threading
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(1)
    held = []           # the accepted connection stays open, unanswered
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    with pytest.raises(TimedOut, match='no answer within 0.5 s'):
        Transmission('http://127.0.0.1:%d/transmission/rpc' % silent.getsockname()[1], timeout=0.5).version()
    silent.close()


def test_a_real_transfer_from_an_rtorrent_seeder(tmp_path):
    """rtorrent connects to Transmission (add_peer, a rig-only call): Transmission takes
    incoming peers on loopback, though it never connects out to 127.x itself."""
    seeder = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        data = str(tmp_path / 'data')
        path = rig.make_payload(data, 'transfer ü.bin', 4 * 1024 * 1024 + 3)
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 'x.torrent'), piece_size_exp=16)
        h = seeder.load(body, directory=data, start=True)
        seeder.wait(lambda: seeder.call('d.complete', h) == 1, 30, 'the seeder to check its data')
        t = Transmission(daemon.url, name='leech')
        assert t.add_torrents([metafile.parse(body, 'x.torrent')],
                              AddOptions(start=True, priority=0, priorities=PRIORITIES))[0].status == 'added'
        seeder.call('add_peer', h, '%s:%d' % (daemon.bind, daemon.peer_port))
        daemon.wait(lambda: t.torrent(h)[1].state == 'seeding', 90, 'Transmission to download it from rtorrent')
        with open(path, 'rb') as a, open(os.path.join(daemon.download_dir, 'transfer ü.bin'), 'rb') as b:
            assert a.read() == b.read()
        detail = t.torrent_detail(h)[1]
        assert detail.down_total >= 4 * 1024 * 1024 and detail.finished > time.time() - 300
    finally:
        daemon.stop()
        seeder.stop()
