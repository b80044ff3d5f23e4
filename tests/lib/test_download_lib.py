"""lib/download.py with real payload served by a real rtorrent: byte-exact files, Range,
conditional requests, RFC 6266 names, streamed zips (ZIP64 too) and the session metafile."""
import email.utils
import io
import os
import urllib.parse
import zipfile

import pytest
from werkzeug.test import Client, EnvironBuilder

from lib import bencode
from lib.download import (BLOCK, archive_entries, archive_response, file_response, metafile_path,
                          metafile_response, zip_stream)
from lib.config import Target
from lib.paths import PathNotFound, resolve_inside
from model.clients.rtorrent import RTorrent
from tests import rig

NAME = 'Fête 日本 (2025)'
FILES = ['Thème 01.txt', 'CD 2/cover.jpg', 'CD 2/data.bin', 'empty-ish.bin']


@pytest.fixture(scope='module')
def torrent(make_box):
    made = make_box('download')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, NAME, 700 * 1024 + 5, FILES)
    meta = rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'a.torrent'),
                            piece_size_exp=15)
    h = daemon.load(meta, directory=data, start=True)
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 30, 'the check')
    backend = RTorrent(Target('dl', daemon.url))
    detail = backend.torrent_detail(h)[1]
    return detail, meta


def serve(make):
    """A test client for a WSGI app whose response is make(environ)."""
    def app(environ, start_response):
        return make(environ)(environ, start_response)
    return Client(app)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_a_file_downloads_byte_exact_with_its_headers(torrent):
    detail, _ = torrent
    path = resolve_inside(detail.local_directory, 'Thème 01.txt')
    body = read(path)
    client = serve(lambda environ: file_response(environ, path))
    r = client.get('/')
    assert r.status_code == 200 and r.data == body
    assert int(r.headers['Content-Length']) == len(body) == os.path.getsize(path)
    assert r.headers['Content-Type'].startswith('text/plain')
    assert r.headers['Accept-Ranges'] == 'bytes'
    disposition = r.headers['Content-Disposition']
    assert disposition.startswith('attachment;') and 'filename="Theme 01.txt"' in disposition
    star = disposition.split("filename*=UTF-8''")[1].split(';')[0]
    assert urllib.parse.unquote(star) == 'Thème 01.txt'
    assert email.utils.parsedate_to_datetime(r.headers['Last-Modified']).timestamp() == int(os.path.getmtime(path))
    etag = r.headers['ETag']
    assert etag
    assert client.get('/', headers={'If-None-Match': etag}).status_code == 304
    assert client.get('/', headers={'If-Modified-Since': r.headers['Last-Modified']}).status_code == 304


@pytest.mark.parametrize('rel, mimetype', [('CD 2/cover.jpg', 'image/jpeg'), ('CD 2/data.bin', 'application/octet-stream')])
def test_content_type_by_extension(torrent, rel, mimetype):
    path = resolve_inside(torrent[0].local_directory, rel)
    r = serve(lambda environ: file_response(environ, path)).get('/')
    assert r.headers['Content-Type'] == mimetype and r.data == read(path)


def test_ranges_single_suffix_open_and_unsatisfiable(torrent):
    path = resolve_inside(torrent[0].local_directory, 'CD 2/data.bin')
    body = read(path)
    size = len(body)
    client = serve(lambda environ: file_response(environ, path))
    for header, start, end in (('bytes=100-199', 100, 199), ('bytes=-100', size - 100, size - 1),
                               ('bytes=%d-' % (size - 10), size - 10, size - 1),
                               ('bytes=0-%d' % (size * 5), 0, size - 1), ('bytes=0-0', 0, 0)):
        r = client.get('/', headers={'Range': header})
        assert r.status_code == 206, header
        assert r.data == body[start:end + 1], header
        assert r.headers['Content-Range'] == 'bytes %d-%d/%d' % (start, end, size), header
        assert int(r.headers['Content-Length']) == end - start + 1, header
    for header in ('bytes=%d-' % size, 'bytes=%d-%d' % (size + 5, size + 10)):
        r = client.get('/', headers={'Range': header})
        assert r.status_code == 416, header
        assert r.headers['Content-Range'] == 'bytes */%d' % size
    # several ranges, or a malformed one: the whole file (RFC 7233 lets a server ignore Range)
    for header in ('bytes=0-1,5-6', 'bytes=5-2', 'items=0-1', 'bytes=abc'):
        r = client.get('/', headers={'Range': header})
        assert (r.status_code, r.data) == (200, body), header
    # a stale If-Range: the whole file
    r = client.get('/', headers={'Range': 'bytes=0-9', 'If-Range': '"not-the-etag"'})
    assert (r.status_code, r.data) == (200, body)


