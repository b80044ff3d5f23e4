"""RTorrent.add_torrents against a real rtorrent 0.9.8 of this module's own: each kind of
item, each option read back from rtorrent, duplicates, mixed batches, the request size
limits, and labels and directories built to break out of rtorrent's command syntax."""
import re

import pytest

from lib import bencode, fetch, metafile, xmlrpc
from lib.metafile import Metafile, MetafileError
from model.clients.types import AddOptions, AddResult
from model.clients.rtorrent import RTorrent
from tests import rig

HOSTILE_LABELS = [
    'x,d.erase=', 'x;d.erase=', '(d.erase)', '((d.erase))', 'x"),d.erase=("', 'a"b', 'a\\', '\\"',
    '{a,b}', 'a=b', ' padded ', 'x" ; d.erase= ; "', 'a $d.name=', 'ünï 日本 "quoted", \'single\'',
    '<b>Bold</b> & "Quotes"', '\\$d.erase=', '"', '',
]


@pytest.fixture(scope='module')
def daemon(make_box):
    """An rtorrent of this module's own, so what we add touches no other test."""
    return make_box('add-model').daemon


@pytest.fixture
def rt(daemon):
    return CountingRTorrent(daemon.url, name='add-test')


class CountingRTorrent(RTorrent):
    """The real backend, counting its round trips.  A read-back asked again because
    rtorrent had not listed a torrent it just took yet (the race RTorrent._read_back waits
    out, about 1 batch in 100, more on a busy machine) is counted in `asked_again`, not in
    `round_trips`: the batch's own cost is what the tests check."""

    round_trips = 0
    asked_again = 0

    def _send(self, body):
        self.round_trips += 1
        return super()._send(body)

    def _read_back(self, hashes):
        before = self.round_trips
        found = super()._read_back(hashes)
        again = max(0, self.round_trips - before - 1)
        self.round_trips -= again
        self.asked_again += again
        return found


_SEQ = iter(range(10_000))


def fresh(n=1, **options):
    """n new synthetic .torrents (never loaded before) as parsed Metafiles."""
    start = next(_SEQ) * 20
    return [metafile.parse(t, 'synthetic-%d.torrent' % (start + i))
            for i, t in enumerate(rig.synthetic_torrents(n, start=start, seed='add-model'))]


def fields(daemon, info_hash):
    names = ('d.name', 'd.directory', 'd.custom1', 'd.priority', 'd.state', 'd.size_bytes')
    return dict(zip(names, daemon.multicall([(name, [info_hash]) for name in names])))


def count(daemon):
    return len(daemon.hashes())


# ---------------------------------------------------------------- each kind, each option

def test_a_real_torrent_is_added_started_with_every_option_read_back(daemon, rt, tmp_path):
    data_dir = str(tmp_path / 'data dir, "quoted"')
    path = rig.make_payload(data_dir, 'payload.bin', 50_000)
    item = metafile.parse(rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 'p.torrent'),
                                           piece_size_exp=15), 'p.torrent')
    [result] = rt.add_torrents([item], AddOptions(start=True, directory=data_dir, label='Linux ISOs', priority=3))
    assert result == AddResult('added', 'p.torrent', item.info_hash, 'payload.bin', 50_000)
    got = fields(daemon, item.info_hash)
    assert got == {'d.name': 'payload.bin', 'd.directory': data_dir, 'd.custom1': 'Linux ISOs',
                   'd.priority': 3, 'd.state': 1, 'd.size_bytes': 50_000}
    assert rt.round_trips == 3      # what is there, the loads, the read-back


def test_a_torrent_added_stopped_with_defaults_gets_rtorrents_defaults(daemon, rt):
    [item] = fresh()
    [result] = rt.add_torrents([item], AddOptions(start=False))
    assert result.status == 'added' and result.size == item.size
    got = fields(daemon, item.info_hash)
    assert (got['d.state'], got['d.priority'], got['d.custom1']) == (0, 2, '')
    assert got['d.directory'].rstrip('/') == daemon.download_dir


@pytest.mark.parametrize('priority', [0, 1, 2, 3])
def test_each_priority_is_applied(daemon, rt, priority):
    [item] = fresh()
    assert rt.add_torrents([item], AddOptions(start=False, priority=priority))[0].status == 'added'
    assert fields(daemon, item.info_hash)['d.priority'] == priority


