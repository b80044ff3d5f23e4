"""Links that trickle: each fetch ends by its deadline whatever the server does (headers
or body), and one request's slow links do not hold another request's quick one.  The
slow server is a small fake on a real socket (no real web server trickles on purpose);
the quick link is a real .torrent, added to a real rtorrent through pyrotorrent.py --http."""
import threading
import time

import pytest
import requests

from lib import fetch, metafile
from tests import fakes, rig
from tests.webapp import csrf_token, http_server

MARGIN = 3.0                 # seconds a deadline may be overrun by a busy machine
TORRENT = rig.synthetic_torrents(1, seed='attack-fetch')[0]


def serve_links(conn, request):
    """/quick.torrent answers a .torrent at once; /slow-headers… trickles its status line
    and headers, /slow-body… its body, a byte every 0.3 s for about 30 s."""
    path = request.split(b' ')[1]
    if path == b'/quick.torrent':
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s'
                     % (len(TORRENT), TORRENT))
        return
    head = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n' % len(TORRENT)
    if path.startswith(b'/slow-headers'):
        fakes.trickle(head + b'X-Filler: ' + b'a' * 100)(conn, request)
    else:
        conn.sendall(head + b'\r\n')
        fakes.trickle(TORRENT[:100])(conn, request)


def LinkServer():
    """127.0.0.1 (.base) serving serve_links."""
    return fakes.FakeServer(serve_links, backlog=32)


@pytest.fixture
def links():
    server = LinkServer()
    yield server
    server.close()


POLICY = fetch.Policy(allow_networks=['127.0.0.0/8'], timeout=3)


@pytest.mark.parametrize('path', ['/slow-headers.torrent', '/slow-body.torrent'])
def test_a_trickling_link_ends_by_its_deadline(links, path):
    start = time.monotonic()
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(links.base + path, POLICY)
    took = time.monotonic() - start
    assert took < 3 + MARGIN, 'the fetch took %.1f s under a 3 s timeout' % took
    assert 'no complete answer within 3 s' in str(caught.value)


def test_fetch_metafiles_fetches_one_batch_side_by_side(links):
    batch = [links.base + '/slow-body.torrent'] * 4 + [links.base + '/quick.torrent', 'magnet:?xt=urn:btih:' + 'a' * 40]
    start = time.monotonic()
    items = fetch.fetch_metafiles(batch, POLICY)
    took = time.monotonic() - start
    assert [type(item) for item in items] == [fetch.FetchError] * 4 + [metafile.Metafile, metafile.Magnet]
    assert took < 3 + MARGIN, 'four slow links side by side took %.1f s' % took


def test_a_batch_of_slow_links_ends_by_the_batch_deadline(links):
    """Sixteen trickling links, four at a time, 3 s each, would hold the request 12 s; the
    batch as a whole ends by its own deadline, and the links it never reached say so."""
    policy = fetch.Policy(allow_networks=['127.0.0.0/8'], timeout=3, batch_timeout=5)
    batch = ['%s/slow-body.torrent?%d' % (links.base, n) for n in range(16)]
    start = time.monotonic()
    items = fetch.fetch_metafiles(batch, policy)
    took = time.monotonic() - start
    assert took < 5 + MARGIN, 'sixteen slow links took %.1f s under a 5 s batch deadline' % took
    assert all(isinstance(item, fetch.FetchError) for item in items)
    unreached = [item for item in items if 'one add may take' in str(item)]
    assert unreached and all(str(item).endswith('add it again') for item in unreached)


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('attack-fetch').daemon


def test_one_users_slow_links_do_not_hold_anothers(links, daemon, tmp_path):
    settings = {'targets': {'box': {'url': daemon.url}}, 'BASE_URL': '/torrent',
                'FETCH_ALLOW_NETWORKS': ['127.0.0.0/8'], 'REFRESH_SECONDS': 0,
                'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}
    with http_server(str(tmp_path), settings) as base:
        def browser():
            session = requests.Session()
            return session, csrf_token(session.get(base + '/target/box/add', timeout=30).text)

        slow_user, quick_user = browser(), browser()
        done = {}

        def add(who, user, lines):
            session, token = user
            start = time.monotonic()
            answer = session.post(base + '/target/box/add', data={'links': '\n'.join(lines), 'csrf_token': token,
                                                                  'start': 'no'}, timeout=120)
            done[who] = (time.monotonic() - start, answer.status_code, answer.text)

        slow = ['%s/slow-%s.torrent?%d' % (links.base, kind, n) for n, kind in enumerate(['headers', 'body'] * 4)]
        first = threading.Thread(target=add, args=('slow', slow_user, slow))
        first.start()
        time.sleep(1)
        add('quick', quick_user, [links.base + '/quick.torrent'])
        first.join(120)
        quick_took, quick_status, _ = done['quick']
        assert quick_status == 200
        assert quick_took < MARGIN + 2, "another user's quick link waited %.1f s" % quick_took
        assert metafile.parse(TORRENT).info_hash.upper() in {h.upper() for h in daemon.call('download_list', '')}
        slow_took, slow_status, slow_page = done['slow']
        # 8 slow links, 4 at a time, 15 s each (the default) at most: two rounds
        assert slow_status == 200 and slow_took < 2 * 15 + MARGIN, 'the slow links took %.1f s' % slow_took
        assert slow_page.count('no complete answer within 15 s') == 8
