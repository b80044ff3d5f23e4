"""qBittorrent among the others: a real transfer from an rtorrent seeder to qBittorrent through a
real opentracker (the torrent page shows the seeder as its peer while it downloads), and the
front page with an rTorrent, a Transmission and a qBittorrent target side by side."""
import os
from io import BytesIO

from tests import rig, rig_qbittorrent, webapp
from tests.webapp import page_text


def test_a_real_transfer_from_an_rtorrent_seeder_shows_its_peer_and_ends_complete(tmp_path):
    tracker = rig.Tracker(str(tmp_path / 'tracker'), host=rig.address()).start()
    seeder = rig.RTorrentDaemon(str(tmp_path / 'rt'), bind=rig.address()).start()
    daemon = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q')).start()
    try:
        path = rig.make_payload(str(tmp_path / 'data'), 'shared album', 4 * 1024 * 1024, files=3)
        body = rig.make_torrent(path, tracker.announce_url, str(tmp_path / 'shared.torrent'), piece_size_exp=16)
        h = seeder.seed(body, str(tmp_path / 'data'), tracker)
        daemon.post('transfer/setDownloadLimit', limit=300 * 1024)        # slow enough to see it moving
        web = webapp.client({'q': {'url': daemon.url, 'client': 'qbittorrent'}})
        token = webapp.csrf_token(web.get('/target/q/add').get_data(as_text=True))
        answer = web.post('/target/q/add', data={'csrf_token': token, 'files': [(BytesIO(body), 'shared.torrent')],
                                                 'label': 'from rtorrent'}, content_type='multipart/form-data')
        assert 'data-status="added"' in answer.get_data(as_text=True)
        daemon.wait(lambda: daemon.torrent(h)['num_seeds'] >= 1 and daemon.torrent(h)['dlspeed'] > 0, 60,
                    'qBittorrent to download from the rtorrent seeder')
        page = page_text(web.get('/target/q/torrent/%s/' % h).get_data(as_text=True))
        assert seeder.bind in page and 'downloading' in page
        listed = web.get('/api/target/q/torrents').get_json()['torrents']
        assert [(t['hash'], t['state'], t['label']) for t in listed] == [(h, 'downloading', 'from rtorrent')]
        assert listed[0]['down_rate'] > 0
        daemon.post('transfer/setDownloadLimit', limit=0)
        daemon.wait(lambda: daemon.torrent(h)['progress'] == 1, 60, 'the download to complete')
        got = os.path.join(daemon.download_dir, 'shared album')
        for name in os.listdir(path):
            with open(os.path.join(path, name), 'rb') as a, open(os.path.join(got, name), 'rb') as b:
                assert a.read() == b.read()
        detail = web.get('/api/target/q/torrent/%s' % h).get_json()['torrent']
        assert detail['torrent']['state'] == 'seeding' and detail['down_total'] >= 4 * 1024 * 1024
    finally:
        daemon.stop()
        seeder.stop()
        tracker.stop()


def test_the_front_page_shows_rtorrent_transmission_and_qbittorrent_side_by_side(qbittorrent, tmp_path):
    rt = rig.RTorrentDaemon(str(tmp_path / 'rt'), bind=rig.address()).start()
    tr = rig.TransmissionDaemon(str(tmp_path / 'tr'), bind=rig.address()).start()
    try:
        rt.load(rig.synthetic_torrents(1, start=3100)[0], start=False)
        tr.add(rig.synthetic_torrents(1, start=3101)[0], paused=True)
        h = qbittorrent.add(rig.synthetic_torrents(1, start=3102)[0], paused=True)
        web = webapp.client({'rt': rt.url, 'tr': {'url': tr.url, 'client': 'transmission'},
                             'q': {'url': qbittorrent.url, 'client': 'qbittorrent'}})
        page = web.get('/').get_data(as_text=True)
        text = page_text(page)
        assert 'rTorrent 0.9' in text and 'Transmission 3.00' in text and 'qBittorrent 4.5' in text
        for name in ('rt', 'tr', 'q'):
            assert 'href="/target/%s/"' % name in page
        qbittorrent.post('torrents/delete', hashes=h.lower(), deleteFiles='false')
    finally:
        tr.stop()
        rt.stop()
