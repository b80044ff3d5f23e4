"""A target that is down, answers garbage, is slow or faults: a page that says so in words,
and the app keeps serving."""
import os
import signal
import socket

import pytest

from tests import fakes
from tests.webapp import RoundTrips, Rows, client, page_text


def GarbageServer(path, answer):
    """A unix socket that answers every request with fixed bytes: the one fault (a daemon
    that answers nonsense) a real rtorrent cannot be made to produce."""
    return fakes.FakeServer(fakes.answer(answer), unix_path=path, backlog=8)


FAULT = (b'Status: 200 OK\r\nContent-Type: text/xml\r\n\r\n<?xml version="1.0"?><methodResponse><fault>'
         b'<value><struct><member><name>faultCode</name><value><i4>-506</i4></value></member><member>'
         b'<name>faultString</name><value><string>Method \'system.multicall\' not defined</string></value>'
         b'</member></struct></value></fault></methodResponse>')


def error_text(response):
    assert 'Traceback' not in response.get_data(as_text=True)
    return page_text(response.get_data(as_text=True))


def test_socket_that_does_not_exist(tmp_path):
    path = str(tmp_path / 'missing.socket')
    response = client({'home': 'scgi+unix://' + path}).get('/target/home/')
    assert response.status_code == 502
    text = error_text(response)
    assert "rTorrent 'home' at scgi+unix://%s is not reachable" % path in text
    assert 'the socket %s does not exist' % path in text


def test_socket_nobody_listens_on(tmp_path):
    path = str(tmp_path / 'stale.socket')
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()                       # the file stays, like after rtorrent crashed
    text = error_text(client({'home': 'scgi+unix://' + path}).get('/target/home/'))
    assert 'connection refused at %s' % path in text


def test_tcp_port_nobody_listens_on():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    response = client({'box': 'scgi://127.0.0.1:%d' % port}).get('/api/target/box/torrents')
    assert response.status_code == 502
    error = response.json['error']
    assert error['target'] == 'box' and error['problem'] == 'is not reachable' and 'refused' in error['cause']


@pytest.mark.parametrize('answer, words', [
    (b'HTTP/1.0 200 OK\r\n\r\nthis is not xml at all', ['cannot read', 'not XML-RPC']),
    (b'\x00\x01\x02 binary junk with no header block', ['not SCGI']),
    (b'', ['closed without an answer']),
    (FAULT, ['refused a command', "Method 'system.multicall' not defined", '-506']),
])
def test_socket_that_answers_garbage(tmp_path, answer, words):
    server = GarbageServer(str(tmp_path / 'garbage.socket'), answer)
    try:
        web = client({'odd': 'scgi+unix://' + server.path})
        response = web.get('/target/odd/')
        assert response.status_code == 502
        text = error_text(response)
        assert "rTorrent 'odd'" in text
        for word in words:
            assert word in text
    finally:
        server.close()


def test_slow_target_times_out_and_recovers(swarm):
    """A real rtorrent, frozen with SIGSTOP: the kernel accepts, nobody answers."""
    web = client({'slow': {'url': swarm.leecher.url, 'timeout': 1}})
    assert web.get('/target/slow/').status_code == 200
    os.kill(swarm.leecher.pid, signal.SIGSTOP)
    try:
        response = web.get('/target/slow/')
        assert response.status_code == 504
        text = error_text(response)
        assert "rTorrent 'slow'" in text and 'did not answer in time' in text and 'no complete answer within 1 s' in text
    finally:
        os.kill(swarm.leecher.pid, signal.SIGCONT)
    assert web.get('/target/slow/').status_code == 200      # the same process keeps serving


def test_one_of_two_targets_down(swarm, tmp_path):
    web = client({'good': swarm.seeder.url, 'gone': 'scgi+unix://%s/gone.socket' % tmp_path})
    response = web.get('/')
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # the one that cannot be asked first; the other counts every torrent it has
    assert page.index('id="card-gone"') < page.index('id="card-good"')
    assert 'all <span class="count">%d</span>' % swarm.seeder.call('view.size', '', 'main') in page
    assert "rTorrent 'gone'" in page_text(page) and 'is not reachable' in page_text(page)
    assert web.get('/target/good/').status_code == 200


def test_targets_are_asked_concurrently(swarm):
    """Two frozen daemons: their requests overlap in time instead of queueing."""
    web = client({'a': {'url': swarm.seeder.url, 'timeout': 1}, 'b': {'url': swarm.leecher.url, 'timeout': 1}})
    assert web.get('/').status_code == 200
    trips = RoundTrips(web)
    for pid in (swarm.seeder.pid, swarm.leecher.pid):
        os.kill(pid, signal.SIGSTOP)
    try:
        page = web.get('/').get_data(as_text=True)
    finally:
        for pid in (swarm.seeder.pid, swarm.leecher.pid):
            os.kill(pid, signal.SIGCONT)
    text = page_text(page)
    assert "rTorrent 'a' at %s did not answer in time" % swarm.seeder.url in text
    assert "rTorrent 'b' at %s did not answer in time" % swarm.leecher.url in text
    (a_start, a_end), = trips.intervals['a']
    (b_start, b_end), = trips.intervals['b']
    assert a_start < b_end and b_start < a_end, 'the two targets were asked one after the other'


@pytest.mark.parametrize('packed', ['12:x', '1', '1:2:3', None, 7])
def test_packed_fields_that_do_not_parse_are_a_bad_answer(packed):
    """rtorrent's `cat` of numeric fields must give exactly those numbers."""
    from model.clients.errors import BadAnswer
    from model.clients.rtorrent import RTorrent
    backend = RTorrent('scgi://127.0.0.1:1', name='odd')
    with pytest.raises(BadAnswer) as info:
        backend._unpack([packed], ('size', 'completed'), ['ABC'])
    assert "rTorrent 'odd'" in str(info.value) and 'ABC' in str(info.value)
    assert backend._unpack(['5:6:a:b'], ('size', 'completed', 'message'), ['ABC']) == \
        [{'size': 5, 'completed': 6, 'message': 'a:b'}]


def test_an_unexpected_error_is_a_500_page_without_traceback(swarm, caplog):
    """A bug cannot be caused for real on purpose: a backend method made to raise one."""
    web = client({'home': swarm.seeder.url})
    backend = web.application.pyrotorrent.backends['home']
    backend.torrent_list = lambda query: 1 / 0
    for url in ('/target/home/', '/api/target/home/torrents'):
        response = web.get(url)
        text = response.get_data(as_text=True)
        assert response.status_code == 500 and 'Traceback' not in text and 'ZeroDivisionError' not in text
        assert 'failed to build this page' in text
    assert 'ZeroDivisionError' in caplog.text
    assert web.get('/target/home/torrent/%s/' % swarm.torrents[0]['hash']).status_code == 200
