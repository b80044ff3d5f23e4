"""Live pages in a real browser during a real transfer (the list, the torrent page, the front
page, the settings and statistics pages): headless Chromium, pyroTorrent
under `pyrotorrent.py --http` with REFRESH_SECONDS = 1, a seeder and a throttled leecher of
their own on the swarm's tracker, and a spare target
that goes down and comes back.  Figures change without a reload; what the user touched
(focus, ticked boxes, typed text, a chosen option, the scroll position) survives."""
import os
import time

import pytest

from lib.format import FILTERS
from lib.store import Store
from model.clients.rtorrent import RTorrent
from model.stats import Policy, Sampler, time_zone
from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SIZE = 64 * 1024 * 1024
RATE = 256 * 1024           # the leecher's limit: the file takes minutes
WAIT = 30

DONE_JS = """
var row = document.querySelector('#torrents tr[data-hash="%s"]');
return row && [row.querySelector('td.done span').textContent, row.querySelectorAll('td.rate')[0].textContent];
"""


@pytest.fixture(scope='module')
def transfer(swarm, tmp_path_factory):
    """(seeder, leecher, spare, info hash): the leecher part-way through one 64 MiB file, with
    five stopped torrents besides; the spare holds three stopped torrents."""
    workdir = str(tmp_path_factory.mktemp('live-pages'))
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'Live pages.bin', SIZE)
    torrent = rig.make_torrent(path, swarm.tracker.announce_url, os.path.join(workdir, 'live.torrent'),
                               piece_size_exp=18)
    seeder = rig.RTorrentDaemon(os.path.join(workdir, 'seeder'))
    leecher = rig.RTorrentDaemon(os.path.join(workdir, 'leecher'),
                                 extra_rc='throttle.global_down.max_rate.set_kb = %d' % (RATE // 1024))
    spare = rig.RTorrentDaemon(os.path.join(workdir, 'spare'))
    for daemon in (seeder, leecher, spare):
        daemon.start()
    try:
        info_hash = seeder.seed(torrent, data, swarm.tracker, label='live')
        leecher.load_many(rig.synthetic_torrents(5, seed='live-pages'))
        leecher.load(torrent, directory=leecher.download_dir, label='live')
        spare.load_many(rig.synthetic_torrents(3, seed='live-spare'))
        leecher.wait(lambda: leecher.call('d.down.rate', info_hash) > 0
                     and leecher.call('d.completed_bytes', info_hash) > 0, 60,
                     'the leecher to start downloading from the seeder')
        yield seeder, leecher, spare, info_hash
    finally:
        for daemon in (leecher, seeder, spare):
            daemon.stop()


@pytest.fixture(scope='module')
def server(transfer, tmp_path_factory):
    seeder, leecher, spare, _ = transfer
    with webapp.http_server(str(tmp_path_factory.mktemp('live-pages-web')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'seeder': {'url': seeder.url}, 'leecher': {'url': leecher.url},
                        'spare': {'url': spare.url, 'timeout': 3}}}) as url:
        yield url


def wait(driver, condition, what, timeout=WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: condition(d), message='waited %d s for %s' % (timeout, what))


def open_page(driver, url):
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')
    driver.execute_script('window.notReloaded = true;')         # gone if the page reloads


def changes(driver, read, what, times=2):
    """Waits until read() gave `times` values after the first; returns them all."""
    seen = [read()]
    wait(driver, lambda d: read() != seen[-1] and not seen.append(read()) and len(seen) > times, what)
    return seen


def still_the_same_page(driver):
    return driver.execute_script('return window.notReloaded === true')


def test_a_rows_figures_change_while_focus_ticks_typed_text_and_choice_survive(driver, server, transfer):
    seeder, leecher, spare, info_hash = transfer
    stopped = [h for h in leecher.hashes() if h != info_hash]
    for url in (server + '/target/leecher/?sort=down&order=desc',      # the whole list each refresh
                server + '/target/leecher/'):                          # the shown rows' figures only
        open_page(driver, url)
        # the user ticks two boxes, picks an action without applying it yet, types half a
        # name, then leaves the focus on a box of a row (a label chosen in the filter would
        # apply at once: test_filters)
        for h in stopped[:2]:
            driver.find_element(By.CSS_SELECTOR, 'tr[data-hash="%s"] input[type=checkbox]' % h).click()
        Select(driver.find_element(By.CSS_SELECTOR, 'select[data-bulk-action]')).select_by_value('label')
        driver.find_element(By.CSS_SELECTOR, '#bulk input[name=label]').send_keys('half typ')
        box = driver.find_element(By.CSS_SELECTOR, 'tr[data-hash="%s"] input[type=checkbox]' % stopped[0])
        driver.execute_script('arguments[0].focus()', box)
        seen = changes(driver, lambda: driver.execute_script(DONE_JS % info_hash), 'the done figure to move')
        assert all(done != '100 %' and rate.endswith('/s') for done, rate in seen)
        assert still_the_same_page(driver)
        assert driver.execute_script('return document.documentElement.dataset.refreshed')
        ticked = driver.execute_script("return Array.from(document.querySelectorAll("
                                       "'#torrents input[type=checkbox]:checked')).map(function (b) { return b.value; })")
        assert sorted(ticked) == sorted(stopped[:2])
        assert driver.execute_script('return document.activeElement.value') == stopped[0]
        assert driver.find_element(By.CSS_SELECTOR, '#bulk input[name=label]').get_attribute('value') == 'half typ'
        assert Select(driver.find_element(By.CSS_SELECTOR, 'select[data-bulk-action]')).first_selected_option \
            .get_attribute('value') == 'label'
        assert driver.find_element(By.CSS_SELECTOR, 'tr[data-hash="%s"] td.name' % info_hash).text == 'Live pages.bin'


def test_the_torrent_page_shows_progress_live_and_keeps_what_is_typed(driver, server, transfer):
    seeder, leecher, spare, info_hash = transfer
    open_page(driver, server + '/target/leecher/torrent/%s/' % info_hash)
    field = driver.find_element(By.CSS_SELECTOR, '#summary input[name=label]')
    field.clear()
    field.send_keys('typing a new lab')
    progress = "return document.querySelector('#summary dd progress:not(.check)').value"
    peers = "return document.querySelector('#peers tbody').textContent"
    seen = changes(driver, lambda: driver.execute_script(progress), 'the progress bar to move')
    assert seen == sorted(seen) and 0 < seen[0] < seen[-1] < 1
    assert seeder.bind + ':' in driver.execute_script(peers)
    assert still_the_same_page(driver)
    assert driver.execute_script('return document.activeElement.name') == 'label'
    assert field.get_attribute('value') == 'typing a new lab'
    eta = driver.execute_script("return Array.from(document.querySelectorAll('#summary dt')).find("
                                "function (dt) { return dt.textContent === 'ETA'; }).nextElementSibling.textContent")
    assert eta != '–'


def test_the_front_page_is_live_and_keeps_its_scroll_position(driver, server, transfer):
    seeder, leecher, spare, info_hash = transfer
    driver.set_window_size(1000, 400)
    try:
        open_page(driver, server + '/')
        driver.execute_script('window.scrollTo(0, 300)')
        cell = ("var rows = document.querySelectorAll('tr[data-hash=\"%s\"] td.done span');"
                "return Array.from(rows).map(function (s) { return s.textContent; }).join(' ');") % info_hash
        changes(driver, lambda: driver.execute_script(cell), 'the front page row to move')
        assert still_the_same_page(driver)
        assert driver.execute_script('return window.scrollY') == 300
    finally:
        driver.set_window_size(1280, 900)


def test_counts_update_after_an_add_from_another_client(driver, server, transfer):
    seeder, leecher, spare, info_hash = transfer
    open_page(driver, server + '/target/spare/')

    def counts():
        return driver.execute_script(
            "return [document.querySelector('p.summary').textContent.trim(),"
            " document.querySelector('nav.views a.current .count').textContent,"
            " Array.from(document.querySelectorAll('nav[data-live=labels] a')).map(function (a) {"
            " return a.textContent.replace(/\\s+/g, ' ').trim(); }).join('|'),"
            " document.querySelectorAll('#torrents tr[data-hash]').length]")
    assert counts()[:2] == ['3 of 3 torrents', '3'] and 'fresh' not in counts()[2]
    added = spare.load(rig.synthetic_torrents(1, start=77, seed='live-spare')[0], start=False, label='fresh')
    try:
        wait(driver, lambda d: counts()[:2] == ['4 of 4 torrents', '4'], 'the counts to follow the add')
        summary, size, labels, shown = counts()
        assert 'fresh 1' in labels and shown == 4
        assert still_the_same_page(driver)
    finally:
        spare.call('d.erase', added)
    wait(driver, lambda d: counts()[:2] == ['3 of 3 torrents', '3'], 'the counts to follow the removal')


def test_a_target_that_goes_down_says_so_and_recovers_by_itself(driver, server, transfer):
    seeder, leecher, spare, info_hash = transfer
    open_page(driver, server + '/target/spare/')
    assert not driver.find_elements(By.ID, 'live-problem')
    spare.stop()
    try:
        banner = wait(driver, lambda d: d.find_elements(By.ID, 'live-problem'), 'the banner')[0]
        assert "'spare'" in banner.text and 'not reachable' in banner.text and 'trying again' in banner.text
        assert driver.execute_script('return document.documentElement.dataset.stale') == 'true'
        assert still_the_same_page(driver)
    finally:
        spare.start()
    wait(driver, lambda d: not d.find_elements(By.ID, 'live-problem'), 'the banner to go once it answers', 60)
    assert driver.execute_script('return document.documentElement.dataset.stale') is None
    assert driver.find_element(By.CSS_SELECTOR, 'p.summary').text.startswith('3 of 3')


@pytest.fixture(scope='module')
def kept(transfer, tmp_path_factory):
    """(URL, store path): pyroTorrent with a store of its own, for the settings and
    statistics pages."""
    seeder, leecher, spare, _ = transfer
    workdir = str(tmp_path_factory.mktemp('live-pages-kept'))
    path = os.path.join(workdir, 'store.sqlite3')
    Store.open(path)
    with webapp.http_server(workdir, {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'STORE': path, 'TIME_ZONE': 'UTC',
            'targets': {'leecher': {'url': leecher.url}, 'spare': {'url': spare.url, 'timeout': 3}}}) as url:
        yield url, path


def test_the_settings_page_shows_a_limit_set_in_rtorrent_and_keeps_a_half_typed_value(driver, kept, transfer):
    seeder, leecher, spare, info_hash = transfer
    url, _ = kept
    spare.call('throttle.global_down.max_rate.set_kb', '', 0)
    open_page(driver, url + '/target/spare/settings')
    now = '#setting-down_limit td.live'
    assert driver.find_element(By.CSS_SELECTOR, now).text.strip() == 'unlimited'
    # the user starts typing a new limit in the very row whose figure is about to change
    field = driver.find_element(By.CSS_SELECTOR, '#setting-down_limit input[name=down_limit]')
    field.send_keys('640 Ki')
    try:
        spare.call('throttle.global_down.max_rate.set_kb', '', 777)      # from outside pyroTorrent
        wait(driver, lambda d: '777' in d.find_element(By.CSS_SELECTOR, now).text,
             'the in-effect limit to follow rtorrent')
        assert driver.find_element(By.CSS_SELECTOR, now).text.strip() == FILTERS['limit'](777 * 1024)
        assert still_the_same_page(driver)
        assert driver.execute_script('return document.activeElement.name') == 'down_limit'
        assert field.get_attribute('value') == '640 Ki'
        refreshed = driver.execute_script('return document.documentElement.dataset.refreshed')
        wait(driver, lambda d: d.execute_script('return document.documentElement.dataset.refreshed') != refreshed,
             'one more refresh')
        assert field.get_attribute('value') == '640 Ki'
    finally:
        spare.call('throttle.global_down.max_rate.set_kb', '', 0)


def test_the_statistics_page_follows_the_samples_without_a_reload(driver, kept, transfer):
    seeder, leecher, spare, info_hash = transfer
    url, path = kept
    sampler = Sampler(Store.open(path), Policy(seconds=1, zone=time_zone('UTC')))
    backend = RTorrent(leecher.url, name='leecher')
    sampler.sample(backend)
    time.sleep(1.1)
    sampler.sample(backend)
    open_page(driver, url + '/target/leecher/stats/')
    hour = "return document.querySelector('#range-hour h2 small').textContent"
    totals = "return document.querySelector('dl.totals').textContent"
    before = driver.execute_script(hour), driver.execute_script(totals)
    assert before[0].startswith('↓ ')
    driver.execute_script("document.querySelector('#range-hour details').open = true")
    for _ in range(2):      # the leecher keeps downloading: each sample counts more bytes
        time.sleep(1.1)
        sampler.sample(backend)
    wait(driver, lambda d: d.execute_script(hour) != before[0], "the last hour's figure to follow the samples")
    assert driver.execute_script(totals) != before[1]
    assert still_the_same_page(driver)
    assert driver.execute_script("return document.querySelector('#range-hour details').open") is True
