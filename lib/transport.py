"""Byte transports that carry one XML-RPC request to an rTorrent and bring its answer back.

A target's whole connection is one URL; each scheme is one small class in TRANSPORTS:

    scgi+unix:///home/rtorrent/rtorrentsock/rpc.socket   rtorrent's network.scgi.open_local
    scgi://127.0.0.1:5000                                 rtorrent's network.scgi.open_port
    http://192.168.1.70/RPC2                              a web server's mod_scgi in front of it

`timeout` bounds the whole exchange (connect, send, the complete answer), not each read:
a target that trickles its answer is cut off when the time is up; within a page
(lib.deadline.page) it bounds all the page's round trips to that target together.  An answer larger than
`max_bytes` (config.py's MAX_ANSWER_BYTES) is refused once that much has come, so a
target that floods cannot fill pyroTorrent's memory.
"""
import base64
import http.client
import re
import socket
import urllib.parse

from lib.deadline import Deadline

MAX_ANSWER_BYTES = 64 * 1024 * 1024     # far above a 10,000-torrent list (5.7 MB)
CHUNK = 262144
HEADERS_MAX = 65536      # an SCGI header block is a few lines: none within this, not SCGI


class TransportError(Exception):
    """The request could not be carried: the text says why, in words."""


class TransportTimeout(TransportError):
    """The other side did not answer within the timeout."""


class BadURL(ValueError):
    """A target URL that no transport understands."""


def _size(count):
    """64 MiB, 1.5 MiB, 900 KiB: a byte count as the cap's message shows it."""
    for unit, size in (('MiB', 2 ** 20), ('KiB', 2 ** 10)):
        if count >= size:
            return '%s %s' % (('%.1f' % (count / size)).rstrip('0').rstrip('.'), unit)
    return '%d bytes' % count


class _Deadline(Deadline):
    """A Deadline whose left() raises TransportTimeout once no time remains."""

    def left(self):
        left = self.remaining()
        if left <= 0:
            raise self.timeout()
        return left

    def timeout(self):
        if self.page_bound:         # an earlier round trip of this page used the rest
            return TransportTimeout("no complete answer within %g s, this page's time for it "
                                    '(%d round trips)' % (self.seconds, self.trip_number))
        return TransportTimeout('no complete answer within %g s' % self.seconds)


def _too_large(max_bytes):
    return TransportError('the answer is larger than %s (MAX_ANSWER_BYTES)' % _size(max_bytes))


def _reason(exc):
    """The human part of an OSError ('connection refused'), without errno numbers."""
    if isinstance(exc, socket.timeout):
        return 'no answer in time'
    text = getattr(exc, 'strerror', None) or str(exc) or exc.__class__.__name__
    return text[0].lower() + text[1:]


class SCGITransport:
    """SCGI (netstring headers + body) over a stream socket; rtorrent answers with CGI headers."""

    family = socket.AF_INET

    def __init__(self, url, timeout, max_bytes=MAX_ANSWER_BYTES):
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes

    def address(self):
        raise NotImplementedError

    def request(self, body):
        # CONTENT_LENGTH must be the first header; rtorrent refuses a charset in CONTENT_TYPE.
        headers = b'CONTENT_LENGTH\0%d\0SCGI\x001\0REQUEST_METHOD\0POST\0CONTENT_TYPE\0text/xml\0' % len(body)
        packet = b'%d:%s,%s' % (len(headers), headers, body)
        deadline = _Deadline.for_trip(self, self.timeout)
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.left())
            sock.connect(self.address())
            sock.settimeout(deadline.left())
            sock.sendall(packet)
            chunks, size = [], 0
            while True:
                sock.settimeout(deadline.left())         # each read gets only what is left
                chunk = sock.recv(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise _too_large(self.max_bytes)
                chunks.append(chunk)
        except socket.timeout as exc:
            raise deadline.timeout() from exc
        except OSError as exc:
            raise TransportError(_reason(exc)) from exc
        finally:
            sock.close()
        return self._strip_headers(chunks)

    def _strip_headers(self, chunks):
        """The body after the SCGI header block, joined once (the chunks are let go: a
        10,000-torrent answer is never held twice over and a third time as its body)."""
        if not any(chunks):
            raise TransportError('the connection closed without an answer')
        head = b''
        while chunks and b'\r\n\r\n' not in head and len(head) < HEADERS_MAX:     # the first bytes
            head += chunks.pop(0)
        head, sep, rest = head.partition(b'\r\n\r\n')
        if not sep:
            raise TransportError('the answer is not SCGI (no header block)')
        status = head.split(b'\r\n', 1)[0]
        if status.startswith(b'Status:') and not status[7:].strip().startswith(b'200'):
            raise TransportError('it answered %s' % status[7:].strip().decode('latin-1'))
        chunks.insert(0, rest)
        body = b''.join(chunks)
        chunks.clear()
        return body


class SCGIUnixTransport(SCGITransport):
    family = socket.AF_UNIX

    def __init__(self, url, timeout, max_bytes=MAX_ANSWER_BYTES):
        super().__init__(url, timeout, max_bytes)
        parts = urllib.parse.urlsplit(url)
        if parts.netloc or not parts.path.startswith('/'):
            raise BadURL('a unix socket URL needs an absolute path after three slashes, '
                         'like scgi+unix:///home/rtorrent/rpc.socket')
        self.path = urllib.parse.unquote(parts.path)

    def address(self):
        return self.path

    def request(self, body):
        try:
            return super().request(body)
        except TransportError as exc:
            cause = exc.__cause__
            if isinstance(cause, FileNotFoundError):
                raise TransportError('the socket %s does not exist (is rtorrent running, with '
                                     'network.scgi.open_local set to it?)' % self.path) from cause
            if isinstance(cause, ConnectionRefusedError):
                raise TransportError('connection refused at %s (nothing listens there; rtorrent '
                                     'may have stopped)' % self.path) from cause
            if isinstance(cause, PermissionError):
                raise TransportError('permission denied on %s (the web server user must be able '
                                     'to write to the socket)' % self.path) from cause
            raise


class SCGITCPTransport(SCGITransport):
    def __init__(self, url, timeout, max_bytes=MAX_ANSWER_BYTES):
        super().__init__(url, timeout, max_bytes)
        self.host, self.port = _host_port(url, default_port=None)

    def address(self):
        return (self.host, self.port)


class HTTPTransport:
    """XML-RPC over HTTP, e.g. to a web server's /RPC2 that hands it to rtorrent over SCGI."""

    def __init__(self, url, timeout, max_bytes=MAX_ANSWER_BYTES):
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host, self.port = _host_port(url, default_port=443 if url.startswith('https:') else 80)
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == 'https'
        self.path = parts.path or '/RPC2'
        if parts.query:
            self.path += '?' + parts.query
        self.auth = basic_auth(url) if parts.username else None

    def request(self, body):
        deadline = _Deadline.for_trip(self, self.timeout)
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=deadline.left())
        headers = {'Content-Type': 'text/xml', 'Content-Length': str(len(body))}
        if self.auth:
            headers['Authorization'] = self.auth
        try:
            conn.connect()
            deadline.watch(conn.sock)
            conn.request('POST', self.path, body, headers)
            response = conn.getresponse()
            declared = response.getheader('Content-Length', '')
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _too_large(self.max_bytes)
            chunks, size = [], 0
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise _too_large(self.max_bytes)
                chunks.append(chunk)
            deadline.left()             # a cut connection can look like the end of the answer
            data = b''.join(chunks)
        except (socket.timeout, http.client.HTTPException, OSError) as exc:
            if deadline.cut or isinstance(exc, socket.timeout):
                raise deadline.timeout() from exc
            if isinstance(exc, http.client.HTTPException):
                raise TransportError('the web server did not answer HTTP (%s)' % exc.__class__.__name__) from exc
            raise TransportError(_reason(exc)) from exc
        finally:
            deadline.close()
            conn.close()
        if response.status != 200:
            raise TransportError('the web server answered HTTP %d %s' % (response.status, response.reason))
        return data


