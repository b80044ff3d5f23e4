"""What a user hands in to add torrents, checked in lib/ before anything reaches rtorrent:
.torrent files (lib.metafile.parse), magnet links (parse_magnet) and direct links
(lib.fetch, against real HTTP servers on loopback)."""
import base64
import hashlib
import http.server
import socket
import threading
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lib import bencode, fetch, metafile, xmlrpc
from lib.metafile import MetafileError
from tests import rig

ANNOUNCE = 'http://127.0.0.1:6969/announce'


# ---------------------------------------------------------------- real .torrent files

@pytest.fixture(scope='module')
def made(tmp_path_factory):
    """Two .torrent files made by mktorrent: one file, and a folder of three."""
    root = tmp_path_factory.mktemp('made')
    single = rig.make_payload(str(root / 'data'), 'one file.bin', 70_000)
    multi = rig.make_payload(str(root / 'data'), 'Album (2024)', 90_000,
                             ['01 - Intro.flac', 'Extras/cover.jpg', 'Extras/notes.txt'])
    return {
        'single': rig.make_torrent(single, ANNOUNCE, str(root / 'single.torrent'), piece_size_exp=15),
        'multi': rig.make_torrent(multi, ANNOUNCE, str(root / 'multi.torrent'), piece_size_exp=15),
    }


def test_a_single_file_torrent_made_by_mktorrent(made):
    m = metafile.parse(made['single'], 'one.torrent')
    assert (m.name, m.size, m.files, m.trackers, m.private, m.source) == (
        'one file.bin', 70_000, (('one file.bin', 70_000),), (ANNOUNCE,), False, 'one.torrent')
    assert m.info_hash == bencode.info_hash(made['single'])
    assert m.raw == made['single'] and m.kind == 'metafile'


def test_a_multi_file_torrent_made_by_mktorrent(made):
    m = metafile.parse(made['multi'])
    assert m.name == 'Album (2024)'
    assert sorted(m.files) == [('01 - Intro.flac', 30_000), ('Extras/cover.jpg', 30_000),
                               ('Extras/notes.txt', 30_000)]
    assert m.size == 90_000


def _meta(info=None, top=None):
    """A valid single-file metainfo as a dict, with info fields replaced by `info` and
    top-level ones by `top` (a value None: the key is left out)."""
    base = {b'name': b'file.bin', b'piece length': 16384, b'length': 40000, b'pieces': b'\x01' * 60}
    base.update(info or {})
    meta = {b'announce': ANNOUNCE.encode(), b'info': {k: v for k, v in base.items() if v is not None}}
    meta.update(top or {})
    return meta


def test_dict_keys_out_of_order_are_accepted_and_hashed_as_written():
    raw_info = b'd6:lengthi40000e4:name8:file.bin12:piece lengthi16384e6:pieces60:' + b'\x01' * 60 + b'e'
    raw_info = raw_info.replace(b'6:lengthi40000e4:name8:file.bin', b'4:name8:file.bin6:lengthi40000e')
    data = b'd4:info' + raw_info + b'8:announce3:abce'          # top-level keys unsorted too
    m = metafile.parse(data)
    assert m.info_hash == hashlib.sha1(raw_info).hexdigest().upper()
    assert m.trackers == ('abc',)


def test_announce_list_tiers_come_first_without_repeats():
    m = metafile.parse(bencode.encode(_meta(top={b'announce-list': [[b'http://a/1', b'http://b/2'], [b'http://a/1']]})))
    assert m.trackers == ('http://a/1', 'http://b/2', ANNOUNCE)


