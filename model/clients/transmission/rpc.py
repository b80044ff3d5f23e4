"""A thin client of Transmission's JSON-RPC (docs/rpc-spec.md of transmission): one POST a
call, with the 409 session-id handshake, HTTP basic auth, a time limit and a size cap on
every answer, and errors in words that name the target.

Why not the transmission-rpc library (7.0.12): measured at 10,000 torrents it took 2.6x
as long as this client for the list's 16 fields (objects, then a Torrent object each) and
15x (1.6 s) with every field; it cannot ask for the compact `format: "table"` rows, has no
size cap and no overall time limit on answers, and its Client() asks the daemon in its
constructor.  Figures: docs/performance.rst (tests/bench/bench_transmission.py).
"""
import http.client
import socket
import threading
import urllib.parse

import simplejson

from lib.deadline import Deadline
from lib.transport import BadURL, basic_auth, redacted
from model.clients.errors import BadAnswer, CommandFault, LoginRefused, TimedOut, Unreachable

SESSION_HEADER = 'X-Transmission-Session-Id'
MAX_ANSWER = 256 * 1024 * 1024    # bytes: 10,000 torrents' list keys are ~2 MB, all fields ~60 MB
BLOCK = 256 * 1024


class Transport:
    """POSTs one JSON-RPC body to a Transmission RPC URL and returns the answer's bytes.

    request(body) is what a test may wrap to count round trips: a 409 and its retry with
    the new session id happen inside it (once a daemon start, not once a call)."""

    def __init__(self, url, timeout, max_answer=MAX_ANSWER):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise BadURL('a Transmission target needs an http(s) RPC URL, like '
                         'http://127.0.0.1:9091/transmission/rpc, not %r' % redacted(url))
        try:
            self.port = parts.port or (443 if parts.scheme == 'https' else 80)
        except ValueError:
            raise BadURL('the port in %r is not a number from 1 to 65535' % redacted(url)) from None
        self.host, self.https = parts.hostname, parts.scheme == 'https'
        self.path = (parts.path or '/transmission/rpc') + ('?' + parts.query if parts.query else '')
        self.timeout, self.max_answer = timeout, max_answer
        self.auth = basic_auth(url)
        self.session_id = self.last_date = ''
        self._lock = threading.Lock()

    def request(self, body):
        """The answer's bytes; TransportProblem (with the HTTP status when there was one)."""
        deadline = Deadline.for_trip(self, self.timeout)   # the whole call, its 409 retries included; in a page, what is left
        try:
            return self._request(body, deadline)
        finally:
            deadline.close()

    def _request(self, body, deadline):
        for _ in range(3):       # a 409 gives the id to use; a second 409 in a row: restarted meanwhile
            sent_id = self.session_id
            status, headers, data = self._post(body, sent_id, deadline)
            if status == 409:
                new_id = headers.get(SESSION_HEADER.lower(), '')
                if not new_id or new_id == sent_id:
                    raise TransportProblem('it answered HTTP 409 without a new %s to retry with'
                                           % SESSION_HEADER, status)
                with self._lock:
                    self.session_id = new_id
                continue
            if status == 401:
                raise TransportProblem('wrong user name or password (HTTP 401)' if self.auth else
                                       'it wants a user name and password (HTTP 401): put them in '
                                       'the URL, http://USER:PASSWORD@host:9091/transmission/rpc', status)
            if status == 403:
                raise TransportProblem("it refused pyroTorrent's address (HTTP 403): add it to "
                                       "rpc-whitelist in Transmission's settings.json", status)
            if status != 200:
                raise TransportProblem('it answered HTTP %d where JSON-RPC was expected (is %s its '
                                       'RPC URL?)' % (status, self.path), status)
            self.last_date = headers.get('date', '')       # the daemon's clock (instance())
            return data
        raise TransportProblem('it kept answering HTTP 409 with a new session id', 409)

    def _post(self, body, session_id, deadline):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=max(0.05, deadline.remaining()))
        headers = {'Content-Type': 'application/json', 'Content-Length': str(len(body))}
        if session_id:
            headers[SESSION_HEADER] = session_id
        if self.auth:
            headers['Authorization'] = self.auth
        try:
            conn.connect()
            deadline.watch(conn.sock)          # shut down at the deadline, whatever trickles
            conn.request('POST', self.path, body, headers)
            response = conn.getresponse()
            length = response.getheader('Content-Length')
            if length and length.isdigit() and int(length) > self.max_answer:
                raise TransportProblem('its answer is %s bytes, more than the %s pyroTorrent reads'
                                       % ('{:,}'.format(int(length)), '{:,}'.format(self.max_answer)))
            chunks, size = [], 0
            while True:
                if deadline.passed:
                    raise socket.timeout()
                chunk = response.read1(BLOCK) if hasattr(response, 'read1') else response.read(BLOCK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_answer:
                    raise TransportProblem('its answer is larger than the %s bytes pyroTorrent reads'
                                           % '{:,}'.format(self.max_answer))
                chunks.append(chunk)
            if deadline.cut:                   # a cut connection can look like the end of the answer
                raise socket.timeout()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, b''.join(chunks)
        except socket.timeout:
            raise TransportProblem('no answer within %g s' % self.timeout, timed_out=True) from None
        except (http.client.HTTPException, OSError) as exc:
            if deadline.cut:
                raise TransportProblem('no answer within %g s' % self.timeout, timed_out=True) from None
            if isinstance(exc, http.client.HTTPException):
                raise TransportProblem('it did not answer HTTP (%s)' % exc.__class__.__name__) from None
            text = getattr(exc, 'strerror', None) or str(exc) or exc.__class__.__name__
            raise TransportProblem(text[0].lower() + text[1:]) from None
        finally:
            conn.close()


class TransportProblem(Exception):
    def __init__(self, text, status=None, timed_out=False):
        super().__init__(text)
        self.status, self.timed_out = status, timed_out


class Connection:
    """The calls of a Transmission backend (self.transport, self.name, self.url)."""

    def call(self, method, **arguments):
        """One RPC call, one round trip: its answer's arguments (a dict); CommandFault with
        Transmission's own words when its result is not "success"."""
        body = simplejson.dumps({'method': method, 'arguments': arguments}).encode('utf-8')
        try:
            data = self.transport.request(body)
        except TransportProblem as exc:
            if exc.timed_out:
                raise TimedOut(self, str(exc)) from None
            if exc.status in (401, 403):
                raise LoginRefused(self, str(exc)) from None
            if exc.status is not None:
                raise BadAnswer(self, str(exc)) from None
            raise Unreachable(self, str(exc)) from None
        try:
            answer = simplejson.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadAnswer(self, 'the answer to %s is not JSON (%s)' % (method, exc)) from None
        except RecursionError:        # the C parser stops at Python's recursion limit
            raise BadAnswer(self, 'the answer to %s is nested too deeply to be read' % method) from None
        if not isinstance(answer, dict) or not isinstance(answer.get('arguments', {}), dict):
            raise BadAnswer(self, 'the answer to %s is not a JSON-RPC answer' % method)
        if answer.get('result') != 'success':
            raise CommandFault(self, '%s: %s' % (method, answer.get('result')))
        return answer.get('arguments', {})
