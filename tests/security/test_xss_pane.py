"""Stored XSS in the list's detail pane, menu and totals (issue 23): a real rtorrent holds a
multi-file torrent whose name, file names, label and tracker message are markup.  The pane's
fragment and the list with ?open= must hold them escaped (the CSP must not be what saves us),
and headless Chromium, which fetches the fragment and imports it into the page (pane.js),
must run none of them."""
import os
import time

import pytest

from tests import rig, webapp
from tests.browser import DOM_CHECK
from tests.webapp import MARKUP

NAME = '"><svg onload=window.__xss=41> <img src=x onerror=window.__xss=42>'
LABEL = '</script><script>window.__xss=43</script><img src=x onerror=window.__xss=44>'
MESSAGE = "'><img src=x onerror=window.__xss=45>"


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('xss-pane'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    try:
        data = os.path.join(workdir, 'data')
        payload = rig.make_payload(data, NAME, 64 * 1024, files=3)
        torrent = rig.make_torrent(payload, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'x.torrent'))
        info_hash = daemon.load(torrent, directory=data, start=False, label=LABEL)
        daemon.call('d.message.set', info_hash, MESSAGE)
        yield daemon, info_hash, workdir
    finally:
        daemon.stop()


def test_the_pane_and_the_list_hold_the_markup_escaped(hostile):
    daemon, info_hash, _ = hostile
    web = webapp.client({'x': daemon.url})
    for page in ('/target/x/torrent/%s/pane?next=/target/x/' % info_hash, '/target/x/?open=' + info_hash):
        answer = web.get(page)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, (page, html[:300])
        assert 'data-pane="%s"' % info_hash in html
        assert not MARKUP.search(html), (page, MARKUP.search(html).group(0))
    # a `next` that leaves the site is not where the pane's forms return
    html = web.get('/target/x/torrent/%s/pane?next=//evil.example/' % info_hash).get_data(as_text=True)
    assert 'evil.example' not in html


pytest.importorskip('selenium.webdriver')
from selenium.webdriver.common.by import By  # noqa: E402

from tests.browser import open_page  # noqa: E402


@pytest.fixture(scope='module')
def server(hostile, tmp_path_factory):
    daemon, _, _ = hostile
    with webapp.http_server(str(tmp_path_factory.mktemp('xss-pane-http')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'x': {'url': daemon.url}}}) as url:
        yield url


def test_no_payload_runs_when_the_pane_opens_in_a_real_browser(hostile, server, driver):
    _, info_hash, _ = hostile
    driver.set_window_size(1400, 1000)
    open_page(driver, server + '/target/x/')
    driver.find_element(By.CSS_SELECTOR, '#rows tr[data-hash="%s"] td.col-size' % info_hash).click()
    time.sleep(1.5)                 # the pane fetched, and a live refresh merged in
    assert driver.find_elements(By.CSS_SELECTOR, '#pane:not([hidden]) [data-pane="%s"]' % info_hash)
    seen = driver.execute_script(DOM_CHECK)
    assert seen['xss'] is None and seen['injected'] == 0, seen
    assert ' '.join(NAME.split()) in ' '.join(seen['text'].split())
