"""Hostile torrent data in a real rtorrent is shown as text everywhere, and never runs.

A torrent whose name, file names, label and tracker message carry script and attribute
payloads is loaded into a real rtorrent; every page is rendered in-process (HTML, JSON)
and in headless Chromium, which must never run a payload: each one would set
window.__xss, and an <img src=x> or <svg> element in the DOM means the markup got through.
"""
import json
import os

import pytest

from tests import rig, webapp
from tests.browser import DOM_CHECK, open_page, wait
from tests.webapp import MARKUP, page_text

NAME = '"><img src=x onerror=window.__xss=1>\' <svg onload=window.__xss=2>'
FILES = ['<img src=x onerror=window.__xss=3>.txt', '"onmouseover="window.__xss=4" x=".bin',
         "sub'><svg onload=window.__xss=5>/inner.txt"]
LABEL = '</script><script>window.__xss=6</script><img src=x onerror=window.__xss=7>'
MESSAGE = '"><img src=x onerror=window.__xss=8>'
QUERY = '"><img src=x onerror=window.__xss=9>'


@pytest.fixture(scope='module')
def hostile(make_box):
    made = make_box('xss')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    payload = rig.make_payload(data, NAME, 64 * 1024, files=FILES)
    torrent = rig.make_torrent(payload, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'x.torrent'))
    info_hash = daemon.load(torrent, directory=data, start=False)
    daemon.call('d.custom1.set', info_hash, LABEL)
    daemon.call('d.message.set', info_hash, MESSAGE)
    assert daemon.call('d.name', info_hash) == NAME and daemon.call('d.custom1', info_hash) == LABEL
    assert sorted(daemon.call('f.multicall', info_hash, '', 'f.path=')) == sorted([[f] for f in FILES])
    return daemon, info_hash


def pages(info_hash):
    return ['/', '/target/x/', '/target/x/view/main/', '/target/x/view/stopped/',
            '/target/x/torrent/%s/' % info_hash, '/target/x/erase?hash=%s' % info_hash,
            '/target/x/?q=%s' % QUERY, '/target/x/?label=%s' % QUERY,
            '/target/x/?sort=%s' % QUERY, '/target/x/view/%s/' % QUERY,
            '/target/%s/' % QUERY, '/login?next=%s' % QUERY]


def test_every_page_shows_hostile_data_as_text(hostile):
    daemon, info_hash = hostile
    web = webapp.client({'x': daemon.url})
    for path in pages(info_hash):
        answer = web.get(path)
        html = answer.get_data(as_text=True)
        assert not MARKUP.search(html), (path, MARKUP.search(html).group(0))
        assert answer.headers['Content-Type'].startswith('text/html'), path
    listing = page_text(web.get('/target/x/').get_data(as_text=True))
    for text in (NAME, LABEL, MESSAGE):
        assert ' '.join(text.split()) in listing
    torrent_page = page_text(web.get('/target/x/torrent/%s/' % info_hash).get_data(as_text=True))
    assert ' '.join(NAME.split()) in torrent_page and ' '.join(LABEL.split()) in torrent_page
    for part in ('<img src=x onerror=window.__xss=3>.txt', '"onmouseover="window.__xss=4" x=".bin',
                 "sub'><svg onload=window.__xss=5>/", 'inner.txt'):
        assert part in torrent_page, part                 # the file tree, names as text
    searched = web.get('/target/x/?q=%s' % QUERY).get_data(as_text=True)
    assert 'value="&#34;&gt;&lt;img' in searched          # the search box holds the text, escaped


def test_api_gives_hostile_data_back_exactly(hostile):
    daemon, info_hash = hostile
    web = webapp.client({'x': daemon.url})
    answer = web.get('/api/target/x/torrents')
    assert not MARKUP.search(answer.get_data(as_text=True))
    row = [t for t in json.loads(answer.get_data(as_text=True))['torrents'] if t['hash'] == info_hash][0]
    assert (row['name'], row['label'], row['message']) == (NAME, LABEL, MESSAGE)


webdriver = pytest.importorskip('selenium.webdriver')


@pytest.fixture(scope='module')
def server(hostile, tmp_path_factory):
    daemon, _ = hostile
    with webapp.http_server(str(tmp_path_factory.mktemp('xss-http')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'x': {'url': daemon.url}}}) as url:
        yield url



def test_no_payload_runs_in_a_real_browser(hostile, server, driver):
    _, info_hash = hostile
    for path in pages(info_hash):
        open_page(driver, server + path)
        seen = driver.execute_script(DOM_CHECK)
        assert seen['xss'] is None and seen['injected'] == 0, (path, seen)
    # the list page, after live.js has swapped in fresh rows, still holds only text
    open_page(driver, server + '/target/x/')
    wait(driver, lambda d: d.execute_script("return document.documentElement.getAttribute('data-refreshed')"),
         'live.js to refresh the rows')
    seen = driver.execute_script(DOM_CHECK)
    assert seen['xss'] is None and seen['injected'] == 0, seen
    assert 'onerror=window.__xss=1' in seen['text'] and '<script>window.__xss=6</script>' in seen['text']
