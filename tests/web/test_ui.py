"""Issue 16 in a real browser: phone and desktop layouts, the bulk bar, the keyboard.

One real rtorrent with a few complete torrents behind pyrotorrent.py --http;
headless Chromium measures the pages from the DOM (no sideways scrolling at 360 px, the
first torrent row on the first screen), walks them by keyboard, and applies the bulk bar,
reading every outcome back from rtorrent itself.
"""
import html
import os
import re

import pytest

from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

NAMES = ['Ubuntu 24.04 desktop amd64 with a long name that wraps.iso', 'notes.txt', 'album']
PHONE, DESKTOP = (360, 740), (1280, 900)


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('ui')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    hashes = {}
    for i, name in enumerate(NAMES):
        path = rig.make_payload(data, name, 256 * 1024 + i, files=3 if name == 'album' else 1)
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, '%d.torrent' % i),
                                piece_size_exp=16)
        hashes[name] = daemon.load(body, directory=data, start=i != 1, label='linux' if i == 0 else None)
    for h in (hashes[NAMES[0]], hashes[NAMES[2]]):      # the stopped one is never checked
        daemon.wait(lambda: daemon.call('d.complete', h) == 1, 30, 'rtorrent to check %s' % h)
    return {'daemon': daemon, 'hashes': hashes, 'data': data, 'workdir': workdir}


@pytest.fixture(scope='module')
def server(box):
    with webapp.http_server(os.path.join(box['workdir']), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'STORE': os.path.join(box['workdir'], 'store.sqlite3'),
            'targets': {'t': {'url': box['daemon'].url, 'download_roots': [box['data']]}}}) as url:
        yield url


def wait(driver, condition, what, seconds=15):
    # a page that is being replaced (after a form's POST) leaves stale elements: look again
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def main_text(driver):
    # read in one script: between finding <main> and reading its text, the page a POST
    # answered may replace the document, which Chromium reports as a plain WebDriverException
    return driver.execute_script("var m = document.querySelector('main'); return m ? m.innerText : '';")


def open_page(driver, url, size=DESKTOP):
    driver.set_window_size(*size)
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')


def pages(server, box):
    h = box['hashes'][NAMES[2]]
    return {'front': server + '/', 'list': server + '/target/t/',
            'torrent': server + '/target/t/torrent/%s/' % h, 'add': server + '/target/t/add'}


OVERFLOW_JS = """
var w = document.documentElement.clientWidth, wide = [];
document.querySelectorAll('body *').forEach(function (el) {
  var r = el.getBoundingClientRect();
  if (r.right > w + 1 && r.width > 0) {
    for (var p = el.parentElement; p; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return;    // scrolls inside its own box
    wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
});
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide: wide.slice(0, 8)};
"""


def page_states(server, box):
    """Every page, and the states a page can be in besides (the list filtered by a state,
    as the front page's counts link to it)."""
    h = box['hashes'][NAMES[0]]
    return dict(pages(server, box), **{'list-seeding': server + '/target/t/?state=seeding',
                                       'list-stopped-by-size': server + '/target/t/?state=stopped&sort=size',
                                       'erase': server + '/target/t/erase?hash=' + h,
                                       'settings': server + '/target/t/settings',
                                       'stats': server + '/target/t/stats/', 'stats-all': server + '/stats/',
                                       'schedule': server + '/target/t/schedule',
                                       'schedule-15min': server + '/target/t/schedule?minutes=15',
                                       'rules': server + '/target/t/rules', 'events': server + '/target/t/events',
                                       'not-found': server + '/target/nobody/'})


@pytest.mark.parametrize('width', [360, 390])
def test_no_page_scrolls_sideways_on_a_phone(driver, server, box, width):
    wide = {}
    for page, url in page_states(server, box).items():
        open_page(driver, url, (width, 740))
        found = driver.execute_script(OVERFLOW_JS)
        if found['scroll'] > found['inner']:
            wide[page] = found
    assert not wide, wide


