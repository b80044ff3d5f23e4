"""Bencoding, the serialisation of .torrent files (BEP 3).

    encode(obj) -> bytes          int, bytes, str (as UTF-8), list/tuple, dict (bytes or str keys)
    decode(data) -> obj           strings and keys stay bytes; BencodeError on malformed input
    info_span(torrent) -> (a, b)  where the info dict's bytes are: torrent[a:b]
    info_hash(torrent) -> str     the uppercase hex SHA-1 of the info dict, as rtorrent's d.hash says

The decoder is strict, because it reads files strangers upload (lib/metafile.py): exactly
one value and nothing after it, no leading zeros and no "-0", integers that fit in 64 bits
(rtorrent's int64_t), string keys that appear once a dict, at most MAX_DEPTH nested lists
and dicts.  It is iterative, so 100,000 nested "l" cost a refusal, never a RecursionError.
Dict keys out of order are accepted: BEP 3 asks for sorted keys, but some real encoders
do not sort, and every client (rtorrent too) hashes the info dict's bytes as written,
which info_span and info_hash do as well.
"""
import hashlib

__all__ = ['encode', 'decode', 'info_span', 'info_hash', 'BencodeError', 'MAX_DEPTH']

MAX_DEPTH = 64              # a real .torrent nests 4 deep (info, files, a file, its path)
_INT_LIMIT = 1 << 63        # rtorrent keeps integers as int64_t
_MAX_INT_TEXT = 20          # '-' and 19 digits
_MAX_LENGTH_DIGITS = 12     # a string length past 999 GB is no string a file can hold


class BencodeError(ValueError):
    """Not well-formed bencoding; the text says what is wrong and at which offset."""


def encode(obj):
    """The bencoding of obj as bytes; TypeError for a value bencoding cannot carry."""
    out = []
    _encode(obj, out)
    return b''.join(out)


def _encode(obj, out):
    if isinstance(obj, bool):  # bool is an int subclass: True would silently become i1e
        raise TypeError('bencode has no booleans; use 0 or 1')
    if isinstance(obj, int):
        out.append(b'i%de' % obj)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        obj = bytes(obj)
        out.append(b'%d:' % len(obj))
        out.append(obj)
    elif isinstance(obj, str):
        _encode(obj.encode('utf-8'), out)
    elif isinstance(obj, (list, tuple)):
        out.append(b'l')
        for item in obj:
            _encode(item, out)
        out.append(b'e')
    elif isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, str):
                key = key.encode('utf-8')
            elif not isinstance(key, bytes):
                raise TypeError('bencode dict keys must be bytes or str, not %s' % type(key).__name__)
            items.append((key, value))
        items.sort(key=lambda kv: kv[0])
        for (a, _), (b, _) in zip(items, items[1:]):
            if a == b:
                raise TypeError('dict key %r appears twice (once as str, once as bytes)' % a)
        out.append(b'd')
        for key, value in items:
            _encode(key, out)
            _encode(value, out)
        out.append(b'e')
    else:
        raise TypeError('bencode cannot encode %s' % type(obj).__name__)


def decode(data):
    """The value bencoded in data (bytes).  Strings and dict keys stay bytes.

    BencodeError (a ValueError), naming the offset, when data is not exactly one
    well-formed value."""
    data = _as_bytes(data)
    value, end = _decode_at(data, 0)
    if end != len(data):
        raise BencodeError('bencode: %d bytes of trailing data after the value (at offset %d)'
                           % (len(data) - end, end))
    return value


def info_span(torrent):
    """(start, end): torrent[start:end] are the info dict's bytes exactly as written.

    BencodeError unless the whole of torrent is one well-formed dict with an info dict."""
    data = _as_bytes(torrent)
    if data[:1] != b'd':
        raise BencodeError('bencode: a torrent file must be a dictionary')
    span = None
    pos = 1
    while data[pos:pos + 1] != b'e':
        if pos >= len(data):
            raise BencodeError('bencode: the torrent dictionary is not closed')
        if not data[pos:pos + 1].isdigit():
            raise BencodeError('bencode: dictionary key at offset %d is not a string' % pos)
        key, pos = _decode_string(data, pos)
        start = pos
        _, pos = _decode_at(data, pos)
        if key == b'info':
            if span is not None:
                raise BencodeError("bencode: dictionary key b'info' appears twice")
            span = (start, pos)
    if pos + 1 != len(data):
        raise BencodeError('bencode: %d bytes of trailing data after the torrent dictionary'
                           % (len(data) - pos - 1))
    if span is None:
        raise BencodeError('bencode: the torrent has no info dictionary')
    if data[span[0]:span[0] + 1] != b'd':
        raise BencodeError("bencode: the torrent's info is not a dictionary")
    return span


