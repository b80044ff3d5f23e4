"""A target that answers nesting 100,000 deep (a Transmission server's JSON, an rTorrent's
XML-RPC <array> or <struct>) is that target's error, named in words on its card, its
list and its API; it is never blamed on the visitor (a 400), and the real rtorrent beside
it answers as usual.  No real daemon answers like that: the hostile ones are fake sockets."""

import pytest

from tests import fakes, rig
from tests.webapp import client, page_text

DEPTH = 100000


def http(body, kind=b'application/json'):
    return (b'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
            % (kind, len(body)) + body)


def scgi(body):
    return b'Status: 200 OK\r\nContent-Type: text/xml\r\n\r\n' + body


def xml(value):
    return b'<?xml version="1.0"?><methodResponse><params><param>%s</param></params></methodResponse>' % value


ARRAYS = xml(b'<value><array><data>' * DEPTH + b'</data></array></value>' * DEPTH)
STRUCTS = xml(b'<value><struct><member><name>a</name>' * DEPTH + b'<value><i4>1</i4></value>'
              + b'</member></struct></value>' * DEPTH)
SLOW = xml(b'<value><array><data>' * DEPTH + b'<value><double>1.5</double></value>'
           + b'</data></array></value>' * DEPTH)        # a double: xmlrpc.client's own path
HOSTILE = {
    'tr_lists': ({'client': 'transmission'}, http(b'[' * DEPTH)),
    'tr_dicts': ({'client': 'transmission'}, http(b'{"a":' * DEPTH + b'1' + b'}' * DEPTH)),
    'rt_arrays': ({}, scgi(ARRAYS)),
    'rt_structs': ({}, scgi(STRUCTS)),
    'rt_slow': ({}, scgi(SLOW)),
}


def answer_after_request(data):
    """serve(): read the whole request first (its body may come after the headers: closing
    before would reset the client's send), then send these bytes."""
    def serve(conn, request):
        conn.settimeout(0.3)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass                      # nothing more within 0.3 s: the request is in
        conn.settimeout(10)
        conn.sendall(data)
    return serve


@pytest.fixture(scope='module')
def targets(make_box):
    daemon = make_box('deep').daemon
    servers = {name: fakes.FakeServer(answer_after_request(body)) for name, (_, body) in HOSTILE.items()}
    try:
        daemon.load_many(rig.synthetic_torrents(3, seed='deep'))
        urls = {'real': daemon.url}
        for name, (settings, _) in HOSTILE.items():
            path = '/transmission/rpc' if settings.get('client') == 'transmission' else ''
            scheme = 'http' if path else 'scgi'
            urls[name] = dict(settings, url='%s://127.0.0.1:%d%s' % (scheme, servers[name].port, path),
                              timeout=5)
        yield urls
    finally:
        for server in servers.values():
            server.close()


def test_a_deep_answer_is_the_targets_error_not_the_visitors(targets):
    web = client(targets)
    front = web.get('/')
    text = page_text(front.get_data(as_text=True))
    assert front.status_code == 200, text[:300]
    assert 'request is nested' not in text
    for name in HOSTILE:
        listing = web.get('/target/%s/' % name)
        said = page_text(listing.get_data(as_text=True))
        assert listing.status_code == 502, (name, listing.status_code, said[:300])
        assert name in said and 'nested' in said and 'too deep' in said, (name, said[:400])
        assert 'request is nested' not in said, said[:400]
        api = web.get('/api/target/%s/torrents' % name)
        assert api.status_code == 502, (name, api.status_code, api.get_data(as_text=True)[:300])
        message = api.json['error']['message']
        assert name in message and 'too deep' in message, message
        assert name in text                      # its card on the front page ...
    assert text.count('too deep') >= len(HOSTILE), text[:2000]   # ... says why, in words
    real = web.get('/target/real/')
    assert real.status_code == 200 and len(web.get('/api/target/real/torrents').json['torrents']) == 3
