"""Streaming a torrent's data to a browser: one file with Range, a folder as a zip, the .torrent.

file_response(environ, path, name)
    Werkzeug's send_file(conditional=True) does most of what a download needs, verified
    by tests/lib/test_download_lib.py: streamed in blocks (never read whole), Range (single
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
from lib.paths import PathNotFound, components, inside, resolve_inside

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
                         download_name=_header_safe(name or os.path.basename(path)), conditional=True, etag=True,
                         max_age=None)
    except RequestedRangeNotSatisfiable as exc:
        return exc.get_response(environ)


def torrent_file(base, relative, size, roots):
    """The local path of one file of a torrent, only if the bytes there are the torrent's:
    resolved safely inside `base`, inside one of the folders the target declares (`roots`,
    local paths), and of the size the torrent says.  None for an empty file: it is empty
    whatever lies on disk, and the disk is not touched.  PathNotFound in words otherwise."""
    if size == 0:
        components(relative)
        return None
    path = resolve_inside(base, relative)
    real_roots = [os.path.realpath(root) for root in roots]
    if not any(inside(path, root) for root in real_roots):
        raise PathNotFound("'%s' lies outside the folders this target declares (download_roots, "
                           "add_directories in config.py): pyroTorrent serves data only from those" % relative)
    on_disk = os.lstat(path).st_size
    if on_disk != size:
        raise PathNotFound("'%s' is %s bytes on disk where the torrent says %s bytes: those are not "
                           "this torrent's data" % (relative, '{:,}'.format(on_disk), '{:,}'.format(size)))
    return path


def torrent_file_response(environ, base, relative, size, roots, name):
    """file_response() for a file of a torrent (torrent_file() decides what may be served)."""
    path = torrent_file(base, relative, size, roots)
    if path is None:
        response = Response(b'', mimetype='application/octet-stream')
        response.headers.set('Content-Disposition', 'attachment', **disposition_names(name))
        return response
    return file_response(environ, path, name)


def archive_entries(base, relatives, prefix='', roots=None):
    """[(archive name, local path or None for an empty file, size)] for files given relative
    to `base` (as f.path gives them): each a text, or (text, size) to serve only the
    torrent's bytes (torrent_file(), inside `roots`); a file that cannot be served is left
    out.  `prefix` starts every archive name (e.g. the torrent's name)."""
    entries = []
    for relative in relatives:
        relative, size = (relative, None) if isinstance(relative, str) else relative
        try:
            if size is None:
                path = resolve_inside(base, relative)
            else:
                path = torrent_file(base, relative, size, roots or ())
        except (PathNotFound, OSError):
            continue
        entries.append(('%s/%s' % (prefix, relative) if prefix else relative, path, size))
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
        for arcname, path, *size in entries:
            if path is None:                # an empty file of the torrent: nothing to read
                archive.writestr(zipfile.ZipInfo(arcname, time.localtime()[:6]), b'')
                yield sink.take()
                continue
            with open(path, 'rb', opener=_no_follow) as source:
                st = os.fstat(source.fileno())
                if size and size[0] is not None and st.st_size != size[0]:
                    continue                # changed since it was checked: not the torrent's bytes
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


def _no_follow(path, flags):
    return os.open(path, flags | os.O_NOFOLLOW)


def archive_response(entries, name):
    """A streamed zip download named `name` (.zip added when missing)."""
    if not name.lower().endswith('.zip'):
        name += '.zip'
    response = Response((chunk for chunk in zip_stream(entries) if chunk),
                        mimetype='application/zip', direct_passthrough=True)
    response.headers.set('Content-Disposition', 'attachment', **disposition_names(name))
    return response


def _header_safe(name):
    """The name with control characters (a line break in a file name) as '_': a header
    cannot carry them."""
    return ''.join('_' if ord(c) < 32 or ord(c) == 127 else c for c in name)


def disposition_names(name):
    """Content-Disposition parameters for `name`, as send_file makes them (RFC 6266): an
    ASCII filename=, plus filename*=UTF-8''... when the name is not ASCII."""
    name = _header_safe(name)
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
