"""XML-RPC encoding, and a fast decoder for the answers rTorrent sends.

Requests are small and go through xmlrpc.client.dumps.  Answers can be megabytes (a
d.multicall2 over 10,000 torrents is about 5.7 MB), and xmlrpc.client walks them one SAX
event at a time in Python.  rTorrent's answers use only <string>, <i8>/<i4>, <array> and
<struct>, so `loads` rewrites those tags into JSON with a few C-speed str.replace passes
and hands the text to the C JSON parser; anything else (base64, double, boolean, a
fault answer, character references) takes xmlrpc.client's path, so results are identical.
tests/bench/bench_list.py measures the gain (about 3x on a 10,000-torrent answer).
"""
import json
import xmlrpc.client

Fault = xmlrpc.client.Fault
Binary = xmlrpc.client.Binary


MAX_DEPTH = 64         # rTorrent nests 4 deep (a multicall of rows); deeper is not an answer


class MalformedAnswer(Exception):
    """The bytes that came back are not an XML-RPC answer."""


TOO_DEEP = 'the answer is nested too deeply to be read (arrays or structs over %d levels deep)' % MAX_DEPTH


def dumps(method, params):
    """One methodCall as bytes."""
    return xmlrpc.client.dumps(tuple(params), method, encoding='utf-8', allow_none=False).encode('utf-8')


_HEAD = b'<methodResponse><params><param>'
_TAIL = b'</param></params></methodResponse>'

# Order matters.  The first passes take the commonest neighbours (the boundaries between
# rtorrent's rows, then strings and i8s side by side) in one go; then the remaining
# separators; then each typed value.
# Only typed values are rewritten, so an untyped <value>text</value> keeps its tags and
# the '<' check below sends it to xmlrpc.client.
_ROW = '</data></array></value><value><array><data><value>'
_REWRITES = tuple((old.encode(), new.encode()) for old, new in (
    ('</string></value>' + _ROW + '<string>', '"],["'),     # d.multicall2's rows, whole
    ('</i8></value>' + _ROW + '<string>', '],["'),
    ('</string></value>' + _ROW + '<i8>', '"],['),
    ('</i8></value>' + _ROW + '<i8>', '],['),
    ('</string></value><value><string>', '","'),
    ('</i8></value><value><i8>', ','),
    ('</string></value><value><i8>', '",'),
    ('</i8></value><value><string>', ',"'),
    ('</value><value>', '</value>,<value>'),
    ('</member><member>', ','),
    ('<value><string>', '"'),
    ('</string></value>', '"'),
    ('<value><string/></value>', '""'),
    ('<value><i8>', ''),
    ('</i8></value>', ''),
    ('<value><i4>', ''),
    ('</i4></value>', ''),
    ('<value><int>', ''),
    ('</int></value>', ''),
    ('<value><array><data>', '['),
    ('</data></array></value>', ']'),
    ('<value><array><data/></array></value>', '[]'),
    ('<value><struct>', '{'),
    ('</struct></value>', '}'),
    ('<member>', ''),
    ('</member>', ''),
    ('<name>', '"'),
    ('</name>', '":'),
))
_ENTITIES = tuple((old.encode(), new.encode()) for old, new in (
    ('&lt;', '<'), ('&gt;', '>'), ('&quot;', '\\"'), ('&apos;', "'"), ('&amp;', '&')))
_decoder = json.JSONDecoder(strict=False)  # strict=False: tabs and newlines inside names are data


def loads(data):
    """The single result of an XML-RPC answer (bytes); raises Fault for a fault answer.

    Identical to xmlrpc.client.loads(data)[0][0] for every answer."""
    try:
        result = _fast(data)
    except RecursionError:      # the C JSON parser stops at Python's recursion limit
        raise MalformedAnswer(TOO_DEEP) from None
    if result is not _SLOW:
        return result
    try:
        params, _ = xmlrpc.client.loads(data, use_builtin_types=True)
    except Fault:
        raise
    except Exception as exc:
        raise MalformedAnswer(_describe(data, exc)) from None
    if len(params) != 1:
        raise MalformedAnswer('the answer holds %d values instead of one' % len(params))
    if not within_depth(params[0], MAX_DEPTH):       # expat is iterative: any depth comes back
        raise MalformedAnswer(TOO_DEEP)
    return params[0]


def within_depth(value, limit):
    """Whether lists and dicts in value nest at most `limit` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, tuple, dict)):
            if depth > limit:
                return False
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return True


_SLOW = object()


def _fast(data):
    # Rewritten as bytes, decoded once at the end: the answer is never held twice over as
    # bytes and text (10,000 torrents: megabytes less at the peak).  Every pattern is ASCII,
    # which UTF-8 never uses inside a multi-byte character, so bytes and text match alike.
    text = data
    # Text content never holds a raw '<'; when it holds no raw '>' either, every '>' ends a
    # tag, and '>' line break '<' is layout between two tags, unless a whole text is one
    # line break.  rtorrent's layout is CRLF.
    if text.count(b'<') != text.count(b'>'):
        return _SLOW
    for newline in (b'\r\n', b'\n'):
        if newline in text:
            if b'>%s</string>' % newline in text or b'>%s</name>' % newline in text:
                return _SLOW
            text = text.replace(b'>%s<' % newline, b'><')
    start = text.find(_HEAD)
    end = text.rfind(_TAIL)
    if start < 0 or end < start:
        return _SLOW
    if not (text[:start].isascii() and text[end:].isascii()):
        return _SLOW            # (the answer is UTF-8 as a whole: the middle is checked below)
    text = text[start + len(_HEAD):end]
    if b'\r' in text:        # XML's end-of-line handling, as expat does it (the tail's CRLF: no pass)
        text = text.replace(b'\r\n', b'\n').replace(b'\r', b'\n')
    if b'\\' in text:
        text = text.replace(b'\\', b'\\\\')
    if b'"' in text:
        text = text.replace(b'"', b'\\"')
    for old, new in _REWRITES:
        text = text.replace(old, new)
    if b'<' in text:          # a type this path does not know (double, base64, untyped string...)
        return _SLOW
    if b'&' in text:
        if b'&#' in text:
            return _SLOW
        for old, new in _ENTITIES:
            text = text.replace(old, new)
    try:
        text = text.decode('utf-8')
    except UnicodeDecodeError:
        return _SLOW
    try:
        return _decoder.decode(text)
    except ValueError:
        return _SLOW


def _describe(data, exc):
    if not data:
        return 'the answer was empty'
    snippet = data[:60].decode('utf-8', 'replace').replace('\n', ' ')
    return 'the answer is not XML-RPC (%s), it begins %r' % (exc.__class__.__name__, snippet)
