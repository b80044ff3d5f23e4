"""A hostile or broken target: one that trickles its answer a byte at a time, or floods
gigabytes.  TIMEOUT bounds the whole answer, and an answer above MAX_ANSWER_BYTES is
refused in words while memory stays flat.  A real rtorrent can do neither on purpose,
so these are small fake servers on real sockets."""
import json
import subprocess
import sys
import textwrap
import time

import pytest

from lib import config
from lib.transport import TransportTimeout, transport_for
from tests import fakes
from tests.webapp import ROOT, client, page_text

SCGI_HEAD = b'Status: 200 OK\r\nContent-Type: text/xml\r\n\r\n'
HTTP_HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n'
MARGIN = 2.0                 # seconds a deadline may be overrun by a busy machine


def trickle(head):
    """Sends `head` then an endless body, one byte every 0.3 s, for about 10 s."""
    return fakes.trickle(head + b'<' * 20)


def urls(tmp_path, serve, http_head):
    """One hostile server per transport: {scheme: url}."""
    unix = fakes.FakeServer(serve(SCGI_HEAD), unix_path=str(tmp_path / 'rpc.socket'))
    tcp = fakes.FakeServer(serve(SCGI_HEAD))
    web = fakes.FakeServer(serve(http_head))
    servers = [unix, tcp, web]
    return servers, {'scgi+unix': 'scgi+unix://%s' % (tmp_path / 'rpc.socket'),
                     'scgi': 'scgi://127.0.0.1:%d' % tcp.port,
                     'http': 'http://127.0.0.1:%d/RPC2' % web.port}


@pytest.mark.parametrize('scheme', ['scgi+unix', 'scgi', 'http'])
def test_a_trickling_target_is_cut_at_the_deadline(tmp_path, scheme):
    servers, by_scheme = urls(tmp_path, trickle, HTTP_HEAD)
    try:
        transport = transport_for(by_scheme[scheme], 2)
        start = time.monotonic()
        with pytest.raises(TransportTimeout) as caught:
            transport.request(b'<?xml version="1.0"?><methodCall><methodName>system.pid</methodName></methodCall>')
        took = time.monotonic() - start
        assert took < 2 + MARGIN, 'the answer held the request %.1f s under a 2 s timeout' % took
        assert str(caught.value) == 'no complete answer within 2 s'
    finally:
        for server in servers:
            server.close()


def test_trickled_http_headers_are_cut_at_the_deadline():
    """The headers themselves arrive a byte at a time: http.client reads them line by line."""
    server = fakes.FakeServer(fakes.trickle(b'X-Slow: ' + b'a' * 40, every=0.2))
    conn_head = fakes.FakeServer(trickle(b'HTTP/1.1 200 OK\r\n'))
    try:
        for port in (server.port, conn_head.port):
            start = time.monotonic()
            with pytest.raises(TransportTimeout):
                transport_for('http://127.0.0.1:%d/RPC2' % port, 2).request(b'<x/>')
            assert time.monotonic() - start < 2 + MARGIN
    finally:
        server.close()
        conn_head.close()


def test_a_page_of_a_trickling_target_ends_by_its_timeout(tmp_path):
    """Through the app: the list page says the target did not answer in time, on time."""
    servers, by_scheme = urls(tmp_path, trickle, HTTP_HEAD)
    try:
        web = client({'slow': {'url': by_scheme['scgi+unix'], 'timeout': 2}})
        start = time.monotonic()
        response = web.get('/target/slow/')
        took = time.monotonic() - start
        assert response.status_code == 504
        assert took < 2 + MARGIN, 'the page took %.1f s under a 2 s timeout' % took
        assert 'no complete answer within 2 s' in page_text(response.get_data(as_text=True))
    finally:
        for server in servers:
            server.close()


