"""A thin client of qBittorrent's WebUI API v2 (4.1 and up): one HTTP request a call, logged in
by its SID cookie, a time limit and a size cap on every answer, errors in words.

What its WebUI demands (read in qBittorrent 4.5.2, measured in tests/clients/qbittorrent/):
  - POST auth/login (username, password) answers 200 "Ok." with a SID cookie, 200 "Fails."
    for a wrong name or password, 403 once the address is banned after too many of those;
  - a Referer or Origin that is not its own host:port is refused (401), and so is a Host header
    that is not its own address (403): both are sent as the target URL names it;
  - every other call without a live SID answers 403: log in once more and send it again
    (a session expires after WebUI\\SessionTimeout, or when qBittorrent restarts).
Why not the qbittorrent-api library: it has no cap on an answer's size and no deadline for a
whole exchange, which every client here keeps (lib/deadline.py).
"""
import http.client
import socket
import threading
import urllib.parse

import simplejson

from lib.deadline import Deadline
from lib.transport import BadURL, MAX_ANSWER_BYTES, redacted
from model.clients.errors import BadAnswer, CommandFault, LoginRefused, TimedOut, Unreachable

BLOCK = 256 * 1024
MAX_UPLOAD = 64 * 1024 * 1024        # bytes a batch of .torrent files may take in one request


FOREIGN = ('it refused %s as coming from another site or naming another host (HTTP 401): the URL must name '
           'its WebUI by an address or name it serves (WebUI\\ServerDomains)')


class Call(tuple):
    """One request: (verb, API method, fields, files).  What Transport.request takes (one
    argument, so a test can wrap it to count round trips)."""

    def __new__(cls, verb, method, fields=None, files=()):
        return super().__new__(cls, (verb, method, dict(fields or {}), tuple(files)))


class Problem(Exception):
    def __init__(self, text, status=None, timed_out=False):
        super().__init__(text)
        self.status, self.timed_out = status, timed_out