def test_the_first_torrent_is_on_the_first_screen_of_a_phone(driver, server, box):
    open_page(driver, server + '/target/t/', PHONE)
    top, height = driver.execute_script(
        "var r = document.querySelector('#torrents tbody tr[data-hash]').getBoundingClientRect();"
        "return [r.bottom, window.innerHeight];")
    assert top <= height, 'the first row ends at %d px of a %d px screen' % (top, height)


def screenshot(driver, path):
    """Save the viewport as a PNG at path; assert it is one, as wide as the page's viewport."""
    assert driver.save_screenshot(path), path
    with open(path, 'rb') as f:
        head = f.read(24)
    width = driver.execute_script('return Math.round(window.innerWidth * window.devicePixelRatio)')
    assert head[:8] == b'\x89PNG\r\n\x1a\n' and int.from_bytes(head[16:20], 'big') == width, (path, head)


def test_screenshots_of_each_page(driver, server, box, tmp_path):
    """Every page in both layouts and in dark mode; set PYROTORRENT_SCREENSHOTS=docs/screenshots
    to keep the pictures (else they go to a temporary folder)."""
    folder = os.environ.get('PYROTORRENT_SCREENSHOTS') or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    every = page_states(server, box)
    shots = dict(pages(server, box), **{k: every[k] for k in ('settings', 'stats', 'schedule', 'rules', 'events')})
    for page, url in shots.items():
        for size_name, size in (('desktop', DESKTOP), ('phone', (390, 844))):
            open_page(driver, url, size)
            screenshot(driver, os.path.join(folder, '%s-%s.png' % (page, size_name)))
    driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': [{'name': 'prefers-color-scheme', 'value': 'dark'}]})
    try:
        for page in ('list', 'torrent'):
            open_page(driver, pages(server, box)[page], DESKTOP)
            screenshot(driver, os.path.join(folder, '%s-dark.png' % page))
    finally:
        driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': []})


def bar_inputs(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#bulk [data-for]')).filter(function (e) {"
        "  return e.offsetParent !== null; }).map(function (e) { return e.name; });")


def test_the_bulk_bar_sets_a_label_and_starts_nothing(driver, server, box):
    daemon, stopped = box['daemon'], box['hashes'][NAMES[1]]
    open_page(driver, server + '/target/t/')
    assert bar_inputs(driver) == []                       # no action chosen: no inputs
    choice = Select(driver.find_element(By.NAME, 'action'))
    assert choice.first_selected_option.get_attribute('value') == ''
    choice.select_by_value('priority')
    assert bar_inputs(driver) == ['priority']
    choice.select_by_value('close')
    assert 'close its files' in driver.find_element(By.CSS_SELECTOR, '[data-action-help]').text
    choice.select_by_value('label')
    assert bar_inputs(driver) == ['label']
    driver.find_element(By.CSS_SELECTOR, 'input[value="%s"]' % stopped).click()
    driver.find_element(By.CSS_SELECTOR, '#bulk input[name=label]').send_keys('isos')
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    wait(driver, lambda d: "Set the label of 'notes.txt'." in main_text(d), 'the message naming the torrent')
    assert daemon.call('d.custom1', stopped) == 'isos' and daemon.call('d.state', stopped) == 0
    # an empty label box is stopped in the browser, and the label stays
    Select(driver.find_element(By.NAME, 'action')).select_by_value('label')
    # answered without a reload (static/notice.js), its box is still ticked and the label typed
    assert driver.find_element(By.CSS_SELECTOR, 'input[value="%s"]' % stopped).is_selected()
    driver.find_element(By.CSS_SELECTOR, '#bulk input[name=label]').clear()
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    assert 'Type a label first' in driver.find_element(By.CSS_SELECTOR, '[data-action-help]').text
    assert daemon.call('d.custom1', stopped) == 'isos'


