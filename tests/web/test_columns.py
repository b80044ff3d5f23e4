"""Issue 23, item 7 in a real browser: the list's columns moved and resized by dragging, kept
per user (the store for an account, the session without one), and the totals line under
the list.  One real rtorrent of its own with six torrents; pyroTorrent with two users and a
SQLite store; headless Chromium drags with real pointer events."""
import os

import pytest

from lib import auth
from lib.format import FILTERS
from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WIDE = (1400, 1000)
PASSWORDS = {'alice': 'alice-secret-1', 'bob': 'bob-secret-2'}
USERS = {name: {'password': auth.hash_password(p), 'role': 'user'} for name, p in PASSWORDS.items()}


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    d = rig.RTorrentDaemon(str(tmp_path_factory.mktemp('columns-rt')), bind=rig.address()).start()
    d.load_many(rig.synthetic_torrents(6, seed='columns'))
    yield d
    d.stop()


@pytest.fixture(scope='module')
def server(daemon, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('columns-web'))
    with webapp.http_server(workdir, {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1, 'PAGE_SIZE': 4,
            'STORE': os.path.join(workdir, 'store.sqlite3'), 'users': USERS,
            'targets': {'t': {'url': daemon.url}}}) as url:
        yield url


@pytest.fixture(scope='module')
def open_server(daemon, tmp_path_factory):
    """No users: every visitor from this machine is admin, and a layout is the session's."""
    with webapp.http_server(str(tmp_path_factory.mktemp('columns-open')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'t': {'url': daemon.url}}}) as url:
        yield url


def wait(driver, condition, what, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def load(driver, url):
    driver.set_window_size(*WIDE)
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')


def log_in(driver, server, name):
    driver.delete_all_cookies()
    load(driver, server + '/login')
    driver.find_element(By.NAME, 'name').send_keys(name)
    driver.find_element(By.NAME, 'password').send_keys(PASSWORDS[name])
    driver.find_element(By.CSS_SELECTOR, 'form.login button[type=submit]').click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'form.account'), 'the login')


