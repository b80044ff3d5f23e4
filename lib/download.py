"""Streaming a torrent's data to a browser: one file with Range, a folder as a zip, the .torrent.

file_response(environ, path, name)
    Werkzeug's send_file(conditional=True) does most of what a download needs, verified
    by tests/test_download_lib.py: streamed in blocks (never read whole), Range (single
    and suffix ranges: 206 + Content-Range; unsatisfiable: 416 with 'bytes */SIZE'),
    Content-Length, Content-Type from the extension
    (application/octet-stream when unknown), Content-Disposition per RFC 6266 (an ASCII
    filename= fallback plus filename*=UTF-8''... for other names), Last-Modified and an
    ETag, with 304 for If-None-Match / If-Modified-Since.  `path` must already be resolved
    (lib.paths.resolve_inside).  Two things are ours: Werkzeug 3.1 answers a request for
    several ranges, or a malformed Range, with 416, where RFC 7233 says to ignore the
    header: such a Range is dropped and the whole file sent (200); and its 416 comes as
    an exception, turned into the response here so a handler just returns it.

archive_response(entries, name) / zip_stream(entries)
    A zip written as it is sent: stored (no compression: media does not shrink and the
    CPU is shared), constant memory (one block at a time), ZIP64 for members of 4 GiB or
    more and for a large archive, no Content-Length (the size is only known at the end).
    entries: [(name inside the archive, local path)], e.g. from archive_entries().

metafile_path(session_dir, info_hash) / metafile_response(environ, path, name)
    rtorrent keeps each torrent's metafile as SESSION/HASH.torrent; session_dir is the
    local path of session.path (through the path map).  Read with open(), no shell.
"""
import os
import time
import unicodedata
import zipfile
from urllib.parse import quote

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from lib.metafile import is_info_hash
from lib.paths import PathNotFound, resolve_inside

BLOCK = 256 * 1024


def file_response(environ, path, name=None, mimetype=None):
    """A Werkzeug Response that streams the file at `path` (conditional, with Range)."""
    value = environ.get('HTTP_RANGE')
    if value is not None:
        ranges = parse_range_header(value)
        if ranges is None or ranges.units != 'bytes' or len(ranges.ranges) != 1:
            environ = dict(environ)
            del environ['HTTP_RANGE']            # RFC 7233 3.1: ignore, send it all
    try:
        return send_file(path, environ, mimetype=mimetype, as_attachment=True,
                         download_name=name or os.path.basename(path), conditional=True, etag=True,
                         max_age=None)
    except RequestedRangeNotSatisfiable as exc:
        return exc.get_response(environ)


def archive_entries(base, relatives, prefix=''):
    """[(archive name, local path)] for files given relative to `base` (as f.path gives
    them), each resolved safely inside base; a file missing on disk is left out.
    `prefix` starts every archive name (e.g. the torrent's name)."""
    entries = []
    for relative in relatives:
        try:
            path = resolve_inside(base, relative)
        except PathNotFound:
            continue
        if os.path.isfile(path):
            entries.append(('%s/%s' % (prefix, relative) if prefix else relative, path))
    return entries


class _Sink:
    """An unseekable file object for ZipFile: collects what it writes until taken."""

    def __init__(self):
        self.chunks = []
        self.offset = 0

    def write(self, data):
        self.chunks.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self):
        return self.offset

    def flush(self):
        pass

    def take(self):
        data, self.chunks = b''.join(self.chunks), []
        return data


def zip_stream(entries, block=BLOCK):
    """The bytes of a zip of `entries` ([(archive name, local path)]), block by block."""
    sink = _Sink()
    with zipfile.ZipFile(sink, 'w', compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for arcname, path in entries:
            with open(path, 'rb') as source:
                st = os.fstat(source.fileno())
                info = zipfile.ZipInfo(arcname, time.localtime(max(st.st_mtime, 315532800))[:6])
                info.file_size = st.st_size
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16
                # an unseekable stream cannot go back to widen a header: say ZIP64 up front
                with archive.open(info, 'w', force_zip64=st.st_size >= zipfile.ZIP64_LIMIT) as member:
                    while True:
                        data = source.read(block)
                        if not data:
                            break
                        member.write(data)
                        yield sink.take()
            yield sink.take()
    yield sink.take()


def archive_response(entries, name):
    """A streamed zip download named `name` (.zip added when missing)."""
    if not name.lower().endswith('.zip'):
        name += '.zip'
    response = Response((chunk for chunk in zip_stream(entries) if chunk),
                        mimetype='application/zip', direct_passthrough=True)
    response.headers.set('Content-Disposition', 'attachment', **disposition_names(name))
    return response


def disposition_names(name):
    """Content-Disposition parameters for `name`, as send_file makes them (RFC 6266): an
    ASCII filename=, plus filename*=UTF-8''... when the name is not ASCII."""
    try:
        name.encode('ascii')
    except UnicodeEncodeError:
        simple = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode('ascii')
        return {'filename': simple or 'download', 'filename*': "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    return {'filename': name}


def metafile_path(session_dir, info_hash):
    """The local path of rtorrent's copy of a torrent's metafile, or PathNotFound."""
    if not session_dir:
        raise PathNotFound("pyroTorrent cannot see this rTorrent's session folder")
    if not is_info_hash(info_hash):
        raise PathNotFound("'%s' is not a torrent hash" % info_hash)
    path = session_metafile(session_dir, info_hash)
    if not os.path.isfile(path):
        raise PathNotFound('rTorrent keeps no metafile for %s in its session folder' % info_hash.upper())
    return path


def session_metafile(session_dir, info_hash):
    """Where rtorrent keeps a torrent's metafile in its session folder: SESSION/HASH.torrent."""
    return session_dir.rstrip('/') + '/' + info_hash.upper() + '.torrent'


def metafile_response(environ, path, name):
    """The .torrent as a download named after the torrent."""
    return file_response(environ, path, name + '.torrent', mimetype='application/x-bittorrent')