def test_without_javascript_the_server_refuses_an_empty_label_and_removes_only_when_told(box):
    daemon, h = box['daemon'], box['hashes'][NAMES[0]]
    web = webapp.client({'t': box['daemon'].url})
    token = webapp.csrf_token(web.get('/target/t/').get_data(as_text=True))
    daemon.call('d.custom1.set', h, 'keep')
    answer = web.post('/target/t/action', data={'csrf_token': token, 'action': 'label', 'hash': h, 'label': ' '})
    assert answer.status_code == 400 and "choose 'remove label'" in html.unescape(answer.get_data(as_text=True))
    assert daemon.call('d.custom1', h) == 'keep'
    answer = web.post('/target/t/action', data={'csrf_token': token, 'action': '', 'hash': h})
    assert answer.status_code == 303 and daemon.call('d.custom1', h) == 'keep'
    assert 'Choose what to do' in web.get(answer.headers['Location']).get_data(as_text=True)
    web.post('/target/t/action', data={'csrf_token': token, 'action': 'unlabel', 'hash': h})
    assert daemon.call('d.custom1', h) == ''
    daemon.call('d.custom1.set', h, 'linux')


def active(driver):
    return driver.execute_script(
        "var e = document.activeElement; return [e.tagName, e.id, e.name || '', e.value || ''];")


def test_a_keyboard_walk_skip_link_search_help_and_no_key_while_typing(driver, server, box):
    open_page(driver, server + '/target/t/')
    body = driver.find_element(By.TAG_NAME, 'body')
    body.send_keys(Keys.TAB)                        # the first Tab reaches the skip link
    assert driver.execute_script('return document.activeElement.className') == 'skip'
    body = driver.switch_to.active_element
    body.send_keys(Keys.ENTER)
    assert active(driver)[1] == 'rows'
    driver.switch_to.active_element.send_keys(Keys.TAB)     # then the first torrent's box
    tag, _, name, value = active(driver)
    first = driver.execute_script("return document.querySelector('#torrents tbody tr[data-hash]').getAttribute('data-hash')")
    assert (tag, name, value) == ('INPUT', 'hash', first)
    # focus survives the live refreshes (REFRESH_SECONDS = 1)
    stamp = driver.execute_script("return document.documentElement.getAttribute('data-refreshed')")
    wait(driver, lambda d: d.execute_script("return document.documentElement.getAttribute('data-refreshed')")
         not in (None, stamp), 'a live refresh')
    wait(driver, lambda d: d.execute_script("return document.documentElement.getAttribute('data-refreshed')")
         not in (None, stamp), 'a second live refresh')
    assert active(driver)[2:] == ['hash', first]
    # a selects every torrent on the page, again none
    driver.switch_to.active_element.send_keys('a')
    assert driver.execute_script("return Array.from(document.querySelectorAll('#torrents tbody input[form=bulk]'))"
                                 ".every(function (b) { return b.checked; })")
    driver.switch_to.active_element.send_keys('a')
    assert driver.execute_script("return document.querySelectorAll('#torrents tbody input[form=bulk]:checked').length") == 0
    # / goes to the search box; typed there, no key is a shortcut
    driver.switch_to.active_element.send_keys('/')
    assert active(driver)[2] == 'q'
    driver.switch_to.active_element.send_keys('as?x/')
    assert driver.find_element(By.NAME, 'q').get_attribute('value') == 'as?x/'
    assert not driver.execute_script("return document.getElementById('keys-help').open")
    assert driver.execute_script("return document.querySelectorAll('#torrents tbody input[form=bulk]:checked').length") == 0
    # ? opens the help, Escape closes it; the ? button in the header says it exists
    driver.find_element(By.NAME, 'q').clear()
    driver.execute_script('document.activeElement.blur()')
    assert driver.find_element(By.CSS_SELECTOR, '[data-keys-help]').is_displayed()
    driver.find_element(By.TAG_NAME, 'body').send_keys('?')
    assert driver.execute_script("return document.getElementById('keys-help').open")
    assert 'select every torrent' in driver.find_element(By.ID, 'keys-help').text
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not driver.execute_script("return document.getElementById('keys-help').open")


