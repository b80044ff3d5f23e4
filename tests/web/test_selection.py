"""Issue 23, item 5 in a real browser: selecting rows and the context menu.  One real rtorrent
of its own with eight torrents (five labelled 'a', three 'b'), pyroTorrent with three rows a
page; headless Chromium selects with clicks, shift-clicks, ctrl-clicks and keys, opens the
menu by right-click, the ⋯ button and Shift+F10, and acts on every torrent a filter matches
across its pages; every outcome is read back from rtorrent."""
import os

import pytest

from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WIDE = (1400, 1000)


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('selection'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    try:
        a = daemon.load_many(rig.synthetic_torrents(5, seed='select'), label='a')
        b = daemon.load_many(rig.synthetic_torrents(3, start=5, seed='select'), label='b')
        yield {'daemon': daemon, 'a': a, 'b': b, 'workdir': workdir}
    finally:
        daemon.stop()


@pytest.fixture(scope='module')
def server(box):
    with webapp.http_server(box['workdir'], {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1, 'PAGE_SIZE': 3,
            'targets': {'t': {'url': box['daemon'].url}}}) as url:
        yield url


def started(daemon, hashes):
    """Exactly these torrents started, every other one stopped (read back)."""
    everyone = daemon.call('download_list', '')
    for h in everyone:
        daemon.call('d.start' if h in hashes else 'd.stop', h)
    daemon.wait(lambda: sorted(h for h in everyone if daemon.call('d.state', h) == 1) == sorted(hashes), 10,
                'rtorrent to have the torrents started as asked')


def states(daemon):
    return {h: daemon.call('d.state', h) for h in daemon.call('download_list', '')}


def wait(driver, condition, what, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def open_list(driver, url):
    driver.set_window_size(*WIDE)
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the list to load')
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#rows tr[data-state]') and all(
        r.get_attribute('data-state') for r in d.find_elements(By.CSS_SELECTOR, '#rows tr[data-hash]')), 'the rows')
    driver.execute_script('window.notReloaded = true;')


def row(driver, h):
    return driver.find_element(By.CSS_SELECTOR, '#rows tr[data-hash="%s"]' % h)


def plain_click(driver, h):
    """A plain click on a row: it is the selection, and the pane opens beside the list (the
    list narrows): wait for that before the next click, so it lands where it is aimed."""
    row(driver, h).find_element(By.CSS_SELECTOR, 'td.col-size').click()
    wait(driver, lambda d: d.execute_script(
        "var b = document.querySelector('#pane:not([hidden]) [data-pane]'); return b && b.getAttribute('data-pane');") == h,
        'the pane to show the clicked row')


def ticked(driver):
    return sorted(driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows input[form=bulk]:checked')).map(function (b) { return b.value; })"))


def hashes_shown(driver):
    return [r.get_attribute('data-hash') for r in driver.find_elements(By.CSS_SELECTOR, '#rows tr[data-hash]')]


def menu_items(driver):
    wait(driver, lambda d: d.find_element(By.ID, 'row-menu').is_displayed(), 'the menu to open')
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, '#row-menu [role=menuitem]') if b.is_displayed()]


def close_menu(driver):
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda d: not d.find_element(By.ID, 'row-menu').is_displayed(), 'the menu to close')


def test_the_menu_offers_both_start_and_stop_for_a_mixed_selection(driver, server, box):
    daemon, a = box['daemon'], box['a']
    started(daemon, [a[1]])
    open_list(driver, server + '/target/t/?per_page=10')
    plain_click(driver, a[0])                  # stopped
    ActionChains(driver).key_down(Keys.CONTROL).click(row(driver, a[1]).find_element(By.CSS_SELECTOR, 'td.col-size')).key_up(Keys.CONTROL).perform()
    assert ticked(driver) == sorted([a[0], a[1]])
    ActionChains(driver).context_click(row(driver, a[1]).find_element(By.CSS_SELECTOR, 'td.col-size')).perform()
    items = menu_items(driver)
    assert 'Start' in items and 'Stop' in items and 'Remove…' in items and 'Details' not in items, items
    assert ticked(driver) == sorted([a[0], a[1]]), 'a right-click inside the selection keeps it'
    close_menu(driver)
    # a right-click outside the selection makes that row the selection: a stopped one, no Stop
    ActionChains(driver).context_click(row(driver, a[2]).find_element(By.CSS_SELECTOR, 'td.col-size')).perform()
    items = menu_items(driver)
    assert ticked(driver) == [a[2]] and 'Start' in items and 'Stop' not in items and 'Details' in items, items
    close_menu(driver)
    # the started one alone, by the keyboard's Shift+F10 on the focused row: Stop, no Start
    plain_click(driver, a[1])
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.F10).key_up(Keys.SHIFT).perform()
    items = menu_items(driver)
    assert 'Stop' in items and 'Start' not in items, items
    close_menu(driver)
    # and the ⋯ button of the bar
    driver.find_element(By.CSS_SELECTOR, '#bulk [data-menu-button]').click()
    assert 'Stop' in menu_items(driver)
    close_menu(driver)
    assert driver.execute_script('return window.notReloaded') is True


