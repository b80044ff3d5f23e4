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
    """The swarm's seeding rtorrent (a rig.RTorrentDaemon; its address is .bind): every swarm torrent."""
    return swarm.seeder


@pytest.fixture(scope='session')
def leecher(swarm):
    """The swarm's leeching rtorrent (its address is .bind): the torrents it downloaded in full."""
    return swarm.leecher


@pytest.fixture(scope='module')
def make_box():
    """make_box(name, **daemon_options) -> a started tests.webapp.Box (a real rtorrent of the
    module's own in a fresh rig folder, .web(store=, users=, login_as=, target=, **settings) for
    an app in front of it); every box made is stopped when the module ends."""
    from tests.webapp import Box
    made = []

    def make(name='box', **daemon_options):
        box = Box(rig.make_workdir('pyrotorrent-%s-' % name), **daemon_options)
        made.append(box)
        return box.start()
    yield make
    for box in made:
        box.stop()


@pytest.fixture(scope='module')
def driver():
    """Headless Chromium driven by selenium (chromium + chromium-driver from Debian)."""
    import shutil
    import tempfile
    webdriver = pytest.importorskip('selenium.webdriver')
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    chromium, chromedriver = '/usr/bin/chromium', '/usr/bin/chromedriver'
    if not (os.path.exists(chromium) and os.path.exists(chromedriver)):
        pytest.skip('chromium and chromium-driver are not installed')
    profile = tempfile.mkdtemp(prefix='pyrotorrent-chromium-')
    options = Options()
    options.binary_location = chromium
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--disable-quic', '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--window-size=1280,900',
                '--user-data-dir=' + profile):
        options.add_argument(arg)
    options.set_capability('goog:loggingOptions', {'browser': 'ALL'})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    browser.set_page_load_timeout(15)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope='session')
def postgres():
    """A PostgreSQL 15 cluster of the tests' own (tests/servers.py); .database(name) -> URL."""
    from tests.servers import Postgres
    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.fixture(scope='session')
def redis_server():
    """redis-server on 127.0.0.1 (a free port); .url."""
    from tests.servers import Redis
    server = Redis().start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def memcached_server():
    """memcached on 127.0.0.1 (a free port); .address."""
    from tests.servers import Memcached
    server = Memcached().start()
    yield server
    server.stop()
