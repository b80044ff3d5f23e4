"""Bencoding, the serialisation of .torrent files (BEP 3).

    encode(obj) -> bytes      int, bytes, str (as UTF-8), list/tuple, dict (bytes or str keys)
    decode(data) -> obj       strings and keys stay bytes; ValueError on malformed input
    info_hash(torrent) -> str the uppercase hex SHA-1 of the info dict, as rtorrent's d.hash says

info_hash hashes the info dict's bytes exactly as they appear in the file, so a torrent
whose encoder did not sort its keys still gets the hash every client computes.
"""
import hashlib

__all__ = ['encode', 'decode', 'info_hash']


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

    ValueError, naming the offset, when data is not exactly one well-formed value."""
    data = _as_bytes(data)
    value, end = _decode_at(data, 0)
    if end != len(data):
        raise ValueError('bencode: %d bytes of trailing data after the value (at offset %d)'
                         % (len(data) - end, end))
    return value


def info_hash(torrent):
    """Uppercase 40-hex SHA-1 of the bencoded info dict of a .torrent file's bytes."""
    data = _as_bytes(torrent)
    if data[:1] != b'd':
        raise ValueError('bencode: a torrent file must be a dictionary')
    pos = 1
    span = None
    while data[pos:pos + 1] != b'e':
        if pos >= len(data):
            raise ValueError('bencode: the torrent dictionary is not closed')
        key, pos = _decode_string(data, pos)
        start = pos
        _, pos = _decode_at(data, pos)
        if key == b'info':
            span = (start, pos)
    if pos + 1 != len(data):
        raise ValueError('bencode: %d bytes of trailing data after the torrent dictionary'
                         % (len(data) - pos - 1))
    if span is None:
        raise ValueError('bencode: the torrent has no info dictionary')
    if data[span[0]:span[0] + 1] != b'd':
        raise ValueError('bencode: the torrent\'s info is not a dictionary')
    return hashlib.sha1(data[span[0]:span[1]]).hexdigest().upper()


def _as_bytes(data):
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if not isinstance(data, bytes):
        raise TypeError('bencode: decode needs bytes, not %s' % type(data).__name__)
    return data


def _decode_at(data, pos):
    try:
        return _decode(data, pos)
    except RecursionError:
        raise ValueError('bencode: lists or dictionaries nested too deeply') from None


def _decode(data, pos):
    kind = data[pos:pos + 1]
    if not kind:
        raise ValueError('bencode: data ends where a value should start (offset %d)' % pos)
    if kind == b'i':
        end = data.find(b'e', pos + 1)
        if end < 0:
            raise ValueError('bencode: integer at offset %d is not closed by "e"' % pos)
        digits = data[pos + 1:end]
        body = digits[1:] if digits[:1] == b'-' else digits
        if not body.isdigit() or (body[:1] == b'0' and len(body) > 1) or digits == b'-0':
            raise ValueError('bencode: invalid integer %r at offset %d' % (digits, pos))
        return int(digits), end + 1
    if kind == b'l':
        pos += 1
        items = []
        while data[pos:pos + 1] != b'e':
            if pos >= len(data):
                raise ValueError('bencode: list is not closed by "e" (data ends at offset %d)' % pos)
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos + 1
    if kind == b'd':
        pos += 1
        result = {}
        while data[pos:pos + 1] != b'e':
            if pos >= len(data):
                raise ValueError('bencode: dictionary is not closed by "e" (data ends at offset %d)' % pos)
            if not data[pos:pos + 1].isdigit():
                raise ValueError('bencode: dictionary key at offset %d is not a string' % pos)
            key, pos = _decode_string(data, pos)
            if key in result:
                raise ValueError('bencode: dictionary key %r appears twice' % key)
            result[key], pos = _decode(data, pos)
        return result, pos + 1
    if kind.isdigit():
        return _decode_string(data, pos)
    raise ValueError('bencode: unexpected byte %r at offset %d' % (kind, pos))


def _decode_string(data, pos):
    colon = data.find(b':', pos)
    if colon < 0:
        raise ValueError('bencode: string length at offset %d has no ":"' % pos)
    digits = data[pos:colon]
    if not digits.isdigit() or (digits[:1] == b'0' and len(digits) > 1):
        raise ValueError('bencode: invalid string length %r at offset %d' % (digits[:20], pos))
    start = colon + 1
    end = start + int(digits)
    if end > len(data):
        raise ValueError('bencode: string at offset %d claims %d bytes but only %d remain'
                         % (pos, int(digits), len(data) - start))
    return data[start:end], end
