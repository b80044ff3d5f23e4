"""The qBittorrent tests' daemon: one real qbittorrent-nox 4.5 (tests/rig_qbittorrent.py) for the
session, on a loopback address of its own, stopped with the tests."""
import pytest

from tests import rig_qbittorrent


@pytest.fixture(scope='session')
def qbittorrent():
    """A started rig_qbittorrent.QBittorrentDaemon: .url (the target URL, credentials in it),
    .get/.post/.json/.torrents (its own API, logged in as the rig), .add(torrent bytes)."""
    daemon = rig_qbittorrent.QBittorrentDaemon().start()
    yield daemon
    daemon.stop()