def test_a_multi_file_torrent_goes_into_its_folder_under_the_directory(daemon, rt, tmp_path):
    path = rig.make_payload(str(tmp_path / 'src'), 'Album', 30_000, ['a.flac', 'Extras/b.jpg'])
    item = metafile.parse(rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 'a.torrent'),
                                           piece_size_exp=15))
    target = str(tmp_path / 'music')
    [result] = rt.add_torrents([item], AddOptions(start=False, directory=target, label='Music'))
    assert result.status == 'added'
    assert fields(daemon, item.info_hash)['d.directory'] == target + '/Album'


def test_a_magnet_link_is_added_with_every_option_read_back(daemon, rt):
    [source] = fresh()
    link = metafile.parse_magnet('magnet:?xt=urn:btih:%s&dn=From+a+magnet&tr=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fannounce'
                                 % source.info_hash.lower(), 'pasted link')
    [result] = rt.add_torrents([link], AddOptions(start=False, directory='/srv/magnets, "x"', label='x,d.erase=',
                                                  priority=1))
    assert result == AddResult('added', 'pasted link', source.info_hash, 'From a magnet', None)
    got = fields(daemon, source.info_hash)
    # rtorrent lists a magnet as a small meta download until the metadata arrives; it
    # replays the same option commands on the real torrent then (see commands.LOAD)
    assert got['d.name'] == source.info_hash + '.meta'
    assert (got['d.directory'], got['d.custom1'], got['d.priority'], got['d.state']) == (
        '/srv/magnets, "x"', 'x,d.erase=', 1, 0)


def test_a_magnet_link_can_be_started(daemon, rt):
    [source] = fresh()
    link = metafile.parse_magnet('magnet:?xt=urn:btih:%s&tr=http://127.0.0.1:1/announce' % source.info_hash)
    [result] = rt.add_torrents([link], AddOptions(start=True, label='now'))
    assert result.status == 'added' and result.name == source.info_hash + '.meta'
    assert fields(daemon, source.info_hash)['d.state'] == 1


def test_a_started_magnet_without_trackers_is_dropped_by_rtorrent_and_refused(daemon, rt):
    """DHT is off here: rtorrent answers load.start with 0 and lists nothing."""
    [source] = fresh()
    before = count(daemon)
    [result] = rt.add_torrents([metafile.parse_magnet('magnet:?xt=urn:btih:' + source.info_hash, 'm')],
                               AddOptions(start=True))
    assert result.status == 'refused'
    assert result.reason.startswith('rTorrent did not accept it (a magnet link without trackers needs DHT')
    assert count(daemon) == before


def test_a_torrent_rtorrent_silently_drops_is_refused(daemon, rt):
    """A name holding '/' (lib.metafile refuses it first; made by hand here to reach rtorrent)."""
    raw = bencode.encode({'info': {'name': 'a/b', 'length': 1, 'piece length': 16384, 'pieces': b'\1' * 20}})
    item = Metafile(name='a/b', info_hash=bencode.info_hash(raw), size=1, files=(('a/b', 1),), trackers=(),
                    private=False, raw=raw, source='slash.torrent')
    before = count(daemon)
    [result] = rt.add_torrents([item], AddOptions(start=False))
    assert (result.status, result.reason) == ('refused', 'rTorrent did not accept it')
    assert count(daemon) == before


# ---------------------------------------------------------------- hostile options

@pytest.mark.parametrize('label', HOSTILE_LABELS)
def test_a_hostile_label_is_stored_verbatim_and_runs_nothing(daemon, rt, label):
    bystander, item = fresh(2)
    assert rt.add_torrents([bystander], AddOptions(start=False))[0].status == 'added'
    before = count(daemon)
    [result] = rt.add_torrents([item], AddOptions(start=False, label=label, directory='/tmp/x' + label.replace('/', '')))
    assert result.status == 'added', result.reason
    got = fields(daemon, item.info_hash)
    assert got['d.custom1'] == label
    assert got['d.directory'] == '/tmp/x' + label.replace('/', '')
    assert got['d.name'] == item.name            # not replaced by a command's output
    assert count(daemon) == before + 1           # nothing erased, nothing else loaded
    assert fields(daemon, bystander.info_hash)['d.name'] == bystander.name


