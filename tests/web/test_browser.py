"""pyroTorrent's pages in a real browser: headless Chromium driven by selenium.

pyroTorrent runs as `pyrotorrent.py --http` (Werkzeug's server, which also serves static/)
against the real swarm of tests/rig.py; Chromium renders its list page, runs live.js,
follows a sort link and submits the filter form.
"""
import os

import pytest

from tests import webapp
from tests.browser import open_page, wait

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'

# The rows of the torrent table as the browser renders them, read in one go (live.js swaps
# the table's body every second: element handles would go stale between two calls).
ROWS_JS = """
return Array.from(document.querySelectorAll('#torrents tbody tr[data-hash]')).map(function (tr) {
  return {hash: tr.getAttribute('data-hash'), name: tr.querySelector('td.name').innerText,
          label: tr.querySelector('td.label').innerText};
});
"""


@pytest.fixture(scope='module')
def server(swarm, tmp_path_factory):
    """pyrotorrent.py --http on a free port; yields its base URL (with BASE_URL)."""
    with webapp.http_server(str(tmp_path_factory.mktemp('browser')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'seeder': {'url': swarm.seeder.url}, 'leecher': {'url': swarm.leecher.url}}}) as url:
        yield url


def rows(driver):
    return driver.execute_script(ROWS_JS)


def browser_errors(driver):
    """The browser log's SEVERE entries since the last call (None if the driver keeps no log)."""
    try:
        entries = driver.get_log('browser')
    except (WebDriverException, AttributeError):
        return None
    return [e for e in entries if e.get('level') == 'SEVERE']


def test_list_page_renders_every_name_as_text_and_is_styled(driver, server, swarm):
    open_page(driver, server + '/target/seeder/')
    shown = rows(driver)
    assert sorted(r['name'] for r in shown) == sorted(t['name'] for t in swarm.torrents)
    assert {r['hash'] for r in shown} == {t['hash'] for t in swarm.torrents}
    tricky = [t['name'] for t in swarm.torrents if '<b>' in t['name']]
    assert tricky and tricky[0] in [r['name'] for r in shown]      # literal text, markup and all
    # the labels too, one of them holding a real '<b>...</b>'
    assert {r['hash']: r['label'] for r in shown} == {t['hash']: t['label'] or '' for t in swarm.torrents}
    assert any('</b>' in (t['label'] or '') for t in swarm.torrents)
    assert driver.find_elements(By.CSS_SELECTOR, '#torrents b') == []
    assert driver.find_elements(By.CSS_SELECTOR, 'main b') == []

    # style.css arrived and applies: it has rules, and the dark header bar is not the default
    rules = driver.execute_script(
        'return Array.from(document.styleSheets).reduce(function (n, s) { return n + s.cssRules.length; }, 0)')
    assert rules > 10
    header_bg = driver.execute_script(
        "return getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert header_bg == 'rgb(29, 35, 42)'
    collapse = driver.execute_script(
        "return getComputedStyle(document.getElementById('torrents')).borderCollapse")
    assert collapse == 'collapse'


def test_clicking_the_size_header_sorts_by_size(driver, server, swarm):
    open_page(driver, server + '/target/seeder/')
    old_table = driver.find_element(By.ID, 'torrents')
    link = driver.find_element(By.XPATH, "//table[@id='torrents']/thead//th/a[normalize-space(.)='Size']")
    link.click()
    wait(driver, lambda d: 'sort=size' in d.current_url, 'the URL to ask for sort=size')
    wait(driver, lambda d: _stale(old_table), 'the sorted page to replace the old one')
    open_url = driver.current_url
    assert 'order=desc' in open_url                 # size sorts largest first on the first click
    wanted = [t['hash'] for t in sorted(swarm.torrents, key=lambda t: t['size'], reverse=True)]
    assert [r['hash'] for r in rows(driver)] == wanted
    header = driver.find_element(By.CSS_SELECTOR, '#torrents thead a.sorted')
    assert header.text.startswith('Size') and header.get_attribute('aria-sort') == 'descending'

    # a second click turns the order round
    old_table = driver.find_element(By.ID, 'torrents')
    driver.find_element(By.CSS_SELECTOR, '#torrents thead a.sorted').click()
    wait(driver, lambda d: 'order=asc' in d.current_url, 'the URL to ask for order=asc')
    wait(driver, lambda d: _stale(old_table), 'the page sorted the other way')
    assert [r['hash'] for r in rows(driver)] == wanted[::-1]


def _stale(element):
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def test_live_refresh_swaps_in_fresh_figures_without_errors(driver, server, swarm):
    browser_errors(driver)                          # empty the log of the pages before
    open_page(driver, server + '/target/seeder/?sort=size&order=desc')
    assert driver.execute_script('return document.documentElement.dataset.refreshed') is None
    first = wait(driver, lambda d: d.execute_script('return document.documentElement.dataset.refreshed'),
                 'live.js to set data-refreshed')
    wait(driver, lambda d: d.execute_script('return document.documentElement.dataset.refreshed') != first,
         'live.js to refresh a second time')
    assert driver.execute_script('return document.documentElement.dataset.stale') is None
    # the swapped-in rows are the same torrents in the same order
    wanted = [t['hash'] for t in sorted(swarm.torrents, key=lambda t: t['size'], reverse=True)]
    assert [r['hash'] for r in rows(driver)] == wanted
    assert sorted(r['name'] for r in rows(driver)) == sorted(t['name'] for t in swarm.torrents)
    errors = browser_errors(driver)
    if errors is not None:
        assert errors == []


def test_filter_form_keeps_only_matching_rows(driver, server, swarm):
    open_page(driver, server + '/target/seeder/')
    part = 'PLAIN'                                  # matches ignoring case
    wanted = sorted(t['name'] for t in swarm.torrents if part.casefold() in t['name'].casefold())
    assert 0 < len(wanted) < len(swarm.torrents)
    field = driver.find_element(By.CSS_SELECTOR, 'form[data-filter-form] input[name=q]')
    field.clear()
    field.send_keys(part)                           # it filters as it is typed (static/sidebar.js)
    wait(driver, lambda d: 'q=PLAIN' in d.current_url, 'the URL to carry q=PLAIN')
    wait(driver, lambda d: sorted(r['name'] for r in rows(d)) == wanted, 'the filtered rows')
    assert driver.find_element(By.CSS_SELECTOR, 'form[data-filter-form] input[name=q]').get_attribute('value') == part

    # a part of a name in another script, typed into the same field
    unicode_name = next(t['name'] for t in swarm.torrents if '日本' in t['name'])
    field = driver.find_element(By.CSS_SELECTOR, 'form[data-filter-form] input[name=q]')
    driver.execute_script("arguments[0].value = '';", field)
    field.send_keys('ünïcød')
    wait(driver, lambda d: [r['name'] for r in rows(d)] == [unicode_name], 'the rows filtered by ünïcød')


@pytest.fixture(scope='module')
def guarded(swarm, tmp_path_factory):
    """pyrotorrent.py --http with users: bob may see the seeder only."""
    from lib import auth
    with webapp.http_server(str(tmp_path_factory.mktemp('browser-login')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'seeder': {'url': swarm.seeder.url}, 'leecher': {'url': swarm.leecher.url}},
            'users': {'bob': {'password': auth.hash_password('bob-secret-2'), 'role': 'viewer',
                              'targets': ['seeder']}}}) as url:
        yield url


