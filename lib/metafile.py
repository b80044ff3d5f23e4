"""What a user hands in to add a torrent, checked before anything reaches a client.

    parse(data, source='') -> Metafile       the bytes of a .torrent file
    parse_magnet(text, source='') -> Magnet  a magnet:?xt=urn:btih:... link
    MetafileError (a ValueError)             why it was refused, in words; MagnetError for links

A .torrent comes from strangers (an upload, a link), so it goes through the strict decoder
of lib/bencode.py and then a check of every field a client relies on: the name and each
file path must be a plain relative path (no "..", no "/", nothing absolute or empty), the
lengths whole numbers from 0, the piece length a power of two, and "pieces" one SHA-1 (20
bytes) for each piece of the total size.  The info-hash is the SHA-1 of the info dict's
bytes exactly as the file has them (dict keys out of order are accepted; see bencode).

MAX_SIZE: rtorrent reads at most SCGI_BODY_LIMIT bytes of one SCGI request and breaks the
connection past it, and a .torrent travels base64-encoded (4 characters for 3 bytes, plus
a newline every 76) inside the XML-RPC call, with the call's own text around it.  A file
larger than MAX_SIZE cannot be carried, and is refused here, before anything is sent.
"""
import base64
import binascii
import dataclasses
import hashlib
import re
import urllib.parse

from lib import bencode

__all__ = ['Metafile', 'Magnet', 'MetafileError', 'MagnetError', 'parse', 'parse_magnet',
           'MAX_SIZE', 'SCGI_BODY_LIMIT', 'max_size']

SCGI_BODY_LIMIT = 2_097_152     # measured: 2,097,152 bytes of body pass, one more breaks the pipe
ENVELOPE = 8192                 # the XML-RPC call around the base64: method, target, options
MAX_MAGNET = 16384              # characters of a magnet link


def max_size(body_limit=SCGI_BODY_LIMIT, envelope=ENVELOPE):
    """The largest .torrent, in bytes, whose base64 (xmlrpc.client's: 76-character lines,
    each with its newline) fits in body_limit with `envelope` bytes left for the call."""
    room = body_limit - envelope
    size = room * 3 * 76 // (4 * 77) + 3
    while _base64_size(size) > room:
        size -= 1
    return size


