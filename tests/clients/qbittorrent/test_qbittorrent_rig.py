"""The rig's qbittorrent-nox: configured before its first start as the tests need it, on its own
address, its WebUI guarded as a real one is, stopped with the tests."""
import os

import requests

from tests import rig, rig_qbittorrent


def test_it_starts_configured_on_its_own_address(qbittorrent):
    prefs = qbittorrent.json('app/preferences')
    assert qbittorrent.version.startswith('v4.')
    assert prefs['web_ui_address'] == qbittorrent.bind and prefs['web_ui_port'] == qbittorrent.webui_port
    assert qbittorrent.bind.startswith('127.') and qbittorrent.bind != '127.0.0.1'
    assert (prefs['dht'], prefs['lsd'], prefs['pex'], prefs['upnp']) == (False, False, False, False)
    assert prefs['listen_port'] == qbittorrent.peer_port and prefs['current_interface_address'] == qbittorrent.bind
    assert prefs['save_path'].rstrip('/') == qbittorrent.download_dir
    assert os.path.isfile(qbittorrent.conf_path) and qbittorrent.conf_path.startswith(qbittorrent.profile)


def test_its_webui_wants_the_password_and_checks_host_and_referer(qbittorrent):
    base = qbittorrent.base
    assert requests.get(base + '/api/v2/app/version', timeout=10).status_code == 403      # not logged in
    wrong = requests.post(base + '/api/v2/auth/login', data={'username': qbittorrent.user, 'password': 'nope'},
                          headers={'Referer': base + '/'}, timeout=10)
    assert (wrong.status_code, wrong.text, wrong.cookies.get('SID')) == (200, 'Fails.', None)
    foreign = requests.post(base + '/api/v2/auth/login', timeout=10, headers={'Referer': 'http://evil.example/'},
                            data={'username': qbittorrent.user, 'password': qbittorrent.password})
    assert foreign.status_code == 401
    right = requests.post(base + '/api/v2/auth/login', data={'username': qbittorrent.user,
                                                              'password': qbittorrent.password}, timeout=10)
    assert right.text == 'Ok.' and right.cookies.get('SID')
    spoofed = requests.get(base + '/api/v2/app/version', cookies={'SID': right.cookies['SID']},
                           headers={'Host': 'evil.example'}, timeout=10)
    assert spoofed.status_code == 401         # WebUI\\ServerDomains: only its own address


def test_it_takes_a_real_torrent_and_stops_with_the_rig(tmp_path):
    daemon = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q')).start()
    path = rig.make_payload(str(tmp_path / 'data'), 'payload', 100000)
    body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 'p.torrent'))
    h = daemon.add(body, directory=str(tmp_path / 'data'))
    daemon.wait(lambda: daemon.torrent(h)['progress'] == 1, 20, 'it to check the data')
    pid = daemon.pid
    daemon.stop()
    assert not rig._pid_alive(pid)
    daemon.start()          # on its saved state: the torrent is still there
    assert daemon.torrent(h)['name'] == 'payload'
    daemon.stop()
