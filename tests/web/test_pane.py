"""Issue 23, item 4 in a real browser: the list's detail pane.  A seeder and a throttled
leecher of their own on the swarm's tracker, pyroTorrent (pyrotorrent.py --http, REFRESH 1 s)
over the leecher; headless Chromium at 1400x1000 clicks a row and finds the torrent's files,
peers and trackers as rtorrent reports them, beside the list, without a navigation, kept by
the URL across a reload, refreshed live, changeable (a file's priority read back from
rtorrent); with script off the name stays a link to the torrent's own page."""
import os

import pytest

from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WIDE = (1400, 1000)
NAME = 'Pane album'
FILE_SIZE = 3 * 1024 * 1024
RATE_KIB = 32               # the leecher's limit: the transfer lasts minutes


@pytest.fixture(scope='module')
def transfer(swarm, tmp_path_factory):
    """(leecher, info hash): the leecher part-way through a three-file torrent from its
    own seeder, and three stopped torrents besides."""
    workdir = str(tmp_path_factory.mktemp('pane'))
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, NAME, FILE_SIZE, files=3)
    torrent = rig.make_torrent(path, swarm.tracker.announce_url, os.path.join(workdir, 'pane.torrent'),
                               piece_size_exp=16)
    with rig.seeder_and_leecher(workdir, rig.address(), rig.address(), RATE_KIB) as (seeder, leecher):
        info_hash = seeder.seed(torrent, data, swarm.tracker)
        leecher.load_many(rig.synthetic_torrents(3, seed='pane'))
        leecher.load(torrent, directory=leecher.download_dir)
        leecher.wait(lambda: leecher.call('d.peers_connected', info_hash) >= 1
                     and leecher.call('d.completed_bytes', info_hash) > 0, 60,
                     'the leecher to download from its seeder')
        yield leecher, info_hash


@pytest.fixture(scope='module')
def server(transfer, tmp_path_factory):
    leecher, _ = transfer
    with webapp.http_server(str(tmp_path_factory.mktemp('pane-web')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'t': {'url': leecher.url}}}) as url:
        yield url


def wait(driver, condition, what, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def open_list(driver, url):
    driver.set_window_size(*WIDE)
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the list to load')
    driver.execute_script('window.notReloaded = true;')       # gone if the page is left or reloaded


def pane_text(driver):
    return driver.execute_script("var p = document.getElementById('pane'); return p && !p.hidden ? p.innerText : '';")


def pane_open(driver, info_hash):
    return driver.execute_script("var b = document.querySelector('#pane:not([hidden]) [data-pane]');"
                                 "return b && b.getAttribute('data-pane');") == info_hash


def test_a_rows_click_opens_its_files_peers_and_trackers_beside_the_list(driver, server, transfer):
    leecher, info_hash = transfer
    open_list(driver, server + '/target/t/')
    assert not pane_text(driver)
    driver.find_element(By.CSS_SELECTOR, '#rows tr[data-hash="%s"] td.state' % info_hash).click()
    wait(driver, lambda d: pane_open(d, info_hash), 'the pane to show the torrent')
    assert driver.execute_script('return window.notReloaded') is True, 'the page was left'
    assert 'open=' + info_hash in driver.current_url
    pane = driver.find_element(By.ID, 'pane')
    assert pane.find_element(By.CSS_SELECTOR, '.pane-title').text == NAME
    # beside the list: the list's table ends left of the pane, both on the first screen
    table, box = (driver.find_element(By.ID, 'torrents').rect, pane.rect)
    assert table['x'] + table['width'] <= box['x'] + 1 and box['y'] < WIDE[1]
    text = pane_text(driver)
    files = [row[0] for row in leecher.call('f.multicall', info_hash, '', 'f.path=')]
    assert len(files) == 3 and all(os.path.basename(f) in text for f in files), (files, text)
    peers = [row[0] for row in leecher.call('p.multicall', info_hash, '', 'p.address=')]
    assert peers and all(p in text for p in peers), (peers, text)
    trackers = [row[0] for row in leecher.call('t.multicall', info_hash, '', 't.url=')]
    assert trackers and all(t in text for t in trackers), (trackers, text)


def test_the_pane_refreshes_live_and_a_reload_keeps_it(driver, server, transfer):
    leecher, info_hash = transfer
    open_list(driver, server + '/target/t/?open=' + info_hash)
    assert pane_open(driver, info_hash), 'the URL names the open torrent: the server renders its pane'
    done = "return document.querySelector('#pane #summary progress').value"
    first = driver.execute_script(done)
    wait(driver, lambda d: d.execute_script(done) > first, 'the pane to show the download going on')
    assert driver.execute_script('return window.notReloaded') is True
    got = leecher.call('d.completed_bytes', info_hash) / leecher.call('d.size_bytes', info_hash)
    assert abs(driver.execute_script(done) - got) < 0.2
    driver.refresh()
    wait(driver, lambda d: pane_open(d, info_hash), 'the pane after a reload')


def test_enter_opens_the_pane_and_escape_closes_it(driver, server, transfer):
    _, info_hash = transfer
    open_list(driver, server + '/target/t/')
    rows = driver.find_elements(By.CSS_SELECTOR, '#rows tr[data-hash]')
    rows[0].find_element(By.CSS_SELECTOR, 'td.done').click()      # a plain click: selects it, opens it
    wait(driver, lambda d: pane_open(d, rows[0].get_attribute('data-hash')), 'the clicked row in the pane')
    at = [r.get_attribute('data-hash') for r in rows].index(info_hash)
    for _ in range(at):
        driver.switch_to.active_element.send_keys('j')
    assert driver.switch_to.active_element.get_attribute('data-hash') == info_hash
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait(driver, lambda d: pane_open(d, info_hash), 'Enter to open the row with focus')
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda d: not pane_text(d), 'Escape to close the pane')
    assert 'open=' not in driver.current_url
    assert driver.execute_script('return window.notReloaded') is True


