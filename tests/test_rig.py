"""The rig itself: real opentracker, rtorrent, mktorrent, lighttpd and spawn-fcgi."""
import os
import urllib.request

import pytest

from lib import bencode, xmlrpc
from lib.transport import transport_for
from tests import rig


# ---------------------------------------------------------------- bencode

def test_bencode_round_trip():
    value = {b'announce': b'http://x/announce', b'list': [1, -2, 0, b'', [b'a']],
             b'info': {b'name': 'Ünïcødé'.encode(), b'length': 12345678901234, b'pieces': bytes(range(256))}}
    data = bencode.encode(value)
    assert bencode.decode(data) == value
    assert bencode.encode({'b': 1, 'a': 'x'}) == b'd1:a1:x1:bi1ee'     # str in, sorted keys


@pytest.mark.parametrize('bad', [b'', b'i12', b'i-0e', b'i03e', b'ie', b'5:abc', b'l1:a', b'di1ei2ee',
                                 b'd1:a', b'x', b'i1ei2e', b'03:abc', b'd1:ai1e1:ai2ee'])
def test_bencode_rejects_malformed(bad):
    with pytest.raises(ValueError, match='bencode'):
        bencode.decode(bad)


def test_bencode_refuses_what_it_cannot_carry():
    for value in (True, 1.5, None, {1: b'x'}):
        with pytest.raises(TypeError):
            bencode.encode(value)


def test_info_hash_of_unsorted_info_dict_uses_the_bytes_as_written():
    # keys out of order: the hash must be of the original bytes, not of a re-encoding
    raw_info = b'd4:name1:x6:lengthi1e12:piece lengthi16384e6:pieces20:' + b'\x01' * 20 + b'e'
    torrent = b'd8:announce3:abc4:info' + raw_info + b'e'
    import hashlib
    assert bencode.info_hash(torrent) == hashlib.sha1(raw_info).hexdigest().upper()
    with pytest.raises(ValueError):
        bencode.info_hash(b'd8:announce3:abce')


# ---------------------------------------------------------------- the swarm

def test_seeder_lists_every_swarm_torrent_by_exact_name(swarm, seeder):
    rows = seeder.call('d.multicall2', '', 'main', 'd.hash=', 'd.name=', 'd.custom1=', 'd.size_bytes=',
                       'd.complete=')
    got = {h: (name, label, size, complete) for h, name, label, size, complete in rows}
    want = {t['hash']: (t['name'], t['label'] or '', t['size'], 1) for t in swarm.torrents}
    assert got == want
    names = {t['name'] for t in swarm.torrents}
    assert '<b>Bold<\\b> & "Quotes" \'n\' stuff' in names
    assert '日本語 Ünïcødé' in names
    assert '<b>Bold</b> & "Quotes", \'n\' stuff' in {t['label'] for t in swarm.torrents}
    assert any(t['files'] > 1 for t in swarm.torrents)


def test_info_hash_matches_rtorrent_and_mktorrent_output_round_trips(swarm, seeder):
    assert sorted(seeder.hashes()) == sorted(bencode.info_hash(t['torrent']) for t in swarm.torrents)
    for t in swarm.torrents:
        assert bencode.encode(bencode.decode(t['torrent'])) == t['torrent']


def test_leecher_really_downloaded_through_the_tracker(swarm, seeder, leecher):
    fetched = swarm.downloaded
    assert fetched
    for t in fetched:
        assert leecher.call('d.complete', t['hash']) == 1
        assert leecher.call('d.down.total', t['hash']) >= t['size']
        assert seeder.call('d.up.total', t['hash']) > 0
        with open(os.path.join(leecher.download_dir, t['name']), 'rb') as got, \
                open(t['data_path'], 'rb') as want:
            assert got.read() == want.read()
    # and the seeder's tracker entry did announce
    counters = seeder.call('t.multicall', fetched[0]['hash'], '', 't.success_counter=', 't.url=')
    assert counters[0][0] >= 1 and counters[0][1] == swarm.tracker.announce_url