def _truncations():
    data = bencode.encode(_meta())
    return [pytest.param(data[:n], 'not a valid .torrent file', id='truncated-at-%d' % n)
            for n in (1, 5, 20, len(data) // 2, len(data) - 1)]


def _files(*paths, length=10):
    return {b'length': None, b'files': [{b'length': length, b'path': p} for p in paths]}


BROKEN = [
    pytest.param(b'', 'empty', id='empty'),
    pytest.param(b'<!DOCTYPE html><html><body>Not found</body></html>', 'web page', id='html'),
    pytest.param(b'magnet:?xt=urn:btih:' + b'a' * 40, 'magnet link', id='magnet-as-file'),
    pytest.param(b'hello world', 'does not begin with a bencoded dictionary', id='text'),
    pytest.param(bencode.encode(_meta()) + b'x', 'trailing data', id='trailing-byte'),
    pytest.param(bencode.encode(_meta()) + bencode.encode(_meta()), 'trailing data', id='two-torrents'),
    *_truncations(),
    pytest.param(bencode.encode(_meta()).replace(b'i40000e', b'i040000e'), 'invalid integer', id='leading-zero'),
    pytest.param(bencode.encode(_meta({b'private': 0})).replace(b'i0e', b'i-0e'), 'invalid integer', id='minus-zero'),
    pytest.param(bencode.encode(_meta()).replace(b'4:name8:file.bin', b'4:name8:file.bin4:name8:file.bin'),
                 'appears twice', id='duplicate-key'),
    pytest.param(b'd8:announce3:abce', 'no info dictionary', id='no-info'),
    pytest.param(b'd4:infoli1eee', 'not a dictionary', id='info-is-a-list'),
    pytest.param(b'li1ei2ee', 'does not begin with a bencoded dictionary', id='top-is-a-list'),
    pytest.param(b'di1e4:infoe', 'key at offset 1 is not a string', id='int-key'),
    pytest.param(bencode.encode(_meta({b'name': 7})), 'name must be a text, not 7', id='name-int'),
    pytest.param(bencode.encode(_meta({b'name': None})), 'name must be a text, not nothing', id='name-missing'),
    pytest.param(bencode.encode(_meta({b'name': b'..'})), '".."', id='name-dotdot'),
    pytest.param(bencode.encode(_meta({b'name': b''})), 'empty', id='name-empty'),
    pytest.param(bencode.encode(_meta({b'name': b'a/b'})), 'holds "/"', id='name-slash'),
    pytest.param(bencode.encode(_meta({b'name': b'/etc/passwd'})), 'holds "/"', id='name-absolute'),
    pytest.param(bencode.encode(_meta({b'name': b'\xff\xfe'})), 'not UTF-8', id='name-not-utf8'),
    pytest.param(bencode.encode(_meta({b'length': b'40000'})), 'whole number', id='length-text'),
    pytest.param(bencode.encode(_meta({b'length': -1})), 'whole number from 0, not -1', id='length-negative'),
    pytest.param(bencode.encode(_meta({b'pieces': b'\x01' * 59})), 'not a multiple of 20', id='pieces-59'),
    pytest.param(bencode.encode(_meta({b'pieces': b'\x01' * 40})), 'holds 2 hashes', id='pieces-too-few'),
    pytest.param(bencode.encode(_meta({b'pieces': [b'x']})), '"pieces" must be a byte string', id='pieces-list'),
    pytest.param(bencode.encode(_meta({b'piece length': 0})), 'power of two', id='piece-length-0'),
    pytest.param(bencode.encode(_meta({b'piece length': -16384})), 'power of two', id='piece-length-negative'),
    pytest.param(bencode.encode(_meta({b'piece length': 20000})), 'power of two', id='piece-length-20000'),
    pytest.param(bencode.encode(_meta({b'piece length': b'16384'})), 'power of two', id='piece-length-text'),
    pytest.param(bencode.encode(_meta({b'files': [{b'length': 1, b'path': [b'x']}]})), 'not both',
                 id='length-and-files'),
    pytest.param(bencode.encode(_meta({b'length': None})), 'not neither', id='no-length-no-files'),
    pytest.param(bencode.encode(_meta(_files([b'..', b'etc', b'passwd']))), '".."', id='path-dotdot'),
    pytest.param(bencode.encode(_meta(_files([b'', b'etc', b'passwd']))), 'empty', id='path-absolute'),
    pytest.param(bencode.encode(_meta(_files([b'a/../../b']))), 'holds "/"', id='path-slash-inside'),
    pytest.param(bencode.encode(_meta(_files([b'/etc/passwd']))), 'holds "/"', id='path-absolute-component'),
    pytest.param(bencode.encode(_meta(_files([b'.']))), '"."', id='path-dot'),
    pytest.param(bencode.encode(_meta(_files([]))), 'non-empty list', id='path-empty-list'),
    pytest.param(bencode.encode(_meta(_files(b'a/b'))), 'non-empty list', id='path-is-text'),
    pytest.param(bencode.encode(_meta(_files([b'a\0b']))), 'NUL', id='path-nul'),
    pytest.param(bencode.encode(_meta(_files([b'a'], [b'a']))), 'appears twice', id='path-twice'),
    pytest.param(bencode.encode(_meta(_files([b'a'], length=-5))), 'whole number from 0', id='file-length-negative'),
    pytest.param(bencode.encode(_meta({b'length': None, b'files': []})), 'non-empty list', id='files-empty'),
    pytest.param(bencode.encode(_meta({b'length': None, b'files': [b'x']})), 'not a dictionary', id='file-not-dict'),
    pytest.param(bencode.encode(_meta()).replace(b'i40000e', b'i99999999999999999999999e'),
                 'more than 19 digits', id='huge-integer'),
    pytest.param(bencode.encode(_meta()).replace(b'i40000e', b'i9223372036854775808e'),
                 'does not fit in 64 bits', id='integer-2**63'),
    pytest.param(bencode.encode(_meta()).replace(b'i40000e', b'i' + b'9' * 5000 + b'e'),
                 'more than 19 digits', id='integer-5000-digits'),
    pytest.param(bencode.encode(_meta(_files([b'a'], [b'b'], length=1 << 62))), 'more bytes than rTorrent can count',
                 id='files-sum-over-int64'),
    pytest.param(b'd4:info' + b'l' * 100_000 + b'e' * 100_000 + b'e', 'nested more than 64 deep',
                 id='100000-nested-lists'),
    pytest.param(b'd1:x' + b'ld1:xl' * 40 + b'i1e' + b'ee' * 80 + b'e', 'nested more than 64 deep',
                 id='nested-dicts-and-lists'),
    pytest.param(b'd4:info' + b'l' * 100_000, 'nested more than 64 deep', id='unclosed-nesting'),
    pytest.param(b'd4:info9999999999999:xe', 'within 12 digits', id='string-length-huge'),
    pytest.param(b'd4:info9999999999:xe', 'claims 9999999999 bytes', id='string-length-past-end'),
    pytest.param(bencode.encode(_meta({b'pieces': None, b'meta version': 2, b'file tree': {}})),
                 'v2-only', id='bittorrent-v2-only'),
    pytest.param(bencode.encode(_meta({b'private': 2})), '"private" must be 0 or 1', id='private-2'),
    pytest.param(bencode.encode(_meta(top={b'announce-list': b'http://x'})), 'announce-list', id='announce-list-text'),
    pytest.param(bencode.encode(_meta(top={b'announce': 5})), 'tracker URL must be a text', id='announce-int'),
    pytest.param(b'x' * (metafile.MAX_SIZE + 1), 'rTorrent takes at most 2,097,152 bytes', id='over-max-size'),
]


@pytest.mark.parametrize('data, words', BROKEN)
def test_broken_metafiles_are_refused_in_words(data, words):
    with pytest.raises(MetafileError) as caught:
        metafile.parse(data, 'bad.torrent')
    assert words in str(caught.value)
    assert str(caught.value).startswith('bad.torrent: ')
    assert caught.value.source == 'bad.torrent' and caught.value.reason in str(caught.value)


def test_max_size_is_what_one_scgi_request_can_carry():
    """MAX_SIZE bytes as base64 inside a load.raw_start call, with an option of a few kB,
    stay within 2,097,152 bytes; ENVELOPE bytes more than the base64 of MAX_SIZE + 1 do not."""
    from model.clients.rtorrent import multicall_body
    assert metafile.max_size(2_097_152) == metafile.MAX_SIZE
    options = ['d.directory.set="%s"' % ('/data/' + 'x' * 3000), 'd.custom1.set="label"', 'd.priority.set=2']
    body = multicall_body([('load.raw_start', ['', xmlrpc.Binary(b'\xff' * metafile.MAX_SIZE)] + options)])
    assert len(body) <= metafile.SCGI_BODY_LIMIT
    just_over = len(xmlrpc.dumps('x', [xmlrpc.Binary(b'\xff' * (metafile.MAX_SIZE + 1))]))
    assert just_over + metafile.ENVELOPE > metafile.SCGI_BODY_LIMIT


# ---------------------------------------------------------------- the decoder never breaks

def _bencodable():
    leaves = st.one_of(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), st.binary(max_size=30))
    return st.recursive(leaves, lambda kids: st.one_of(
        st.lists(kids, max_size=5), st.dictionaries(st.binary(max_size=8), kids, max_size=5)), max_leaves=30)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_decoder_and_parser_raise_only_their_own_errors_on_any_bytes(data):
    for function, error in ((bencode.decode, bencode.BencodeError), (metafile.parse, MetafileError)):
        try:
            function(data)
        except error:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bencodable(), st.data())