def test_a_files_priority_set_in_the_pane_reaches_rtorrent_and_the_pane_stays(driver, server, transfer):
    leecher, info_hash = transfer
    open_list(driver, server + '/target/t/?open=' + info_hash)
    last = leecher.call('f.multicall', info_hash, '', 'f.path=')[-1][0]
    box = driver.find_element(By.CSS_SELECTOR, '#pane input[name=file][aria-label="select %s"]' % os.path.basename(last))
    box.click()
    Select(driver.find_element(By.CSS_SELECTOR, '#files-form select[name=priority]')).select_by_visible_text('off')
    driver.find_element(By.CSS_SELECTOR, '#files-form button[type=submit]').click()
    wait(driver, lambda d: d.execute_script('return window.notReloaded') is None, 'the form to post')
    leecher.wait(lambda: leecher.call('f.multicall', info_hash, '', 'f.priority=')[-1][0] == 0, 10,
                 'rtorrent to have the last file off')
    wait(driver, lambda d: pane_open(d, info_hash), 'the list with the pane open again')
    assert '/target/t/' in driver.current_url and 'Set 1 file to off' in driver.find_element(By.TAG_NAME, 'main').text


def test_the_name_stays_a_link_to_the_torrent_page(driver, server, transfer):
    _, info_hash = transfer
    open_list(driver, server + '/target/t/')
    driver.find_element(By.CSS_SELECTOR, '#rows tr[data-hash="%s"] td.name a' % info_hash).click()
    wait(driver, lambda d: '/torrent/%s/' % info_hash in d.current_url, 'the torrent page')


def test_without_javascript_the_name_is_a_link_to_the_torrent_page(driver, server, transfer):
    _, info_hash = transfer
    driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})
    try:
        open_list(driver, server + '/target/t/')
        driver.find_element(By.CSS_SELECTOR, '#rows tr[data-hash="%s"] td.name a' % info_hash).click()
        wait(driver, lambda d: '/torrent/%s/' % info_hash in d.current_url, 'the torrent page')
        assert driver.find_element(By.ID, 'files').is_displayed()
        open_list(driver, server + '/target/t/?open=' + info_hash)      # a link to the list with its pane
        assert pane_open(driver, info_hash) and NAME in driver.find_element(By.ID, 'pane').text
    finally:
        driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})


def test_the_totals_line_sums_the_rates_of_the_rows_shown(driver, server, transfer):
    leecher, info_hash = transfer
    open_list(driver, server + '/target/t/')
    sums = ("var f = document.querySelector('#torrents tfoot tr.totals'), s = 0;"
            "document.querySelectorAll('#rows tr[data-hash]').forEach(function (tr) { s += +tr.getAttribute('data-down'); });"
            "return [+f.getAttribute('data-down'), s, f.innerText];")
    wait(driver, lambda d: d.execute_script(sums)[0] > 0, 'the totals to show the transfer')
    foot, rows, text = driver.execute_script(sums)
    assert foot == rows, 'the totals are the sum of the rows'
    assert '4 shown' in text