def info_hash(torrent):
    """Uppercase 40-hex SHA-1 of the bencoded info dict of a .torrent file's bytes."""
    data = _as_bytes(torrent)
    start, end = info_span(data)
    return hashlib.sha1(data[start:end]).hexdigest().upper()


def _as_bytes(data):
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if not isinstance(data, bytes):
        raise TypeError('bencode: decode needs bytes, not %s' % type(data).__name__)
    return data


_NO_KEY = object()


def _decode_at(data, pos):
    """(value, end) for the value that starts at pos; iterative, depth-capped."""
    size = len(data)
    stack = []          # open containers: [list] or [dict, pending key or _NO_KEY]
    while True:
        if pos >= size:
            if stack:
                raise BencodeError('bencode: %s is not closed by "e" (data ends at offset %d)'
                                   % ('list' if isinstance(stack[-1][0], list) else 'dictionary', pos))
            raise BencodeError('bencode: data ends where a value should start (offset %d)' % pos)
        kind = data[pos]
        frame = stack[-1] if stack else None
        if frame is not None and len(frame) == 2 and frame[1] is _NO_KEY and kind != 0x65:
            if not 0x30 <= kind <= 0x39:                            # a key: a string
                raise BencodeError('bencode: dictionary key at offset %d is not a string' % pos)
            key, pos = _decode_string(data, pos)
            if key in frame[0]:
                raise BencodeError('bencode: dictionary key %r appears twice' % key[:100])
            frame[1] = key
            continue
        if kind == 0x65:                                            # 'e'
            if frame is None:
                raise BencodeError('bencode: unexpected "e" at offset %d' % pos)
            if len(frame) == 2 and frame[1] is not _NO_KEY:
                raise BencodeError('bencode: dictionary key %r at offset %d has no value'
                                   % (frame[1][:100], pos))
            stack.pop()
            value = frame[0]
            frame = stack[-1] if stack else None
            pos += 1
        elif kind == 0x6c or kind == 0x64:                          # 'l', 'd'
            if len(stack) >= MAX_DEPTH:
                raise BencodeError('bencode: lists or dictionaries nested more than %d deep '
                                   '(at offset %d)' % (MAX_DEPTH, pos))
            stack.append([[]] if kind == 0x6c else [{}, _NO_KEY])
            pos += 1
            continue
        elif kind == 0x69:                                          # 'i'
            value, pos = _decode_int(data, pos)
        elif 0x30 <= kind <= 0x39:
            value, pos = _decode_string(data, pos)
        else:
            raise BencodeError('bencode: unexpected byte %r at offset %d' % (bytes([kind]), pos))
        if frame is None:
            return value, pos
        if len(frame) == 1:
            frame[0].append(value)
        else:
            frame[0][frame[1]] = value
            frame[1] = _NO_KEY


def _decode_int(data, pos):
    end = data.find(b'e', pos + 1, pos + 2 + _MAX_INT_TEXT)
    if end < 0:
        if data.find(b'e', pos + 1) < 0:
            raise BencodeError('bencode: integer at offset %d is not closed by "e"' % pos)
        raise BencodeError('bencode: integer at offset %d has more than 19 digits' % pos)
    digits = data[pos + 1:end]
    body = digits[1:] if digits[:1] == b'-' else digits
    if not body.isdigit() or (body[:1] == b'0' and len(body) > 1) or digits == b'-0':
        raise BencodeError('bencode: invalid integer %r at offset %d' % (digits, pos))
    value = int(digits)
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        raise BencodeError('bencode: integer %d at offset %d does not fit in 64 bits' % (value, pos))
    return value, end + 1


def _decode_string(data, pos):
    colon = data.find(b':', pos, pos + _MAX_LENGTH_DIGITS + 1)
    if colon < 0:
        raise BencodeError('bencode: string length at offset %d has no ":" within %d digits'
                           % (pos, _MAX_LENGTH_DIGITS))
    digits = data[pos:colon]
    if not digits.isdigit() or (digits[:1] == b'0' and len(digits) > 1):
        raise BencodeError('bencode: invalid string length %r at offset %d' % (digits[:20], pos))
    start = colon + 1
    end = start + int(digits)
    if end > len(data):
        raise BencodeError('bencode: string at offset %d claims %d bytes but only %d remain'
                           % (pos, int(digits), len(data) - start))
    return data[start:end], end