def test_s_starts_the_selected_torrents_through_the_bar(driver, server, box):
    daemon, h = box['daemon'], box['hashes'][NAMES[1]]
    daemon.call('d.stop', h)
    open_page(driver, server + '/target/t/?sort=size')     # not a reload: Chromium would tick boxes again
    driver.find_element(By.TAG_NAME, 'body').send_keys('s')          # nothing ticked: said so
    assert 'Select at least one' in driver.find_element(By.CSS_SELECTOR, '[data-action-help]').text
    driver.find_element(By.CSS_SELECTOR, 'input[value="%s"]' % h).click()
    driver.switch_to.active_element.send_keys('s')
    wait(driver, lambda d: "Started 'notes.txt'." in main_text(d), 'the message naming the torrent')
    assert daemon.call('d.state', h) == 1
    daemon.call('d.stop', h)


def buttons(web, h):
    page = web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
    return re.findall(r'<button type="submit" name="action" value="(\w+)" title="[^"]+"', page), page


def test_the_torrent_page_offers_the_actions_that_fit_and_says_what_they_do(box):
    daemon, web = box['daemon'], webapp.client({'t': box['daemon'].url})
    running, stopped = box['hashes'][NAMES[2]], box['hashes'][NAMES[1]]
    daemon.call('d.stop', stopped)
    offered, page = buttons(web, running)
    assert offered == ['pause', 'stop', 'close', 'recheck', 'announce', 'erase'], offered
    assert 'peers stay connected' in page and 'What these buttons do' in page
    daemon.call('d.pause', running)
    try:
        assert buttons(web, running)[0][:2] == ['resume', 'stop']
    finally:
        daemon.call('d.resume', running)
    offered, page = buttons(web, stopped)
    assert 'start' in offered and 'pause' not in offered and 'stop' not in offered


def background(driver):
    return driver.execute_script("return getComputedStyle(document.body).backgroundColor")


def test_dark_theme_follows_the_system_and_the_switch_is_kept(driver, server, box):
    driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': [{'name': 'prefers-color-scheme', 'value': 'dark'}]})
    try:
        open_page(driver, server + '/target/t/')
        driver.execute_script("localStorage.removeItem('pyrotorrent-theme')")
        open_page(driver, server + '/target/t/?theme-test=1')
        assert background(driver) == 'rgb(20, 24, 29)'                  # the system's dark
        switch = driver.find_element(By.CSS_SELECTOR, '[data-theme-switch]')
        assert switch.text == '◐ auto'
        switch.click()
        switch.click()                                                  # auto → dark → light
        assert background(driver) == 'rgb(255, 255, 255)'
        open_page(driver, server + '/')                                 # kept on the next page
        assert background(driver) == 'rgb(255, 255, 255)'
        assert driver.find_element(By.CSS_SELECTOR, '[data-theme-switch]').text == '○ light'
    finally:
        driver.execute_script("localStorage.removeItem('pyrotorrent-theme')")
        driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': []})


def test_views_are_named_for_people_without_duplicates(box):
    web = webapp.client({'t': box['daemon'].url})
    page = web.get('/target/t/').get_data(as_text=True)
    views = re.findall(r'<nav class="views[ "].*?</nav>', page, re.S)[0]
    shown = [html.unescape(re.sub(r'<[^>]+>', '', a)).split()[0] for a in re.findall(r'<a .*?</a>', views, re.S)]
    # rtorrent's own views that name states are left to the sidebar's states, in its words
    assert shown == ['all'], shown
    states = re.findall(r'<nav class="state-counts.*?</nav>', page, re.S)[0]
    assert 'data-state="seeding"' in states and 'data-state="checking"' in states and 'hashing' not in states
    assert '<small>all</small>' in page
    # the duplicate still opens, named as it is, when asked for
    assert 'class="current" aria-current="page">default' in web.get('/target/t/view/default/').get_data(as_text=True)
