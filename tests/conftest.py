"""Shared pytest fixtures: one real swarm (opentracker + seeder + leecher) per test session.

See tests/rig.py for what it holds; the rig also ends every process it started at exit.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pytest  # noqa: E402

from tests import rig  # noqa: E402


@pytest.fixture(scope='session')
def swarm():
    """A started rig.Swarm: .tracker, .seeder, .leecher, .torrents (name, hash, label, size...)."""
    s = rig.Swarm().start()
    yield s
    s.stop()


@pytest.fixture(scope='session')
def seeder(swarm):
    """The swarm's seeding rtorrent (rig.RTorrentDaemon on 127.0.0.2): every swarm torrent."""
    return swarm.seeder


@pytest.fixture(scope='session')
def leecher(swarm):
    """The swarm's leeching rtorrent (127.0.0.3): the torrents it downloaded in full."""
    return swarm.leecher
