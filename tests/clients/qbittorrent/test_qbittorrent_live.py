"""Live refresh by sync/maindata: the first answer holds every torrent, each later one (asked
with the last rid) only what changed, so a refresh costs qBittorrent about what changed; the
kept state follows changes, additions and removals made behind pyroTorrent's back."""
import html
import re

import pytest

from model.clients.qbittorrent import QBittorrent
from model.clients.types import ListQuery
from tests import rig, webapp
from tests.webapp import RoundTrips, Rows

KNOWN = re.compile(r'data-live-known="([^"]*)"')


@pytest.fixture(scope='module')
def torrents(qbittorrent):
    hashes = [qbittorrent.add(t, paused=True) for t in rig.synthetic_torrents(40, start=5000)]
    qbittorrent.wait(lambda: all(t['state'] == 'pausedDL' for t in qbittorrent.torrents(hashes)), 20, 'them paused')
    yield hashes
    qbittorrent.post('torrents/delete', hashes='|'.join(h.lower() for h in hashes), deleteFiles='false')


class Sizes:
    """The bytes of each answer a backend's transport brings back."""

    def __init__(self, backend):
        self.sizes, real = [], backend.transport.request

        def request(call):
            data = real(call)
            self.sizes.append((call[1], len(data)))
            return data
        backend.transport.request = request


def test_a_refresh_brings_back_only_what_changed(qbittorrent, torrents):
    backend = QBittorrent(qbittorrent.url, name='q')
    sizes = Sizes(backend)
    first = backend.torrent_list(ListQuery(per_page=100))
    full = dict(sizes.sizes)['sync/maindata']
    assert first.view_sizes['stopped'] >= 40 and full > 40 * 500       # every field of every torrent
    sizes.sizes.clear()
    again = backend.torrent_list(ListQuery(per_page=100))
    quiet = dict(sizes.sizes)['sync/maindata']
    assert quiet < full / 20 and [t.hash for t in again.torrents] == [t.hash for t in first.torrents]
    # behind its back: one torrent started, one renamed, one removed, one added
    qbittorrent.post('torrents/resume', hashes=torrents[0].lower())
    qbittorrent.post('torrents/rename', hash=torrents[1].lower(), name='renamed behind its back')
    qbittorrent.post('torrents/delete', hashes=torrents[2].lower(), deleteFiles='false')
    extra = qbittorrent.add(rig.synthetic_torrents(1, start=5100)[0], paused=True)
    qbittorrent.wait(lambda: qbittorrent.torrent(torrents[0])['state'] != 'pausedDL', 10, 'it to start')
    sizes.sizes.clear()
    header, rows, views, woke = backend.torrent_rows([torrents[0], torrents[1], torrents[2], extra], ['main'])
    changed = dict(sizes.sizes)['sync/maindata']
    assert changed < full / 4 and woke == ()
    assert rows[torrents[0]].state in ('downloading', 'queued') and rows[torrents[1]].name == 'renamed behind its back'
    assert rows[torrents[2]] is None and rows[extra].state == 'stopped'
    assert set(backend._main['torrents']) == {t['hash'].upper() for t in qbittorrent.torrents()}
    qbittorrent.post('torrents/delete', hashes=extra.lower(), deleteFiles='false')
    qbittorrent.post('torrents/pause', hashes=torrents[0].lower())


def test_a_list_page_refresh_is_one_round_trip(qbittorrent, torrents):
    web = webapp.client({'q': {'url': qbittorrent.url, 'client': 'qbittorrent'}}, PAGE_SIZE=10, REFRESH_SECONDS=5)
    page = web.get('/target/q/').get_data(as_text=True)
    trips = RoundTrips(web)
    known = ' '.join(html.unescape(k) for k in KNOWN.findall(page) if k)
    fresh = web.get('/target/q/', headers={'X-Requested-With': 'refresh', 'X-Live-Known': known})
    assert fresh.status_code == 200 and trips.calls == {'q': 1}
    assert [r['hash'] for r in Rows(fresh.get_data(as_text=True)).rows] == [r['hash'] for r in Rows(page).rows]