@pytest.mark.parametrize('label, words', [
    ('$d.erase=', 'the label may not begin with "$" (rTorrent would run it as a command)'),
    ('$', 'may not begin with "$"'),
])
def test_a_label_rtorrent_would_run_is_refused_before_anything_is_sent(daemon, rt, label, words):
    [item] = fresh()
    before = count(daemon)
    with pytest.raises(ValueError) as caught:
        rt.add_torrents([item], AddOptions(label=label))
    assert words in str(caught.value)
    assert rt.round_trips == 0 and count(daemon) == before


@pytest.mark.parametrize('options, words', [
    (dict(priority=4), 'priority must be one of 0 \\(off\\), 1 \\(low\\), 2 \\(normal\\), 3 \\(high\\)'),
    (dict(priority=True), 'priority must be one of'),
    (dict(directory='relative/path'), 'must be an absolute path'),
    (dict(directory='/a\nb'), 'control characters'),
    (dict(label='a\rb'), 'control characters'),
    (dict(label='a\tb'), 'control characters'),
    (dict(label='x' * 1025), 'at most 1024'),
    (dict(label='\udc80'), 'not valid text'),
    (dict(start='yes'), 'start must be True or False'),
])
def test_options_that_cannot_be_carried_are_refused_in_words(options, words):
    with pytest.raises(ValueError, match=words):
        AddOptions(**options)


# ---------------------------------------------------------------- batches, duplicates

def test_a_batch_mixing_good_and_bad_items_reports_each_in_order(daemon, rt):
    good, present, magnet_source = fresh(3)
    assert rt.add_torrents([present], AddOptions(start=False, label='first'))[0].status == 'added'
    rt.round_trips = 0
    try:
        metafile.parse(b'<html>login</html>', 'login.torrent')
    except MetafileError as exc:
        not_a_torrent = exc
    link_error = fetch.FetchError('http://10.0.0.1/x.torrent', '10.0.0.1 is a private address')
    magnet = metafile.parse_magnet('magnet:?xt=urn:btih:%s&dn=mag&tr=http://127.0.0.1:1/a' % magnet_source.info_hash)
    before = count(daemon)
    results = rt.add_torrents([good, not_a_torrent, present, link_error, magnet, good],
                              AddOptions(start=False, label='batch', priority=1))
    assert [r.status for r in results] == ['added', 'refused', 'present', 'refused', 'added', 'refused']
    assert results[1].reason == 'login.torrent: this is a web page, not a .torrent file'
    assert results[1].source == 'login.torrent'
    assert results[2] == AddResult('present', present.source, present.info_hash, present.name)
    assert results[3].reason == 'http://10.0.0.1/x.torrent: 10.0.0.1 is a private address'
    assert results[3].source == 'http://10.0.0.1/x.torrent'
    assert results[5].reason == 'the same torrent as item 1 of this batch'
    assert count(daemon) == before + 2
    assert fields(daemon, present.info_hash)['d.custom1'] == 'first'     # present: left alone
    assert fields(daemon, good.info_hash)['d.custom1'] == 'batch'
    assert rt.round_trips == 3


def test_a_batch_of_many_costs_three_round_trips(daemon, rt):
    items = fresh(12)
    results = rt.add_torrents(items, AddOptions(start=False, label='many'))
    assert [r.status for r in results] == ['added'] * 12
    assert rt.round_trips == 3
    again = rt.add_torrents(items, AddOptions(start=False, label='other'))
    assert [r.status for r in again] == ['present'] * 12
    assert rt.round_trips == 4       # only the question what is there
    assert {fields(daemon, i.info_hash)['d.custom1'] for i in items} == {'many'}


def test_nothing_to_add_sends_nothing(rt):
    assert rt.add_torrents([], AddOptions()) == []
    assert [r.status for r in rt.add_torrents([ValueError('x: broken')], AddOptions())] == ['refused']
    assert rt.round_trips == 0


# ---------------------------------------------------------------- the 2 MiB request limit