def _host_port(url, default_port):
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise BadURL('the port in %r is not a number from 1 to 65535' % redacted(url)) from None
    if not parts.hostname:
        raise BadURL('%r names no host' % redacted(url))
    if port is None:
        if default_port is None:
            raise BadURL('%r names no port (write host:port, as in scgi://127.0.0.1:5000)' % redacted(url))
        port = default_port
    return parts.hostname, port


TRANSPORTS = {
    'scgi+unix': SCGIUnixTransport,
    'scgi': SCGITCPTransport,
    'http': HTTPTransport,
    'https': HTTPTransport,
}


# a query parameter whose name holds one of these carries a secret (token=, api_key=, sig=...)
_SECRET_NAME = re.compile(r'token|secret|passw|pwd|^pass$|auth|sig|key|session|credential', re.I)


def redacted(url):
    """The URL as pages, messages and logs may show it: a password in it and the value of a
    query parameter named like a secret (token, key, secret, password, auth, sig) become ***."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc='%s:***@%s' % (parts.username, parts.netloc.rpartition('@')[2]))
    if parts.query:
        fields = []
        for field in parts.query.split('&'):
            name, sep, _ = field.partition('=')
            fields.append(name + '=***' if sep and _SECRET_NAME.search(urllib.parse.unquote_plus(name)) else field)
        parts = parts._replace(query='&'.join(fields))
    if '://' not in url:
        return urllib.parse.urlunsplit(parts)
    # by hand: urlunsplit writes scgi+unix:///path as scgi+unix:/path, sqlite:////path as sqlite://path
    return '%s://%s%s%s%s' % (url.split('://', 1)[0], parts.netloc, parts.path, '?' + parts.query if parts.query else '',
                              '#' + parts.fragment if parts.fragment else '')


def basic_auth(url):
    """The Authorization header value for the user:password of a URL, or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return None
    token = '%s:%s' % (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ''))
    return 'Basic ' + base64.b64encode(token.encode('utf-8')).decode('ascii')


def transport_for(url, timeout=10.0, max_bytes=MAX_ANSWER_BYTES):
    """The transport for a target URL; BadURL names what is wrong with it.  timeout: seconds
    for the whole exchange; max_bytes: the largest answer taken (MAX_ANSWER_BYTES)."""
    if not isinstance(url, str) or '://' not in url:
        raise BadURL('%r is not a URL; write scgi+unix:///path/rpc.socket, scgi://host:port '
                     'or http://host/RPC2' % (url,))
    scheme = url.split('://', 1)[0].lower()
    if scheme not in TRANSPORTS:
        raise BadURL('unknown scheme %r in %r; known: %s' % (scheme, redacted(url), ', '.join(sorted(TRANSPORTS))))
    return TRANSPORTS[scheme](url, timeout, max_bytes)