def _base64_size(size):
    chars = 4 * -(-size // 3)
    return chars + -(-chars // 76)


MAX_SIZE = max_size()           # 1,546,371 bytes


class MetafileError(ValueError):
    """A .torrent (or magnet link) that is refused.  str(): '<source>: <reason>', or the
    reason alone when there is no source; .reason and .source apart."""

    def __init__(self, reason, source=''):
        super().__init__('%s: %s' % (source, reason) if source else reason)
        self.reason, self.source = reason, source


class MagnetError(MetafileError):
    """A magnet link that is refused."""


@dataclasses.dataclass(frozen=True)
class Metafile:
    """A .torrent file that passed every check."""
    name: str
    info_hash: str            # 40 uppercase hex digits, as rtorrent's d.hash
    size: int                 # bytes, all files together
    files: tuple              # ((path, length), ...); path relative, '/'-separated, under name
    trackers: tuple           # announce URLs: announce-list's tiers in order, then announce
    private: bool
    raw: bytes = dataclasses.field(repr=False)   # the file's bytes, exactly as given
    source: str = ''          # where it came from (a file name, a link), for messages

    kind = 'metafile'


@dataclasses.dataclass(frozen=True)
class Magnet:
    """A magnet link that passed every check."""
    info_hash: str            # 40 uppercase hex digits (a base32 hash is converted)
    name: str                 # its dn=, '' if none
    trackers: tuple           # its tr= URLs, in order, without repeats
    uri: str                  # the link rebuilt from the checked parts: what a client is given
    source: str = ''

    kind = 'magnet'
    size = None               # unknown until a client has fetched the metadata


def parse(data, source=''):
    """The Metafile in data (the bytes of a .torrent file); MetafileError if it is refused."""
    def refuse(reason):
        raise MetafileError(reason, source)

    if not isinstance(data, (bytes, bytearray, memoryview)):
        refuse('not a .torrent file (no bytes given)')
    data = bytes(data)
    if len(data) > MAX_SIZE:
        refuse('the .torrent file is %s bytes; rTorrent takes at most %s bytes in one request '
               'over SCGI, which carries a .torrent file of at most %s bytes (base64 inside '
               'XML-RPC makes it a third larger)' % (_n(len(data)), _n(SCGI_BODY_LIMIT), _n(MAX_SIZE)))
    if not data:
        refuse('the file is empty, not a .torrent file')
    if data[:1] != b'd':
        head = data[:200].lstrip().lower()
        if head.startswith((b'<!doctype html', b'<html', b'<?xml', b'<head', b'<body')):
            refuse('this is a web page, not a .torrent file')
        if head.startswith(b'magnet:'):
            refuse('this is a magnet link, not a .torrent file')
        refuse('not a .torrent file (it does not begin with a bencoded dictionary)')
    try:
        top = bencode.decode(data)
        start, end = bencode.info_span(data)
    except bencode.BencodeError as exc:
        refuse('not a valid .torrent file: %s' % str(exc).replace('bencode: ', '', 1))
    info = top.get(b'info')
    if info is None:
        refuse('the .torrent has no "info" dictionary')
    if not isinstance(info, dict):
        refuse('the .torrent\'s "info" is not a dictionary')

    name = _text(info, b'name', 'the torrent\'s name', refuse)
    _component(name, 'the torrent\'s name', refuse)

    piece_length = info.get(b'piece length')
    if not _is_int(piece_length) or piece_length <= 0 or piece_length & (piece_length - 1):
        refuse('"piece length" must be a positive power of two, not %s' % _show(piece_length))
    pieces = info.get(b'pieces')
    if not isinstance(pieces, bytes):
        if b'pieces' not in info and (b'file tree' in info or info.get(b'meta version') == 2):
            refuse('this is a BitTorrent v2-only torrent, which rTorrent cannot load')
        refuse('"pieces" must be a byte string of SHA-1 hashes, not %s' % _show(pieces))
    if len(pieces) % 20:
        refuse('"pieces" is %d bytes long, not a multiple of 20 (one SHA-1 per piece)' % len(pieces))

    has_length, has_files = b'length' in info, b'files' in info
    if has_length == has_files:
        refuse('the info dictionary must have either "length" (one file) or "files" (several), '
               'not %s' % ('both' if has_length else 'neither'))
    if has_length:
        length = info[b'length']
        if not _is_int(length) or length < 0:
            refuse('the file length must be a whole number from 0, not %s' % _show(length))
        files = ((name, length),)
    else:
        files = _files(info[b'files'], refuse)
    size = sum(length for _, length in files)
    if size >= 1 << 63:
        refuse('the files add up to more bytes than rTorrent can count')
    expected = -(-size // piece_length)
    if len(pieces) // 20 != expected:
        refuse('"pieces" holds %d hashes, but %s bytes in pieces of %s make %d pieces'
               % (len(pieces) // 20, _n(size), _n(piece_length), expected))

    private = info.get(b'private', 0)
    if not _is_int(private) or private not in (0, 1):
        refuse('"private" must be 0 or 1, not %s' % _show(private))
    return Metafile(name=name, info_hash=_sha1_hex(data[start:end]), size=size, files=files,
                    trackers=_trackers(top, refuse), private=bool(private), raw=data, source=source)


def _files(entries, refuse):
    if not isinstance(entries, list) or not entries:
        refuse('"files" must be a non-empty list of files, not %s' % _show(entries))
    files, seen = [], set()
    for number, entry in enumerate(entries, 1):
        what = 'file %d' % number
        if not isinstance(entry, dict):
            refuse('%s is not a dictionary' % what)
        length = entry.get(b'length')
        if not _is_int(length) or length < 0:
            refuse('the length of %s must be a whole number from 0, not %s' % (what, _show(length)))
        parts = entry.get(b'path')         # rtorrent 0.9.8 writes the plain path, not path.utf-8
        if not isinstance(parts, list) or not parts:
            refuse('the path of %s must be a non-empty list of names, not %s' % (what, _show(parts)))
        names = []
        for part in parts:
            if not isinstance(part, bytes):
                refuse('the path of %s holds %s, not a name' % (what, _show(part)))
            try:
                text = part.decode('utf-8')
            except UnicodeDecodeError:
                refuse('the path of %s is not UTF-8 text' % what)
            _component(text, 'the path of %s' % what, refuse)
            names.append(text)
        path = '/'.join(names)
        if path in seen:
            refuse('the path %r appears twice' % path)
        seen.add(path)
        files.append((path, length))
    return tuple(files)


def _component(text, what, refuse):
    """One file or folder name: never a way out of the download folder."""
    if text in ('', '.', '..'):
        refuse('%s has a %s part, which is not a file name' % (what, 'an empty' if not text else '"%s"' % text))
    if '/' in text:
        refuse('%s %r holds "/": a name cannot hold a path (nor be an absolute one)' % (what, text[:100]))
    if '\0' in text:
        refuse('%s holds a NUL character' % what)


def _text(info, key, what, refuse):
    # the plain key, as rtorrent 0.9.8 uses it: a name.utf-8 beside it is ignored there too
    value = info.get(key)
    if not isinstance(value, bytes):
        refuse('%s must be a text, not %s' % (what, _show(value)))
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        refuse('%s is not UTF-8 text' % what)


def _trackers(top, refuse):
    urls = []
    tiers = top.get(b'announce-list', [])
    if not isinstance(tiers, list) or not all(isinstance(tier, list) for tier in tiers):
        refuse('"announce-list" must be a list of lists of tracker URLs')
    for url in [url for tier in tiers for url in tier] + ([top[b'announce']] if b'announce' in top else []):
        if not isinstance(url, bytes):
            refuse('a tracker URL must be a text, not %s' % _show(url))
        try:
            text = url.decode('utf-8')
        except UnicodeDecodeError:
            refuse('a tracker URL is not UTF-8 text')
        if text and text not in urls:
            urls.append(text)
    return tuple(urls)


# -- magnet links ----------------------------------------------------------------------

_HEX = re.compile(r'^[0-9A-Fa-f]{40}$')


def is_info_hash(text):
    """True for a v1 info-hash as pyroTorrent takes it in URLs and forms: 40 hex digits."""
    return isinstance(text, str) and bool(_HEX.match(text))

_BASE32 = re.compile(r'^[A-Za-z2-7]{32}$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


def parse_magnet(text, source=''):
    """The Magnet in text, a magnet:?xt=urn:btih:<40 hex or 32 base32>&dn=..&tr=.. link;
    MagnetError otherwise.  Only the parts named here are kept; .uri is rebuilt from them."""
    def refuse(reason):
        raise MagnetError(reason, source)

    if not isinstance(text, str):
        refuse('a magnet link is text')
    text = text.strip()
    if len(text) > MAX_MAGNET:
        refuse('the magnet link is %s characters long; at most %s are accepted'
               % (_n(len(text)), _n(MAX_MAGNET)))
    if not text.lower().startswith('magnet:?'):
        refuse('not a magnet link (it must begin with "magnet:?")')
    if _CONTROL.search(text):
        refuse('the magnet link holds control characters')
    try:
        pairs = urllib.parse.parse_qsl(text[8:], keep_blank_values=True, strict_parsing=True,
                                       errors='strict', max_num_fields=200)
    except (ValueError, UnicodeDecodeError) as exc:
        refuse('the magnet link cannot be read: %s' % exc)
    hashes, names, trackers, other_topics = [], [], [], []
    for key, value in pairs:
        if _CONTROL.search(value):
            refuse('the %s= part of the magnet link holds control characters' % key[:10])
        if key == 'xt':
            if value.lower().startswith('urn:btih:'):
                hashes.append(_magnet_hash(value[9:], refuse))
            else:
                other_topics.append(value)
        elif key == 'dn':
            names.append(value)
        elif key == 'tr' and value not in trackers:
            if not value:
                refuse('a tracker (tr=) is empty')
            trackers.append(value)
    if not hashes:
        if any(t.lower().startswith('urn:btmh:') for t in other_topics):
            refuse('this is a BitTorrent v2-only magnet link (urn:btmh), which rTorrent cannot load')
        refuse('the magnet link has no "xt=urn:btih:" info-hash')
    if len(set(hashes)) > 1:
        refuse('the magnet link names %d different torrents; give one link per torrent' % len(set(hashes)))
    if len(set(names)) > 1:
        refuse('the magnet link has %d different names (dn=)' % len(set(names)))
    info_hash, name = hashes[0], names[0] if names else ''
    query = [('xt', 'urn:btih:' + info_hash)] + ([('dn', name)] if name else []) + [('tr', t) for t in trackers]
    uri = 'magnet:?' + urllib.parse.urlencode(query, quote_via=urllib.parse.quote, safe=':/')
    return Magnet(info_hash=info_hash, name=name, trackers=tuple(trackers), uri=uri, source=source)


def _magnet_hash(value, refuse):
    if _HEX.match(value):
        return value.upper()
    if _BASE32.match(value):
        try:
            return base64.b32decode(value.upper()).hex().upper()
        except (binascii.Error, ValueError):
            pass
    refuse('the info-hash %r is neither 40 hexadecimal digits nor 32 base32 characters' % value[:80])


# -- small helpers ---------------------------------------------------------------------

def _sha1_hex(data):
    return hashlib.sha1(data).hexdigest().upper()


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value):
    """A value as a person reads it in a message: its kind, and short."""
    if value is None:
        return 'nothing'
    if isinstance(value, bytes):
        return 'the text %r' % value[:40].decode('utf-8', 'replace')
    if isinstance(value, int):
        return str(value)
    return 'a %s' % {'list': 'list', 'dict': 'dictionary'}.get(type(value).__name__, type(value).__name__)


def _n(number):
    return '{:,}'.format(number)