def torrent_of_size(size, seed=0):
    """A valid .torrent of exactly `size` bytes (pieces fill it, a comment pads it)."""
    pieces = (size - 300) // 20
    info = {'name': 'big-%d-%d.bin' % (size, seed), 'piece length': 16384, 'length': pieces * 16384,
            'pieces': bytes(20 * pieces)}
    meta = {'announce': 'http://127.0.0.1:1/announce', 'info': info, 'comment': ''}
    pad = size - len(bencode.encode(meta))
    for _ in range(3):                      # the length's own digits shift it by one or two
        meta['comment'] = 'x' * pad
        pad += size - len(bencode.encode(meta))
    data = bencode.encode(meta)
    assert len(data) == size
    return data


def test_a_torrent_just_under_the_limit_loads_and_one_over_is_refused_unsent(daemon, rt):
    under = metafile.parse(torrent_of_size(metafile.MAX_SIZE), 'under.torrent')
    [result] = rt.add_torrents([under], AddOptions(start=False, directory='/srv/' + 'd' * 1000, label='L' * 1000))
    assert result.status == 'added', result.reason
    assert fields(daemon, under.info_hash)['d.size_bytes'] == under.size

    before, rt.round_trips = count(daemon), 0
    with pytest.raises(MetafileError) as caught:
        metafile.parse(torrent_of_size(metafile.MAX_SIZE + 1, seed=1), 'over.torrent')
    assert str(caught.value) == (
        'over.torrent: the .torrent file is 1,546,372 bytes; rTorrent takes at most 2,097,152 bytes in one '
        'request over SCGI, which carries a .torrent file of at most 1,546,371 bytes (base64 inside '
        'XML-RPC makes it a third larger)')
    [result] = rt.add_torrents([caught.value], AddOptions())
    assert (result.status, result.reason) == ('refused', str(caught.value))
    assert rt.round_trips == 0 and count(daemon) == before


def test_a_batch_larger_than_one_request_is_split_and_all_of_it_loads(daemon, rt):
    items = [metafile.parse(torrent_of_size(700_000, seed=s)) for s in range(4)]     # ~3.8 MB as base64
    results = rt.add_torrents(items, AddOptions(start=False))
    assert [r.status for r in results] == ['added'] * 4
    assert rt.round_trips >= 4       # what is there, 2 requests of loads (2 items each), read-back


def test_the_daemons_own_request_limit_refuses_an_item_in_words(daemon, rt):
    big, small = metafile.parse(torrent_of_size(200_000, seed=9), 'big.torrent'), fresh()[0]
    daemon.call('network.xmlrpc.size_limit.set', '', 100_000)
    try:
        results = rt.add_torrents([big, small], AddOptions(start=False))
    finally:
        daemon.call('network.xmlrpc.size_limit.set', '', 4 << 20)
    assert [r.status for r in results] == ['refused', 'added']
    assert re.match(r'as an XML-RPC request it is 2\d\d,\d\d\d bytes, ', results[0].reason)
    assert "rTorrent 'add-test' takes at most 100,000 bytes in one request (network.xmlrpc.size_limit" \
        in results[0].reason
    with pytest.raises(xmlrpc.Fault):
        daemon.call('d.name', big.info_hash)


def test_the_daemons_own_rules_win_and_the_result_says_so(tmp_path):
    """An rc that relabels and moves every new torrent (as ruTorrent-style autolabel
    setups do): the torrent stays added, and the note tells what became of the options."""
    hooks = ('method.set_key = event.download.inserted_new, relabel, "d.custom1.set=auto"\n'
             'method.set_key = event.download.inserted_new, move, "d.directory.set=/srv/auto"\n')
    d = rig.RTorrentDaemon(extra_rc=hooks).start()
    try:
        rt = RTorrent(d.url)
        mine, plain = fresh(2)
        results = rt.add_torrents([mine], AddOptions(start=False, label='mine', directory='/srv/mine'))
        results += rt.add_torrents([plain], AddOptions(start=False))
        assert [r.status for r in results] == ['added', 'added']
        assert results[0].note == ("rTorrent's own configuration changed the label to 'auto', "
                                   "the download directory to '/srv/auto'")
        assert results[1].note is None          # no label or directory asked for
        assert d.rows(['d.custom1', 'd.directory']) == [['auto', '/srv/auto']] * 2
    finally:
        d.stop()