def test_a_file_is_streamed_in_blocks(torrent):
    path = resolve_inside(torrent[0].local_directory, 'CD 2/data.bin')
    response = file_response(_environ(), path)
    chunks = list(response.iter_encoded())
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 64 * 1024
    assert b''.join(chunks) == read(path)
    response.close()


def _environ(**headers):
    return EnvironBuilder(headers=headers).get_environ()


def test_the_whole_torrent_as_a_zip_unpacks_to_the_same_bytes(torrent):
    detail, _ = torrent
    entries = archive_entries(detail.local_directory, [f.path for f in detail.files], prefix=detail.torrent.name)
    assert len(entries) == len(FILES)
    r = serve(lambda environ: archive_response(entries, detail.torrent.name)).get('/')
    assert r.status_code == 200 and r.headers['Content-Type'] == 'application/zip'
    assert 'Content-Length' not in r.headers                 # streamed: size known only at the end
    star = r.headers['Content-Disposition'].split("filename*=UTF-8''")[1]
    assert urllib.parse.unquote(star) == NAME + '.zip'
    with zipfile.ZipFile(io.BytesIO(r.data)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted('%s/%s' % (NAME, f) for f in FILES)
        for f in FILES:
            assert archive.read('%s/%s' % (NAME, f)) == read(os.path.join(detail.local_directory, f))


def test_a_folder_as_a_zip_and_the_stream_stays_small(torrent):
    detail, _ = torrent
    folder = next(f for f in detail.tree.folders if f.name == 'CD 2')
    base = resolve_inside(detail.local_directory, folder.path, folder=True)
    entries = archive_entries(base, [f.path[len(folder.path) + 1:] for f in folder.all_files()])
    chunks = list(zip_stream(entries))
    assert max(len(c) for c in chunks) <= BLOCK + 1024      # one block at a time, never the whole
    with zipfile.ZipFile(io.BytesIO(b''.join(chunks))) as archive:
        assert sorted(archive.namelist()) == ['cover.jpg', 'data.bin']
        for name in archive.namelist():
            assert archive.read(name) == read(os.path.join(base, name))


def test_archive_entries_leave_out_what_escapes_or_is_missing(torrent, tmp_path):
    detail, _ = torrent
    entries = archive_entries(detail.local_directory, ['../../rt/rtorrent.rc', '/etc/passwd', 'nope.bin',
                                                       'CD 2/data.bin'])
    assert [entry[0] for entry in entries] == ['CD 2/data.bin']


def test_zip64_when_a_member_is_past_the_limit(tmp_path, monkeypatch):
    # 4 GiB of real data would take the shared CPUs a minute: lower zipfile's limit instead
    monkeypatch.setattr(zipfile, 'ZIP64_LIMIT', 4096)
    big = tmp_path / 'big.bin'
    big.write_bytes(os.urandom(50_000))
    small = tmp_path / 'small.bin'
    small.write_bytes(b'tiny')
    data = b''.join(zip_stream([('big.bin', str(big)), ('small.bin', str(small))], block=8192))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo('big.bin')
        assert info.extra[:2] == b'\x01\x00'                # the ZIP64 extra field
        assert archive.read('big.bin') == big.read_bytes() and archive.read('small.bin') == b'tiny'


def test_the_metafile_comes_from_the_session_folder(torrent):
    detail, meta = torrent
    session = os.path.dirname(detail.local_metafile)
    path = metafile_path(session, detail.torrent.hash.lower())
    assert path == detail.local_metafile
    r = serve(lambda environ: metafile_response(environ, path, detail.torrent.name)).get('/')
    assert r.status_code == 200 and r.headers['Content-Type'] == 'application/x-bittorrent'
    assert bencode.info_hash(r.data) == detail.torrent.hash
    assert bencode.decode(r.data)[b'info'] == bencode.decode(meta)[b'info']
    star = r.headers['Content-Disposition'].split("filename*=UTF-8''")[1]
    assert urllib.parse.unquote(star) == NAME + '.torrent'
    for bad in ('0' * 40, '../' + '0' * 37, 'x', None):
        with pytest.raises(PathNotFound):
            metafile_path(session, bad)
    with pytest.raises(PathNotFound):
        metafile_path(None, detail.torrent.hash)