def test_decoder_round_trips_and_survives_any_mutation_of_valid_bencoding(value, draw):
    data = bencode.encode(value)
    assert bencode.decode(data) == value
    cut = draw.draw(st.integers(min_value=0, max_value=len(data)))
    insert = draw.draw(st.binary(max_size=4))
    mutated = data[:cut] + insert + data[cut + draw.draw(st.integers(0, 3)):]
    try:
        bencode.decode(mutated)
    except bencode.BencodeError:
        pass
    try:
        metafile.parse(bencode.encode({b'info': value}) if draw.draw(st.booleans()) else mutated)
    except MetafileError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_parser_refuses_or_accepts_every_mutation_of_a_real_torrent(draw):
    data = bencode.encode(_meta(_files([b'a', b'b'], [b'c'], length=20000)))
    cut = draw.draw(st.integers(min_value=0, max_value=len(data)))
    mutated = data[:cut] + draw.draw(st.binary(max_size=6)) + data[cut + draw.draw(st.integers(0, 6)):]
    try:
        m = metafile.parse(mutated)
    except MetafileError:
        return
    assert all('/' not in part and part not in ('', '.', '..')
               for path, _ in m.files for part in path.split('/'))


# ---------------------------------------------------------------- magnet links

HEX = '0123456789ABCDEF0123456789ABCDEF01234567'