def test_login_list_session_expiry_and_logout_in_a_browser(driver, guarded, swarm):
    driver.delete_all_cookies()
    browser_errors(driver)
    open_page(driver, guarded + '/target/seeder/?sort=size')
    assert '/torrent/login?next=' in driver.current_url
    driver.find_element(By.NAME, 'name').send_keys('bob')
    driver.find_element(By.NAME, 'password').send_keys('wrong password')
    driver.find_element(By.CSS_SELECTOR, 'form.login button').click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'form.login .problem'), 'the refusal')
    assert driver.find_element(By.CSS_SELECTOR, 'form.login .problem').text == 'That name and password do not match.'
    browser_errors(driver)                          # the refusal's 401 is in the log: empty it
    driver.find_element(By.NAME, 'password').send_keys('bob-secret-2')
    driver.find_element(By.CSS_SELECTOR, 'form.login button').click()
    wait(driver, lambda d: d.current_url.endswith('/torrent/target/seeder/?sort=size'), 'the list bob asked for')
    assert {r['hash'] for r in rows(driver)} == {t['hash'] for t in swarm.torrents}
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, 'header.top nav a')] == ['seeder']
    assert driver.find_element(By.CSS_SELECTOR, 'form.account span').text == 'bob'
    cookie = driver.get_cookie('pyrotorrent_session')
    assert cookie['httpOnly'] is True and cookie['sameSite'] == 'Lax'
    assert driver.execute_script('return document.cookie') == ''      # out of reach of scripts
    # live refresh works under the CSP, with no console errors
    wait(driver, lambda d: d.execute_script('return document.documentElement.dataset.refreshed'), 'live.js')
    errors = browser_errors(driver)
    if errors is not None:
        assert errors == []
    # logging out in another tab ends this session: the next refresh brings the login page
    driver.delete_cookie('pyrotorrent_session')
    wait(driver, lambda d: '/torrent/login?next=' in d.current_url, 'live.js to notice the session ended')
    driver.add_cookie(dict(cookie, path='/torrent'))
    open_page(driver, guarded + '/target/seeder/')
    driver.find_element(By.CSS_SELECTOR, 'form.account button').click()
    wait(driver, lambda d: d.current_url.endswith('/torrent/login'), 'the login page after logout')
    open_page(driver, guarded + '/target/seeder/')
    assert '/torrent/login?next=' in driver.current_url
