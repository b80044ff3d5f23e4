"""Encryption policy proven by its effect between two real rtorrent daemons, set through
pyroTorrent's API: required against disabled never connects; both preferring it
transfers, and the torrent page's peers tab shows the peer encrypted."""
import os

import pytest

from tests import rig, webapp
from tests.webapp import page_text


@pytest.fixture(scope='module')
def pair(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('encryption'))
    seeder = rig.RTorrentDaemon(os.path.join(workdir, 'seeder')).start()
    leecher = rig.RTorrentDaemon(os.path.join(workdir, 'leecher')).start()
    web = webapp.client({'seeder': seeder.url, 'leecher': leecher.url}, STORE=os.path.join(workdir, 'store.sqlite3'))
    yield seeder, leecher, web, workdir, swarm.tracker
    leecher.stop()
    seeder.stop()


def policy(web, target, preset):
    token = webapp.csrf_token(web.get('/target/%s/settings' % target).get_data(as_text=True))
    answer = web.post('/api/target/%s/settings' % target, json={'encryption': preset}, headers={'X-CSRF-Token': token})
    assert answer.status_code == 200 and answer.json['applied']['encryption'] == preset, answer.get_data(as_text=True)


def share(seeder, tracker, workdir, name):
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, name, 2 * 1024 * 1024)
    torrent = rig.make_torrent(path, tracker.announce_url, os.path.join(workdir, name + '.torrent'), piece_size_exp=16)
    info_hash = seeder.seed(torrent, data, tracker)
    return torrent, info_hash


def test_required_against_disabled_never_connects(pair):
    seeder, leecher, web, workdir, tracker = pair
    policy(web, 'seeder', 'required')
    policy(web, 'leecher', 'disabled')
    torrent, info_hash = share(seeder, tracker, workdir, 'required.bin')
    leecher.load(torrent, directory=leecher.download_dir)
    # the leecher got the seeder's address from the tracker ...
    leecher.wait(lambda: leecher.call('t.multicall', info_hash, '', 't.success_counter=')[0][0] >= 1, 30,
                 'the leecher to announce')
    leecher.wait(lambda: leecher.call('t.multicall', info_hash, '', 't.latest_sum_peers=')[0][0] >= 1, 30,
                 'the tracker to give the leecher the seeder')
    with pytest.raises(rig.RigTimeout):
        leecher.wait(lambda: leecher.call('d.peers_connected', info_hash) > 0
                     or leecher.call('d.completed_bytes', info_hash) > 0, 8, 'a connection')
    assert leecher.call('d.completed_bytes', info_hash) == 0


def test_both_preferring_encryption_transfer_encrypted(pair):
    seeder, leecher, web, workdir, tracker = pair
    policy(web, 'seeder', 'preferred')
    policy(web, 'leecher', 'preferred')
    torrent, info_hash = share(seeder, tracker, workdir, 'preferred.bin')
    leecher.call('throttle.global_down.max_rate.set_kb', '', 256)     # slow enough to see the peer
    try:
        leecher.load(torrent, directory=leecher.download_dir)
        leecher.wait(lambda: leecher.call('d.peers_connected', info_hash) > 0
                     and leecher.call('d.completed_bytes', info_hash) > 0, 60, 'the transfer to begin')
        page = web.get('/target/leecher/torrent/%s/' % info_hash).get_data(as_text=True)
        peers = page_text(page[page.index('<section id="peers">'):page.index('<section id="trackers">')])
        assert seeder.bind in peers and 'outgoing, encrypted' in peers
    finally:
        leecher.call('throttle.global_down.max_rate.set_kb', '', 0)
    leecher.wait(lambda: leecher.call('d.complete', info_hash) == 1, 60, 'the download to complete')