def test_magnet_with_hex_hash_name_and_trackers():
    m = metafile.parse_magnet('magnet:?xt=urn:btih:%s&dn=Some+Name+%%C3%%BC&tr=http%%3A%%2F%%2Ft.example%%2Fa%%3Fk%%3D1'
                              '&tr=udp://u.example:80&tr=udp://u.example:80' % HEX.lower(), 'pasted')
    assert (m.info_hash, m.name, m.trackers, m.source, m.size) == (
        HEX, 'Some Name ü', ('http://t.example/a?k=1', 'udp://u.example:80'), 'pasted', None)
    again = metafile.parse_magnet(m.uri)
    assert (again.info_hash, again.name, again.trackers) == (m.info_hash, m.name, m.trackers)


def test_magnet_with_base32_hash_becomes_uppercase_hex():
    b32 = base64.b32encode(bytes.fromhex(HEX)).decode()
    assert metafile.parse_magnet('magnet:?xt=urn:btih:' + b32.lower()).info_hash == HEX
    assert metafile.parse_magnet(' magnet:?xt=urn:btih:%s \n' % b32).info_hash == HEX


@pytest.mark.parametrize('link, words', [
    ('http://example.com/x.torrent', 'not a magnet link'),
    ('magnet:?dn=name', 'no "xt=urn:btih:"'),
    ('magnet:?xt=urn:btih:' + HEX[:-1], 'neither 40 hexadecimal'),
    ('magnet:?xt=urn:btih:' + HEX + 'G', 'neither 40 hexadecimal'),
    ('magnet:?xt=urn:btih:' + 'Z' * 40, 'neither 40 hexadecimal'),
    ('magnet:?xt=urn:btih:' + '1' * 32, 'neither 40 hexadecimal'),   # '1' is no base32 digit
    ('magnet:?xt=urn:btmh:1220' + 'ab' * 32, 'v2-only'),
    ('magnet:?xt=urn:sha1:' + HEX, 'no "xt=urn:btih:"'),
    ('magnet:?xt=urn:btih:%s&xt=urn:btih:%s' % (HEX, 'A' * 40), '2 different torrents'),
    ('magnet:?xt=urn:btih:%s&dn=a&dn=b' % HEX, '2 different names'),
    ('magnet:?xt=urn:btih:%s&dn=a%%0Ad.erase%%3D' % HEX, 'control characters'),
    ('magnet:?xt=urn:btih:%s&tr=' % HEX, 'tracker (tr=) is empty'),
    ('magnet:?xt=urn:btih:%s&tr=%%ff' % HEX, 'cannot be read'),
    ('magnet:?xt=urn:btih:%s&dn=%s' % (HEX, 'x' * 20000), 'at most 16,384'),
    ('magnet:?', 'no "xt=urn:btih:"'),
    (b'magnet:?xt=urn:btih:' + HEX.encode(), 'is text'),
])
def test_bad_magnet_links_are_refused_in_words(link, words):
    with pytest.raises(metafile.MagnetError) as caught:
        metafile.parse_magnet(link, 'link 3')
    assert words in str(caught.value) and str(caught.value).startswith('link 3: ')


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_magnet_parser_raises_only_its_own_error(text):
    for candidate in (text, 'magnet:?' + text, 'magnet:?xt=urn:btih:%s&' % HEX + text):
        try:
            m = metafile.parse_magnet(candidate)
        except metafile.MagnetError:
            continue
        assert len(m.info_hash) == 40 and not any(ord(c) < 32 for c in m.uri)