class Transport:
    """Sends Calls to one qBittorrent WebUI, logged in as the URL's user."""

    def __init__(self, url, timeout, max_answer=MAX_ANSWER_BYTES):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise BadURL('a qBittorrent target needs the http(s) URL of its WebUI, like '
                         'http://USER:PASSWORD@127.0.0.1:8080/, not %r' % redacted(url))
        try:
            self.port = parts.port or (443 if parts.scheme == 'https' else 80)
        except ValueError:
            raise BadURL('the port in %r is not a number from 1 to 65535' % redacted(url)) from None
        if parts.username is None:
            raise BadURL('a qBittorrent target needs its WebUI user and password in the URL, like '
                         'http://USER:PASSWORD@%s/' % parts.netloc)
        self.user = urllib.parse.unquote(parts.username)
        self.password = urllib.parse.unquote(parts.password or '')
        self.host, self.https = parts.hostname, parts.scheme == 'https'
        self.root = parts.path.rstrip('/')                       # a WebUI behind a reverse proxy's prefix
        netloc = parts.netloc.rpartition('@')[2]
        self.origin = '%s://%s' % (parts.scheme, netloc)          # what its CSRF check compares
        self.timeout, self.max_answer = timeout, max_answer
        self.sid = ''
        self.logins = 0               # how often it logged in (a test reads it)
        self._lock = threading.Lock()

    def request(self, call):
        """The answer's bytes for a Call; a 403 (no or expired session) logs in and sends once more."""
        deadline = Deadline.for_trip(self, self.timeout)
        try:
            if not self.sid:
                self._login(deadline)
            sid = self.sid
            status, data = self._send(call, deadline)
            if status == 403:
                with self._lock:
                    if self.sid == sid:     # another thread may have logged in meanwhile
                        self.sid = ''
                if not self.sid:
                    self._login(deadline)
                status, data = self._send(call, deadline)
                if status == 403:
                    raise Problem('it refused the call %s after a fresh login (HTTP 403): is the host name in '
                                  'the URL one its WebUI accepts (WebUI\\HostHeaderValidation, its server domains)?'
                                  % call[1], 403)
            if status == 200:
                return data
            if status == 401:
                raise Problem(FOREIGN % call[1], 401)
            text = data[:200].decode('utf-8', 'replace').strip()
            if status in (400, 404, 409, 415):    # it said no to what was asked, in its words
                raise Problem(text or 'HTTP %d' % status, status)
            raise Problem('it answered HTTP %d to %s%s' % (status, call[1], ': ' + text if text else ''), status)
        finally:
            deadline.close()

    def _login(self, deadline):
        with self._lock:
            status, data, sid = self._post('/api/v2/auth/login', urllib.parse.urlencode(
                {'username': self.user, 'password': self.password}).encode(),
                'application/x-www-form-urlencoded', deadline, '')
            text = data[:300].decode('utf-8', 'replace').strip()
            if status == 403:
                raise Problem('it has banned the address pyroTorrent connects from, after too many failed logins '
                              '(%s): wait for its ban to end (WebUI\\BanDuration) or restart it, with the right '
                              'password in the URL' % (text or 'HTTP 403'), 'banned')
            if status == 401:
                raise Problem(FOREIGN % 'the login', 401)
            if status != 200:
                raise Problem('it answered HTTP %d to the login (is this the URL of its WebUI?)' % status, status)
            if text == 'Fails.' or not sid:
                raise Problem("wrong user name or password for its WebUI (it answered %r); it bans the address "
                              "after a few of these" % text[:40], 'password')
            self.sid, self.logins = sid, self.logins + 1

    def _send(self, call, deadline):
        verb, method, fields, files = call
        path = '/api/v2/' + method
        if files:
            boundary = 'pyrotorrent-' + socket.gethostname().encode().hex()[:8] + '-%x' % id(call)
            body = _multipart(fields, files, boundary)
            kind = 'multipart/form-data; boundary=' + boundary
        elif verb == 'POST':
            body, kind = urllib.parse.urlencode(fields).encode(), 'application/x-www-form-urlencoded'
        else:
            body, kind = None, None
            if fields:
                path += '?' + urllib.parse.urlencode(fields)
        status, data, _ = self._post(path, body, kind, deadline, self.sid, verb)
        return status, data

    def _post(self, path, body, kind, deadline, sid, verb='POST'):
        """(status, bytes, the SID cookie it set or '') of one request, bounded in time and size."""
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=max(0.05, deadline.remaining()))
        headers = {'Referer': self.origin + '/', 'Origin': self.origin}
        if kind:
            headers['Content-Type'] = kind
        if body is not None:
            headers['Content-Length'] = str(len(body))
        if sid:
            headers['Cookie'] = 'SID=' + sid
        try:
            if deadline.passed:
                raise socket.timeout()
            conn.connect()
            deadline.watch(conn.sock)           # shut down at the deadline, whatever trickles
            conn.request(verb, self.root + path, body, headers)
            response = conn.getresponse()
            length = response.getheader('Content-Length')
            if length and length.isdigit() and int(length) > self.max_answer:
                raise Problem('its answer is %s bytes, more than the %s bytes pyroTorrent reads'
                              % ('{:,}'.format(int(length)), '{:,}'.format(self.max_answer)), 'size')
            chunks, size = [], 0
            while True:
                if deadline.passed:
                    raise socket.timeout()
                chunk = response.read1(BLOCK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_answer:
                    raise Problem('its answer is larger than the %s bytes pyroTorrent reads'
                                  % '{:,}'.format(self.max_answer), 'size')
                chunks.append(chunk)
            if deadline.cut:                    # a cut connection can look like the end of the answer
                raise socket.timeout()
            cookie = ''
            for name, value in response.getheaders():
                if name.lower() == 'set-cookie' and value.startswith('SID='):
                    cookie = value[4:].split(';', 1)[0]
            return response.status, b''.join(chunks), cookie
        except socket.timeout:
            raise Problem('no answer within %g s' % self.timeout, timed_out=True) from None
        except (http.client.HTTPException, OSError) as exc:
            if deadline.cut:
                raise Problem('no answer within %g s' % self.timeout, timed_out=True) from None
            if isinstance(exc, http.client.HTTPException):
                raise Problem('it did not answer HTTP (%s)' % exc.__class__.__name__) from None
            text = getattr(exc, 'strerror', None) or str(exc) or exc.__class__.__name__
            raise Problem(text[0].lower() + text[1:]) from None
        finally:
            conn.close()


def _multipart(fields, files, boundary):
    """A multipart/form-data body: the fields, then each (field name, file name, bytes)."""
    out = []
    for name, value in fields.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                    % (boundary, name, value)).encode('utf-8'))
    for name, filename, data in files:
        safe = filename.replace('"', '_').replace('\r', '_').replace('\n', '_') or 'upload.torrent'
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                    'Content-Type: application/x-bittorrent\r\n\r\n' % (boundary, name, safe)).encode('utf-8'))
        out.append(bytes(data) + b'\r\n')
    out.append(('--%s--\r\n' % boundary).encode())
    return b''.join(out)


class Connection:
    """The calls of a qBittorrent backend (self.transport, self.name, self.url)."""

    def _raw(self, verb, method, fields=None, files=()):
        try:
            return self.transport.request(Call(verb, method, fields, files))
        except Problem as exc:
            if exc.timed_out:
                raise TimedOut(self, str(exc)) from None
            if exc.status in ('banned', 'password', 401):
                raise LoginRefused(self, str(exc)) from None
            if exc.status in (400, 404, 409, 415):
                raise CommandFault(self, '%s: %s' % (method, exc)) from None
            if exc.status is not None:
                raise BadAnswer(self, str(exc)) from None
            raise Unreachable(self, str(exc)) from None

    def get(self, method, **fields):
        """A GET's answer as text."""
        return self._raw('GET', method, fields).decode('utf-8', 'replace')

    def post(self, method, files=(), **fields):
        return self._raw('POST', method, fields, files).decode('utf-8', 'replace')

    def json(self, method, **fields):
        """A GET's answer, decoded from JSON."""
        data = self._raw('GET', method, fields)
        try:
            return simplejson.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadAnswer(self, 'the answer to %s is not JSON (%s)' % (method, exc)) from None
        except RecursionError:
            raise BadAnswer(self, 'the answer to %s is nested too deeply to be read' % method) from None