def test_multicall_and_fault(seeder):
    version, api = seeder.multicall([('system.client_version', []), ('system.api_version', [])])
    assert version == seeder.version and int(api) >= 10
    with pytest.raises(xmlrpc.Fault):
        seeder.multicall([('system.client_version', []), ('d.name', ['0' * 40])])


# ---------------------------------------------------------------- many torrents, restart

def test_load_many_synthetic_and_restart_from_session():
    torrents = rig.synthetic_torrents(500)
    assert len({bencode.info_hash(t) for t in torrents}) == 500
    daemon = rig.RTorrentDaemon(scgi='tcp').start()
    try:
        assert daemon.url.startswith('scgi://127.0.0.1:')
        before = len(daemon.hashes())
        hashes = daemon.load_many(torrents, batch=200, start=False)
        assert len(daemon.hashes()) == before + 500
        assert set(hashes) <= set(daemon.hashes())
        names = [n for (n,) in daemon.rows(['d.name'])]
        assert sum(n.startswith('synthetic-') for n in names) == 500
        daemon.stop()
        daemon.start()                                   # again, on the saved session
        assert set(hashes) <= set(daemon.hashes())
    finally:
        daemon.stop()
    assert not daemon.proc.alive()


def test_load_reports_a_torrent_rtorrent_rejects():
    daemon = rig.RTorrentDaemon().start()
    try:
        bad = bencode.encode({'announce': 'http://127.0.0.1:1/announce',
                              'info': {'name': 'a/b', 'length': 1, 'piece length': 16384, 'pieces': b'\0' * 20}})
        with pytest.raises(rig.RigError, match='did not take'):
            daemon.load(bad, start=False)
    finally:
        daemon.stop()


# ---------------------------------------------------------------- web front ends

FLUP_APP = '''
from flup.server.fcgi import WSGIServer

def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8')])
    return [('flup says hi to %s + %s' % (environ.get('SCRIPT_NAME'), environ.get('PATH_INFO'))).encode('utf-8')]

WSGIServer(app).run()
'''


def test_lighttpd_with_spawn_fcgi_app_and_scgi_to_rtorrent(tmp_path, seeder):
    import sys
    app = tmp_path / 'app.py'
    app.write_text(FLUP_APP)
    fcgi = rig.spawn_fcgi(str(tmp_path / 'app.sock'), [sys.executable, str(app)], cwd=str(tmp_path))
    port = rig.free_port()
    (tmp_path / 'htdocs').mkdir()
    (tmp_path / 'htdocs' / 'hello.txt').write_text('static ok')
    conf = '''
server.modules = ("mod_fastcgi", "mod_scgi")
server.document-root = "%(d)s/htdocs"
server.bind = "127.0.0.1"
server.port = %(port)d
server.errorlog = "%(d)s/error.log"
fastcgi.server = ("/app" => (("socket" => "%(d)s/app.sock", "check-local" => "disable",
                              "fix-root-scriptname" => "enable")))
scgi.server = ("/RPC2" => (("socket" => "%(rpc)s", "check-local" => "disable")))
''' % {'d': tmp_path, 'port': port, 'rpc': seeder.socket_path}
    web = rig.Lighttpd(str(tmp_path), conf).start()
    try:
        assert urllib.request.urlopen(web.url + '/hello.txt', timeout=5).read() == b'static ok'
        assert urllib.request.urlopen(web.url + '/app/x', timeout=5).read() == b'flup says hi to /app + /x'
        answer = transport_for(web.url + '/RPC2', 5).request(xmlrpc.dumps('system.client_version', []))
        assert xmlrpc.loads(answer) == seeder.call('system.client_version')
    finally:
        web.stop()
        fcgi.stop()
    assert not web.proc.alive() and not fcgi.alive()


def test_spawn_fcgi_forking_mode_tracks_the_pid(tmp_path):
    import sys
    app = tmp_path / 'app.py'
    app.write_text(FLUP_APP)
    fcgi = rig.spawn_fcgi(str(tmp_path / 'fork.sock'), [sys.executable, str(app)], fork=True)
    assert fcgi.alive() and fcgi.pid != os.getpid()
    fcgi.stop()
    assert not fcgi.alive()
