"""A transfer in progress, throttled so it lasts: live rates, peers, ETA and states as a
user watches them, through the pages."""
import os

import pytest

from tests import rig
from tests.webapp import Rows, client

SIZE = 64 * 1024 * 1024
RATE = 256 * 1024           # the leecher's download limit, bytes/s: the file takes minutes


@pytest.fixture(scope='module')
def transfer(swarm, tmp_path_factory):
    """A seeder and a throttled leecher of their own (the shared swarm's lists stay as they
    are), on the swarm's tracker; the leecher is part-way through one 64 MiB file and also
    holds five stopped torrents."""
    workdir = str(tmp_path_factory.mktemp('live'))
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'Live transfer.bin', SIZE)
    torrent = rig.make_torrent(path, swarm.tracker.announce_url, os.path.join(workdir, 'live.torrent'),
                               piece_size_exp=18)
    with rig.seeder_and_leecher(workdir, down_kib=RATE // 1024) as (seeder, leecher):
        info_hash = seeder.seed(torrent, data, swarm.tracker, label='live')
        leecher.load_many(rig.synthetic_torrents(5, seed='live'))    # stopped, nothing done
        leecher.load(torrent, directory=leecher.download_dir, label='live')
        leecher.wait(lambda: leecher.call('d.down.rate', info_hash) > 0
                     and leecher.call('d.completed_bytes', info_hash) > 0, 60,
                     'the leecher to start downloading from the seeder')
        yield seeder, leecher, info_hash


def torrent_of(web, target, info_hash):
    data = web.get('/api/target/%s/torrents' % target).json
    return next(t for t in data['torrents'] if t['hash'] == info_hash), data['header']


def test_rates_peers_and_eta_of_a_running_download(transfer):
    seeder, leecher, info_hash = transfer
    web = client({'seeder': seeder.url, 'leecher': leecher.url})
    down, header = torrent_of(web, 'leecher', info_hash)
    assert down['state'] == 'downloading'
    assert 0 < down['completed'] < SIZE and 0 < down['progress'] < 1
    assert down['down_rate'] > 0 and header['down_rate'] > 0
    assert header['down_limit'] == RATE
    assert down['peers'] >= 1
    assert down['eta'] is not None and down['eta'] > 0
    up, header = torrent_of(web, 'seeder', info_hash)
    assert up['state'] == 'seeding' and up['up_rate'] > 0 and up['peers'] >= 1 and header['up_rate'] > 0

    page = web.get('/target/leecher/').get_data(as_text=True)
    row = next(r for r in Rows(page).rows if r['hash'] == info_hash)
    name, size, done, state, down_rate, up_rate, ratio, peers, label, eta, added = row['cells']
    assert name == 'Live transfer.bin' and state == 'downloading' and label == 'live'
    assert down_rate.endswith('/s') and eta != '–' and done.endswith('%') and done != '100 %'


def test_torrent_page_of_a_running_download_shows_peers_and_a_partial_piece_map(transfer):
    import re
    from tests.webapp import page_text
    seeder, leecher, info_hash = transfer
    web = client({'seeder': seeder.url, 'leecher': leecher.url})
    leecher.wait(lambda: leecher.call('d.peers_connected', info_hash) >= 1, 60, 'the leecher to be connected')
    page = web.get('/target/leecher/torrent/%s/' % info_hash).get_data(as_text=True)
    text = page_text(page)
    peers = page[page.index('<section id="peers">'):page.index('<section id="trackers">')]
    assert seeder.bind + ':' in peers and 'libTorrent' in page_text(peers) and 'outgoing' in peers
    assert re.search(r'<td class="num">100 %</td>', peers)           # the seeder has it all
    fractions = [float(f) for f in re.findall(r'<rect [^>]*fill-opacity="([0-9.]+)"', page)]
    assert fractions and min(fractions) < 1.0 and max(fractions) > 0.0
    assert 'downloading' in text and '1 connected' in text
    # the seeder's page shows the leecher, incoming, and the tracker's figures
    page = web.get('/target/seeder/torrent/%s/' % info_hash).get_data(as_text=True)
    peers = page[page.index('<section id="peers">'):page.index('<section id="trackers">')]
    assert leecher.bind + ':' in peers
    # an incomplete file cannot be downloaded yet, and the page says why
    answer = web.get('/target/leecher/torrent/%s/data/Live transfer.bin' % info_hash)
    assert answer.status_code == 404 and 'is not complete yet' in page_text(answer.get_data(as_text=True))


def test_paused_and_stopped_show_as_such(transfer):
    seeder, leecher, info_hash = transfer
    web = client({'leecher': leecher.url})
    try:
        leecher.call('d.pause', info_hash)
        leecher.wait(lambda: torrent_of(web, 'leecher', info_hash)[0]['state'] == 'paused', 10,
                     'the page to show the torrent paused')
        assert torrent_of(web, 'leecher', info_hash)[0]['eta'] is None
        leecher.call('d.resume', info_hash)
        leecher.call('d.stop', info_hash)
        leecher.wait(lambda: torrent_of(web, 'leecher', info_hash)[0]['state'] == 'stopped', 10,
                     'the page to show the torrent stopped')
        stopped = web.get('/api/target/leecher/torrents', query_string={'view': 'stopped'}).json
        assert stopped['total'] == 6 and info_hash in [t['hash'] for t in stopped['torrents']]
    finally:
        leecher.call('d.start', info_hash)
    leecher.wait(lambda: torrent_of(web, 'leecher', info_hash)[0]['state'] == 'downloading', 20,
                 'the download to go on')
    started = web.get('/api/target/leecher/torrents', query_string={'view': 'started'}).json
    assert [t['hash'] for t in started['torrents']] == [info_hash]


def test_sorting_by_rate_eta_and_done_puts_the_live_torrent_first(transfer):
    seeder, leecher, info_hash = transfer
    web = client({'leecher': leecher.url})
    for sort, order in (('down', 'desc'), ('eta', 'asc'), ('done', 'desc'), ('peers', 'desc')):
        data = web.get('/api/target/leecher/torrents', query_string={'sort': sort, 'order': order}).json
        assert data['total'] == 6
        assert data['torrents'][0]['hash'] == info_hash, sort
        assert data['torrents'][-1]['hash'] != info_hash, sort