def test_a_shift_click_range_started_from_the_menu_reaches_exactly_those_torrents(driver, server, box):
    daemon = box['daemon']
    started(daemon, [])
    open_list(driver, server + '/target/t/?per_page=10')
    shown = hashes_shown(driver)
    assert len(shown) == 8
    plain_click(driver, shown[1])
    ActionChains(driver).key_down(Keys.SHIFT).click(row(driver, shown[4]).find_element(By.CSS_SELECTOR, 'td.col-size')).key_up(Keys.SHIFT).perform()
    assert ticked(driver) == sorted(shown[1:5])
    ActionChains(driver).context_click(row(driver, shown[3]).find_element(By.CSS_SELECTOR, 'td.col-size')).perform()
    driver.find_element(By.XPATH, "//div[@id='row-menu']/button[normalize-space(.)='Start']").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'p.message-done'), 'the message')
    assert "and 3 more." in driver.find_element(By.TAG_NAME, 'main').text
    now = states(daemon)
    assert sorted(h for h, s in now.items() if s == 1) == sorted(shown[1:5]), now


def test_keys_move_and_space_selects(driver, server, box):
    started(box['daemon'], [])
    open_list(driver, server + '/target/t/?per_page=10')
    shown = hashes_shown(driver)
    plain_click(driver, shown[0])
    for key in ('j', 'j', Keys.ARROW_DOWN, 'k'):
        driver.switch_to.active_element.send_keys(key)
    assert driver.switch_to.active_element.get_attribute('data-hash') == shown[2]
    driver.switch_to.active_element.send_keys(' ')
    assert ticked(driver) == sorted([shown[0], shown[2]])
    driver.switch_to.active_element.send_keys(' ')
    assert ticked(driver) == [shown[0]]


def test_all_matching_acts_on_every_page_of_the_filter(driver, server, box):
    daemon, a = box['daemon'], box['a']
    started(daemon, [])
    open_list(driver, server + '/target/t/?label=a')
    assert len(hashes_shown(driver)) == 3, 'three rows a page: the filter spans two'
    matching = driver.find_element(By.CSS_SELECTOR, '#bulk input[name=matching]')
    assert 'all 5 torrents matching this filter' in matching.find_element(By.XPATH, '..').text
    matching.click()
    assert len(ticked(driver)) == 3, "this page's rows are part of it"
    Select(driver.find_element(By.CSS_SELECTOR, '#bulk [data-bulk-action]')).select_by_value('start')
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'p.message-done'), 'the message')
    assert "and 4 more." in driver.find_element(By.TAG_NAME, 'main').text
    now = states(daemon)
    assert sorted(h for h, s in now.items() if s == 1) == sorted(a), now


def test_all_matching_is_refused_in_words_when_the_set_changed_meanwhile(driver, server, box):
    daemon, b = box['daemon'], box['b']
    started(daemon, [])
    open_list(driver, server + '/target/t/?label=a')
    driver.find_element(By.CSS_SELECTOR, '#bulk input[name=matching]').click()
    daemon.call('d.custom1.set', b[0], 'a')         # a sixth torrent matches now
    try:
        Select(driver.find_element(By.CSS_SELECTOR, '#bulk [data-bulk-action]')).select_by_value('start')
        driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'p.message-refused'), 'the refusal')
        text = driver.find_element(By.CSS_SELECTOR, 'p.message-refused').text
        assert 'matches 6 torrents now, not the 5 you confirmed' in text and 'Nothing was changed' in text, text
        assert not any(states(daemon).values()), 'nothing was started'
    finally:
        daemon.call('d.custom1.set', b[0], 'b')


def test_without_javascript_all_matching_is_a_box_of_the_bar(driver, server, box):
    daemon, b = box['daemon'], box['b']
    started(daemon, [])
    driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})
    try:
        open_list(driver, server + '/target/t/?label=b&sort=name')
        assert not driver.find_elements(By.CSS_SELECTOR, '#bulk input[name=matching]'), 'one page: no need'
        open_list(driver, server + '/target/t/?label=b&per_page=2')
        assert not driver.find_element(By.ID, 'row-menu').is_displayed()
        driver.find_element(By.CSS_SELECTOR, '#bulk input[name=matching]').click()
        Select(driver.find_element(By.CSS_SELECTOR, '#bulk [data-bulk-action]')).select_by_value('start')
        driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'p.message-done'), 'the message')
    finally:
        driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})
    now = states(daemon)
    assert sorted(h for h, s in now.items() if s == 1) == sorted(b), now


def test_removing_all_matching_asks_first_naming_every_one(driver, server, box):
    daemon, a = box['daemon'], box['a']
    open_list(driver, server + '/target/t/?label=a')
    driver.find_element(By.CSS_SELECTOR, '#bulk input[name=matching]').click()
    Select(driver.find_element(By.CSS_SELECTOR, '#bulk [data-bulk-action]')).select_by_value('erase')
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    wait(driver, lambda d: '/target/t/erase' in d.current_url, 'the confirmation page')
    assert driver.find_element(By.TAG_NAME, 'h1').text == 'Remove 5 torrents from t?'
    listed = sorted(e.get_attribute('value') for e in driver.find_elements(By.CSS_SELECTOR, 'form.erase input[name=hash]'))
    assert listed == sorted(a)
    driver.find_element(By.LINK_TEXT, 'Cancel').click()
    wait(driver, lambda d: '/target/t/erase' not in d.current_url, 'back to the list')
    assert len(daemon.call('download_list', '')) == 8, 'nothing removed'