# ---------------------------------------------------------------- direct links (SSRF rules)

class _Server:
    """http.server in a thread on host: /good.torrent, /redirect?<url>, /big, /huge-declared,
    /missing; .requests lists the paths it was asked for."""

    def __init__(self, host, body, family=socket.AF_INET):
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if self.path == '/good.torrent':
                    self._send(200, body, {'Content-Type': 'application/x-bittorrent'})
                elif self.path.startswith('/redirect?'):
                    location = urllib.parse.unquote(self.path[len('/redirect?'):])
                    self._send(302, b'', {'Location': location})
                elif self.path == '/page':
                    self._send(200, b'<!DOCTYPE html>\n<html><title>Log in</title></html>', {})
                elif self.path == '/loop':
                    self._send(302, b'', {'Location': '/loop'})
                elif self.path == '/big':          # no Content-Length: ends when it likes
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(200):       # 12.8 MB unless the client stops reading
                            self.wfile.write(b'x' * 65536)
                    except OSError:
                        pass
                elif self.path == '/huge-declared':
                    self._send(200, b'', {'Content-Length': str(10 ** 9)}, length=False)
                else:
                    self._send(404, b'no such thing', {})

            def _send(self, code, data, headers, length=True):
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                if length:
                    self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.httpd = Server((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        host_part = '[%s]' % host if ':' in host else host
        self.base = 'http://%s:%d' % (host_part, self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope='module')
def servers(made):
    """A server on 127.0.0.1 (allowed by the tests' allow_networks), one on 127.0.0.2 and
    one on [::1] (never allowed): both must never be asked anything."""
    main = _Server('127.0.0.1', made['single'])
    other = _Server('127.0.0.2', made['single'])     # a literal: it names test ids, the same in every xdist worker
    try:
        v6 = _Server('::1', made['single'], socket.AF_INET6)
    except OSError:
        v6 = None
    yield {'main': main, 'other': other, 'v6': v6}
    for s in (main, other, v6):
        if s is not None:
            s.stop()


LAN = fetch.Policy(allow_networks=['127.0.0.1/32'], timeout=10)


def test_a_link_is_fetched_and_parsed_when_private_addresses_are_allowed(servers, made):
    url = servers['main'].base + '/good.torrent'
    m = fetch.fetch_metafile(url, fetch.Policy(allow_private=True))
    assert m.info_hash == bencode.info_hash(made['single']) and m.source == url
    assert fetch.fetch(url, LAN) == made['single']


@pytest.mark.parametrize('where', ['127.0.0.1', 'localhost', '10.0.0.1', '10.255.255.254:8080',
                                   '169.254.169.254', '[::1]', '[::ffff:127.0.0.1]', '[fe80::1]',
                                   '0.0.0.0', '192.168.1.1', '[fc00::1]', '100.64.0.1', '224.0.0.1',
                                   '127.0.0.2'])
def test_links_to_this_machine_or_local_networks_are_refused_by_default(servers, where):
    for server in filter(None, servers.values()):
        server.requests.clear()
    host = where
    if where in ('127.0.0.1', 'localhost'):
        host = '%s:%d' % (where, servers['main'].port)
    elif where == '127.0.0.2':
        host = '127.0.0.2:%d' % servers['other'].port
    elif where == '[::1]' and servers['v6']:
        host = '[::1]:%d' % servers['v6'].port
    url = 'http://%s/good.torrent' % host
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(url)
    text = str(caught.value)
    assert text.startswith(url + ': ') and ' address; links to this machine' in text
    assert 'refused' not in text and caught.value.refused and caught.value.network is not None
    assert all(not s.requests for s in servers.values() if s is not None)


def test_the_refusal_names_the_kind_of_address():
    with pytest.raises(fetch.FetchError, match=r'^http://10\.0\.0\.1/x\.torrent: 10\.0\.0\.1 is a private address;') as caught:
        fetch.fetch('http://10.0.0.1/x.torrent')
    assert str(caught.value.network) == '10.0.0.1'
    with pytest.raises(fetch.FetchError, match='169.254.169.254 is a link-local address'):
        fetch.fetch('http://169.254.169.254/latest/meta-data/')
    with pytest.raises(fetch.FetchError, match='::1 is a loopback address'):
        fetch.fetch('http://[::1]/x.torrent')


@pytest.mark.parametrize('target', ['http://127.0.0.2:{other}/good.torrent', 'http://10.0.0.1/x.torrent',
                                    'http://169.254.169.254/latest', 'http://[::1]:{v6}/good.torrent',
                                    'http://0.0.0.0:{main}/good.torrent', 'ftp://127.0.0.1/x.torrent',
                                    'file:///etc/passwd'])
def test_a_redirect_from_an_allowed_server_to_a_forbidden_place_is_refused(servers, target):
    ports = {k: s.port if s else 1 for k, s in servers.items()}
    target = target.format(**ports)
    for server in filter(None, servers.values()):
        server.requests.clear()
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(servers['main'].base + '/redirect?' + target, LAN)
    assert str(caught.value).startswith(target + ': ')
    assert caught.value.refused and ('not fetched' in str(caught.value) or 'only http and https' in str(caught.value))
    assert len(servers['main'].requests) == 1
    assert not servers['other'].requests and not (servers['v6'] and servers['v6'].requests)


def test_a_redirect_within_the_allowed_network_is_followed(servers, made):
    url = servers['main'].base + '/redirect?/redirect?%s/good.torrent' % servers['main'].base
    assert fetch.fetch(url, LAN) == made['single']


def test_redirects_are_capped(servers):
    with pytest.raises(fetch.FetchError, match='it redirects more than 3 times'):
        fetch.fetch(servers['main'].base + '/loop', fetch.Policy(allow_networks=['127.0.0.1/32'], max_redirects=3))
    assert servers['main'].requests[-4:] == ['/loop'] * 4


def test_the_size_cap_stops_the_download(servers):
    with pytest.raises(fetch.FetchError, match=r': it is more than the 100,000 bytes'):
        fetch.fetch(servers['main'].base + '/big', fetch.Policy(allow_private=True, max_bytes=100_000))
    with pytest.raises(fetch.FetchError, match=r': it is 1,000,000,000 bytes, more than the 1,546,371 bytes'):
        fetch.fetch(servers['main'].base + '/huge-declared', fetch.Policy(allow_private=True))


def test_other_failures_are_told_in_words(servers):
    with pytest.raises(fetch.FetchError, match='the server answered 404 Not Found'):
        fetch.fetch(servers['main'].base + '/missing', LAN)
    with pytest.raises(fetch.FetchError, match=r'cannot connect to 127\.0\.0\.1 \(connection refused\)'):
        fetch.fetch('http://127.0.0.1:%d/x' % rig.free_port(), LAN)
    with pytest.raises(fetch.FetchError, match='only http and https'):
        fetch.fetch('gopher://example.com/x')
    with pytest.raises(fetch.FetchError, match='cannot find the address of no-such-host.invalid'):
        fetch.fetch('http://no-such-host.invalid/x.torrent')
    with pytest.raises(ValueError, match='not a network'):
        fetch.Policy(allow_networks=['my lan'])


def test_a_fetched_page_that_is_not_a_torrent_is_refused_by_the_parser(servers):
    url = servers['main'].base + '/page'
    with pytest.raises(MetafileError, match='^%s: this is a web page, not a .torrent file$' % url):
        fetch.fetch_metafile(url, LAN)


def test_config_py_sets_the_fetch_policy(servers, made):
    from lib import config
    base = {'targets': {'home': {'url': 'scgi://127.0.0.1:5000'}}}
    strict = config.from_dict(base)
    with pytest.raises(fetch.FetchError, match='loopback'):
        fetch.fetch(servers['main'].base + '/good.torrent', fetch.Policy.from_config(strict))
    lan = config.from_dict(dict(base, FETCH_ALLOW_NETWORKS=['127.0.0.1/32']))
    assert fetch.fetch(servers['main'].base + '/good.torrent', fetch.Policy.from_config(lan)) == made['single']
    everything = config.from_dict(dict(base, FETCH_ALLOW_PRIVATE=True))
    assert fetch.Policy.from_config(everything).refused_address('10.1.2.3') is None
    for bad, words in ((dict(FETCH_ALLOW_NETWORKS='10.0.0.0/8'), 'must be a list of networks'),
                       (dict(FETCH_ALLOW_NETWORKS=['my lan']), "'my lan' is not a network"),
                       (dict(FETCH_ALLOW_PRIVATE='yes'), 'FETCH_ALLOW_PRIVATE must be True or False')):
        with pytest.raises(config.ConfigError, match=words):
            config.from_dict(dict(base, **bad))


def test_https_connects_to_the_checked_address_and_checks_the_certificate_for_the_name(made, tmp_path):
    """A certificate for 'localhost' only: fetched by that name (TLS server name and check
    are the name's, though the connection goes to the pinned 127.0.0.1), refused by IP."""
    import ssl
    import subprocess
    cert, key = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
                    '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
                   check=True, capture_output=True)
    server = _Server('127.0.0.1', made['single'])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    try:
        policy = fetch.Policy(allow_networks=['127.0.0.1/32', '::1/128'], ca_bundle=cert)
        url = 'https://localhost:%d/good.torrent' % server.port
        assert fetch.fetch(url, policy) == made['single']
        with pytest.raises(fetch.FetchError, match='TLS certificate cannot be trusted'):
            fetch.fetch('https://127.0.0.1:%d/good.torrent' % server.port, policy)
        with pytest.raises(fetch.FetchError, match='TLS certificate cannot be trusted'):
            fetch.fetch(url, fetch.Policy(allow_networks=['127.0.0.1/32', '::1/128']))   # not the system's CA
    finally:
        server.stop()