def order(driver):
    """The headings' columns, and each row's cells in the same order (by their classes)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#torrents thead th[data-column]')).map(function (th) {"
        " return th.getAttribute('data-column'); })")


def first_row_cells(driver):
    return driver.execute_script(
        "return Array.from(document.querySelector('#rows tr[data-hash]').cells).map(function (td) { return td.className; })")


def width(driver, column):
    return driver.execute_script("return document.querySelector('#torrents th[data-column=%s]').offsetWidth" % column)


def drag_layout(driver):
    """Moves Size before Name and widens Name by 120 px, as a user would; the new layout saved."""
    size = driver.find_element(By.CSS_SELECTOR, '#torrents th[data-column=size]')
    name = driver.find_element(By.CSS_SELECTOR, '#torrents th[data-column=name]')
    ActionChains(driver).click_and_hold(size).move_by_offset(-20, 0).move_to_element_with_offset(
        name, -name.rect['width'] // 2 + 5, 0).release().perform()
    wait(driver, lambda d: d.find_element(By.ID, 'torrents').get_attribute('data-layout-saved') == 'yes', 'the order saved')
    assert order(driver)[:2] == ['size', 'name']
    driver.execute_script("document.getElementById('torrents').removeAttribute('data-layout-saved')")
    before = width(driver, 'name')
    grip = driver.find_element(By.CSS_SELECTOR, '#torrents th[data-column=name] .col-grip')
    ActionChains(driver).click_and_hold(grip).move_by_offset(60, 0).move_by_offset(60, 0).release().perform()
    wait(driver, lambda d: d.find_element(By.ID, 'torrents').get_attribute('data-layout-saved') == 'yes', 'the width saved')
    after = width(driver, 'name')
    assert abs(after - (before + 120)) <= 2, (before, after)
    return after


def test_order_and_widths_are_kept_across_a_reload_and_per_user(driver, server):
    log_in(driver, server, 'alice')
    load(driver, server + '/target/t/')
    default = order(driver)
    assert default[:2] == ['name', 'size']
    wide = drag_layout(driver)
    assert first_row_cells(driver)[1:3] == ['num col-size', 'name'], 'the rows moved with the heading'
    load(driver, server + '/target/t/')
    assert order(driver) == ['size', 'name'] + default[2:]
    assert first_row_cells(driver)[1:3] == ['num col-size', 'name'], 'the server renders the rows in that order'
    assert abs(width(driver, 'name') - wide) <= 2
    # the sort links still sort (a click that is no drag)
    driver.find_element(By.CSS_SELECTOR, '#torrents th[data-column=size] a').click()
    wait(driver, lambda d: 'sort=size' in d.current_url, 'the sort link')
    # bob has his own: the default
    log_in(driver, server, 'bob')
    load(driver, server + '/target/t/')
    assert order(driver) == default
    assert not driver.find_elements(By.CSS_SELECTOR, '#torrents th[data-width]')
    log_in(driver, server, 'alice')         # and alice's came from the store, not the browser
    load(driver, server + '/target/t/')
    assert order(driver)[:2] == ['size', 'name'] and abs(width(driver, 'name') - wide) <= 2


def test_without_an_account_the_session_keeps_the_layout(driver, open_server):
    driver.delete_all_cookies()
    load(driver, open_server + '/target/t/')
    wide = drag_layout(driver)
    load(driver, open_server + '/target/t/')
    assert order(driver)[:2] == ['size', 'name'] and abs(width(driver, 'name') - wide) <= 2
    driver.delete_all_cookies()             # a new session: the default again
    load(driver, open_server + '/target/t/')
    assert order(driver)[:2] == ['name', 'size']


def test_the_totals_line_sums_the_rows_shown(driver, server, daemon):
    log_in(driver, server, 'bob')
    load(driver, server + '/target/t/?sort=size&order=desc')
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr[data-hash]')).map(function (tr) {"
        " return [tr.getAttribute('data-hash'), +tr.getAttribute('data-size'), +tr.getAttribute('data-down'), +tr.getAttribute('data-up')]; })")
    assert len(rows) == 4, 'one page of four of the six'
    sizes = {h: daemon.call('d.size_bytes', h) for h, _, _, _ in rows}
    assert all(sizes[h] == size for h, size, _, _ in rows)
    foot = driver.find_element(By.CSS_SELECTOR, '#torrents tfoot tr.totals')
    assert int(foot.get_attribute('data-count')) == 4
    assert int(foot.get_attribute('data-size')) == sum(sizes.values())
    assert int(foot.get_attribute('data-down')) == sum(r[2] for r in rows)
    assert int(foot.get_attribute('data-up')) == sum(r[3] for r in rows)
    assert '4 shown of 6' in foot.text and FILTERS['size'](sum(sizes.values())) in foot.text


def test_a_layout_that_names_no_column_is_refused_in_words(server):
    import requests
    web = requests.Session()
    page = web.get(server + '/login').text
    web.post(server + '/login', data={'name': 'bob', 'password': PASSWORDS['bob'], 'csrf_token': webapp.csrf_token(page)})
    token = webapp.csrf_token(web.get(server + '/target/t/').text)
    answer = web.post(server + '/columns/layout', data={'csrf_token': token, 'order': 'name,hash_value', 'width': 'name:200'})
    assert answer.status_code == 400 and "names each of name, size" in answer.text and 'Nothing was changed' in answer.text
    answer = web.post(server + '/columns/layout', data={'csrf_token': token, 'order': 'name', 'width': 'name:5'})
    assert answer.status_code == 400 and 'from 30 to 2000 pixels' in answer.text
    answer = web.post(server + '/columns/layout', data={'order': 'name'})
    assert answer.status_code in (400, 403), 'no CSRF token, no change'