FLOOD = textwrap.dedent('''
    import json, socket, sys, threading, time
    sys.path.insert(0, {root!r})
    from lib.transport import TransportError, transport_for

    HEADS = {{'scgi': b'Status: 200 OK\\r\\nContent-Type: text/xml\\r\\n\\r\\n',
              'http': b'HTTP/1.1 200 OK\\r\\nContent-Type: text/xml\\r\\nConnection: close\\r\\n\\r\\n'}}
    scheme, total, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def peak():
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024

    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(HEADS['http' if scheme == 'http' else 'scgi'])
        block = b'<' * 1048576
        try:
            for _ in range(total // len(block)):
                conn.sendall(block)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    url = ('http://127.0.0.1:%d/RPC2' if scheme == 'http' else 'scgi://127.0.0.1:%d') % listener.getsockname()[1]
    before = peak()
    try:
        answer = transport_for(url, 60, max_bytes=cap).request(b'<x/>')
        error = None
    except TransportError as exc:
        error = str(exc)
    print(json.dumps({{'error': error, 'grew': peak() - before}}))
''')


@pytest.mark.parametrize('scheme', ['scgi', 'http'])
def test_a_flooding_target_is_refused_and_memory_stays_flat(tmp_path, scheme):
    """300 MB from the target, a 4 MiB cap: refused in words, the process's peak memory
    grows by little more than the cap (the old code read all 300 MB)."""
    script = tmp_path / 'flood.py'
    script.write_text(FLOOD.format(root=ROOT))
    out = subprocess.run([sys.executable, str(script), scheme, str(300 * 1024 * 1024), str(4 * 1024 * 1024)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result['error'] == 'the answer is larger than 4 MiB (MAX_ANSWER_BYTES)'
    assert result['grew'] < 40 * 1024 * 1024, 'peak memory grew by %d MB' % (result['grew'] // 2 ** 20)


def test_max_answer_bytes_is_a_setting():
    assert config.Config(targets=()).MAX_ANSWER_BYTES == 64 * 1024 * 1024
    settings = {'targets': {'home': {'url': 'scgi://127.0.0.1:5000'}}}
    assert config.from_dict(dict(settings, MAX_ANSWER_BYTES=128 * 2 ** 20)).MAX_ANSWER_BYTES == 128 * 2 ** 20
    for wrong in (0, 1000, True, '64M', 2 ** 40):
        with pytest.raises(config.ConfigError, match='MAX_ANSWER_BYTES'):
            config.from_dict(dict(settings, MAX_ANSWER_BYTES=wrong))
    assert transport_for('scgi://127.0.0.1:5000', 3).max_bytes == 64 * 1024 * 1024
    assert transport_for('http://127.0.0.1/RPC2', 3, max_bytes=2 ** 20).max_bytes == 2 ** 20


def test_a_real_rtorrent_still_answers_under_the_deadline(seeder):
    """The limits do not get in the way of a real daemon."""
    from lib import xmlrpc
    body = xmlrpc.dumps('system.pid', ())
    answer = transport_for(seeder.url, 3, max_bytes=1024 * 1024).request(body)
    assert b'methodResponse' in answer


@pytest.mark.parametrize('head', [b'HTTP/1.1 200 OK\r\nX-Slow: ' + b'a' * 40,
                                  b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"arguments": '])
def test_a_trickling_transmission_target_is_cut_at_the_deadline(head):
    """A Transmission target (its own JSON-RPC transport) trickling its headers or its body
    a byte at a time: the whole call ends by the target's timeout, in words."""
    from model.clients.errors import TimedOut
    from model.clients.transmission import Transmission
    server = fakes.FakeServer(trickle(head))
    try:
        target = Transmission('http://127.0.0.1:%d/transmission/rpc' % server.port, name='slow', timeout=2)
        start = time.monotonic()
        with pytest.raises(TimedOut) as caught:
            target.call('session-get')
        took = time.monotonic() - start
        assert took < 2 + MARGIN, 'the answer held the call %.1f s under a 2 s timeout' % took
        assert 'within 2 s' in str(caught.value)
    finally:
        server.close()
