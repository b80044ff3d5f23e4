"""Issue 23 in a real browser: the list as an application (top bar, the list owning the
viewport, the filter sidebar with one vocabulary of states, type-to-filter, answers in words
without a reload), and the same pages with script off.

One real rtorrent (its own rig.address()) with 2,000 synthetic stopped torrents and four real
ones in other states, behind pyrotorrent.py --http with a store (the quick limits and the
alternative speeds need one); headless Chromium reads the pages, every outcome is read back
from rtorrent itself.
"""
import os
import re
import urllib.parse

import pytest

from tests import rig, webapp

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SYNTHETIC = 2000
REAL = {'debian-12.iso': dict(start=True, label='linux'), 'notes.txt': dict(start=True, label='docs'),
        'album': dict(start=True, label='music'), 'ubuntu-24.04.iso': dict(start=True, label='linux')}
DESKTOP = (1400, 1000)
# what a notice must never show: internal field names, Python's booleans, a bare info hash
INTERNAL = re.compile(r'\b(alt_enabled|down_limit|up_limit|alt_down_limit|alt_up_limit|True|False|None)\b|[0-9A-F]{40}')


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('appui'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    data = os.path.join(workdir, 'data')
    try:
        labels = ['Films', 'Music', '']
        for i in range(0, SYNTHETIC, 500):
            daemon.load_many(rig.synthetic_torrents(500, start=i, seed='appui'), label=labels[i // 500 % 3])
        hashes = {}
        for i, (name, how) in enumerate(REAL.items()):
            path = rig.make_payload(data, name, 128 * 1024 + i, files=3 if name == 'album' else 1)
            body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', os.path.join(workdir, '%d.torrent' % i),
                                    piece_size_exp=16)
            hashes[name] = daemon.load(body, directory=data, start=how['start'], label=how['label'])
        for name in REAL:
            daemon.wait(lambda: daemon.call('d.complete', hashes[name]) == 1, 30, 'rtorrent to check %s' % name)
        daemon.call('d.pause', hashes['album'])           # started, not active: paused
        daemon.call('d.stop', hashes['notes.txt'])        # checked, then stopped: complete
        daemon.call('d.close', hashes['notes.txt'])
        yield {'daemon': daemon, 'hashes': hashes, 'data': data, 'workdir': workdir}
    finally:
        daemon.stop()


@pytest.fixture(scope='module')
def server(box):
    with webapp.http_server(box['workdir'], {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'STORE': os.path.join(box['workdir'], 'store.sqlite3'),
            'targets': {'t': {'url': box['daemon'].url, 'download_roots': [box['data']]}}}) as url:
        yield url


@pytest.fixture
def script_off(driver):
    driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': True})
    try:
        yield driver
    finally:
        driver.execute_cdp_cmd('Emulation.setScriptExecutionDisabled', {'value': False})


def wait(driver, condition, what, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def open_page(driver, url, size=DESKTOP):
    driver.set_window_size(*size)
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')


def rtorrent_states(daemon):
    """Every torrent's state as rtorrent itself says it, counted in the words of the sidebar:
    the rule written out here again, not the app's own function."""
    rows = daemon.multicall([('d.multicall2', ['', 'main', 'd.state=', 'd.is_active=', 'd.hashing=', 'd.complete=',
                                                 'd.peers_connected=', 'd.message=', 'd.down.rate=', 'd.up.rate='])])[0]
    counts = dict.fromkeys(('downloading', 'seeding', 'paused', 'stopped', 'checking', 'queued', 'complete',
                            'stalled', 'error', 'active'), 0)
    for started, active, hashing, complete, peers, message, down, up in rows:
        state = ('checking' if hashing else ('complete' if complete else 'stopped') if not started
                 else 'paused' if not active else 'seeding' if complete else 'downloading')
        counts[state] += 1
        counts['error'] += bool(message)
        counts['stalled'] += state == 'downloading' and not peers and not message
        counts['active'] += state == 'checking' or (state in ('downloading', 'seeding') and (down > 0 or up > 0))
    return counts


def shown_counts(driver, where):
    return driver.execute_script(
        "var found = {}; document.querySelectorAll(arguments[0] + ' a[data-state]').forEach(function (a) {"
        "  found[a.getAttribute('data-state')] = parseInt(a.querySelector('.count').textContent, 10); });"
        "return found;", where)


def row_names(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#torrents tbody tr[data-hash] td.name a'))"
        ".map(function (a) { return a.textContent; });")


def notices(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#notices p')).map(function (p) {"
        " return p.firstChild ? p.firstChild.textContent.trim() : ''; });")


def mark(driver):
    """A marker that only survives as long as this very document does (no navigation)."""
    driver.execute_script("window.pyrotorrentTestMarker = 'still here';")


def same_document(driver):
    return driver.execute_script(
        "return window.pyrotorrentTestMarker === 'still here' && performance.getEntriesByType('navigation').length === 1")


def test_the_first_row_starts_within_250_px_at_1400_by_1000(driver, server, box):
    open_page(driver, server + '/target/t/')
    top = driver.execute_script("return document.querySelector('#torrents tbody tr[data-hash]').getBoundingClientRect().top")
    total = driver.execute_script("return document.querySelector('p.summary').textContent")
    assert total.startswith('%d of %d' % (SYNTHETIC + len(REAL), SYNTHETIC + len(REAL)))
    assert top <= 250, 'the first torrent row starts %d px down' % top
    # the secondary facts left the list for the settings page
    page = driver.find_element(By.TAG_NAME, 'body').text
    assert box['daemon'].url not in page and 'libTorrent' not in page
    open_page(driver, server + '/target/t/settings')
    about = driver.find_element(By.CSS_SELECTOR, 'dl.about-target').text
    assert 'libTorrent 0.13' in about and box['daemon'].url in about and box['daemon'].download_dir.rstrip('/') in about


def test_the_top_bar_on_every_page_says_the_rates_limits_and_free_space_once(driver, server, box):
    daemon, h = box['daemon'], box['hashes']['album']
    daemon.call('throttle.global_down.max_rate.set_kb', '', 700)
    try:
        for url in ('/', '/target/t/', '/target/t/torrent/%s/' % h, '/target/t/settings'):
            open_page(driver, server + url)
            bar = driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t]')
            assert '≤ 700.0 KiB/s' in bar.text and 'free' in bar.text and 'alt speeds off' in bar.text, (url, bar.text)
            # said once: no other ↓ rate with its limit, no second free space on the page
            assert driver.execute_script("return document.querySelectorAll('[data-figure=down]').length") == 1, url
            assert driver.execute_script("return document.querySelectorAll('[data-status=free]').length") == 1, url
    finally:
        daemon.call('throttle.global_down.max_rate.set_kb', '', 0)


def test_the_sidebar_counts_are_the_front_pages_and_rtorrents_own(driver, server, box):
    for attempt in range(5):                # a tracker's message may arrive meanwhile: read again
        before = rtorrent_states(box['daemon'])
        open_page(driver, server + '/target/t/')
        listed = shown_counts(driver, 'nav.state-counts')
        open_page(driver, server + '/')
        front = shown_counts(driver, '#card-t nav.state-counts')
        if before == rtorrent_states(box['daemon']):
            break
    assert listed == front == before
    assert before['complete'] == 1 and before['paused'] == 1 and before['stopped'] == SYNTHETIC
    words = "return Array.from(document.querySelectorAll(arguments[0])).map(function (a) {" \
            " return a.textContent.replace(a.querySelector('.count').textContent, '').trim(); })"
    front_words = driver.execute_script(words, '#card-t nav.state-counts a[data-state]')
    open_page(driver, server + '/target/t/')
    assert front_words == driver.execute_script(words, 'nav.state-counts a[data-state]')
    assert front_words == ['downloading', 'seeding', 'paused', 'stopped', 'checking', 'queued', 'complete', 'stalled',
                           'with an error', 'active']
    # the labels and trackers with their counts
    labels = driver.find_element(By.CSS_SELECTOR, 'nav[data-live=labels]').text
    assert re.search(r'Films\s+1000\b', labels) and re.search(r'without a label\s+500\b', labels), labels
    assert re.search(r'linux\s+2\b', labels) and re.search(r'docs\s+1\b', labels)
    assert re.search(r'127\.0\.0\.1\s+%d\b' % (SYNTHETIC + len(REAL)), driver.find_element(
        By.CSS_SELECTOR, 'nav[data-live=trackers]').text)


def test_one_click_filters_and_the_url_changes(driver, server, box):
    open_page(driver, server + '/target/t/')
    driver.find_element(By.CSS_SELECTOR, 'nav.state-counts a[data-state=complete]').click()
    wait(driver, lambda d: 'state=complete' in d.current_url, 'the URL to say the state')
    assert row_names(driver) == ['notes.txt']
    driver.find_element(By.CSS_SELECTOR, 'nav[data-live=labels] a[data-label=linux]').click()   # nothing is both
    wait(driver, lambda d: 'label=linux' in d.current_url, 'the URL to say the label')
    assert 'state=complete' in driver.current_url and row_names(driver) == []
    driver.find_element(By.CSS_SELECTOR, 'nav.state-counts a.clear').click()
    wait(driver, lambda d: 'state=' not in d.current_url, 'the state filter to go')
    assert sorted(row_names(driver)) == ['debian-12.iso', 'ubuntu-24.04.iso']
    # a filtered list is a link: opened afresh it shows the same
    url = driver.current_url
    open_page(driver, url)
    assert sorted(row_names(driver)) == ['debian-12.iso', 'ubuntu-24.04.iso']


def test_typing_filters_without_enter_and_the_url_follows(driver, server, box):
    open_page(driver, server + '/target/t/')
    mark(driver)
    assert not driver.find_element(By.CSS_SELECTOR, '[data-find-button]').is_displayed()
    box_ = driver.find_element(By.CSS_SELECTOR, 'input[data-find]')
    box_.send_keys('debian-')                       # the synthetic names say 'Debian ' only
    wait(driver, lambda d: row_names(d) == ['debian-12.iso'], 'the list to follow the typing')
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)['q'] == ['debian-']
    assert driver.find_element(By.CSS_SELECTOR, 'p.summary').text.startswith('1 of %d' % (SYNTHETIC + len(REAL)))
    assert same_document(driver)
    driver.execute_script("arguments[0].value = '';", box_)
    box_.send_keys('ubuntu-')
    wait(driver, lambda d: row_names(d) == ['ubuntu-24.04.iso'], 'the list to follow new typing')
    assert 'q=ubuntu-' in driver.current_url and same_document(driver)
    # the sort links follow the filter (they are part of what the answer merges)
    assert 'q=ubuntu-' in driver.find_element(By.CSS_SELECTOR, '#torrents thead a').get_attribute('href')


def test_an_action_answers_with_a_toast_naming_the_torrents_and_the_counts_follow(driver, server, box):
    daemon, debian, ubuntu = box['daemon'], box['hashes']['debian-12.iso'], box['hashes']['ubuntu-24.04.iso']
    open_page(driver, server + '/target/t/?label=linux')
    mark(driver)
    seeding = shown_counts(driver, 'nav.state-counts')['seeding']
    for h in (debian, ubuntu):
        driver.find_element(By.CSS_SELECTOR, 'input[form=bulk][value="%s"]' % h).click()
    Select(driver.find_element(By.NAME, 'action')).select_by_value('stop')
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    try:
        wait(driver, lambda d: any(n.startswith('Stopped ') for n in notices(d)), 'the toast')
        said = [n for n in notices(driver) if n.startswith('Stopped ')][0]
        assert said in ("Stopped 'debian-12.iso' and 1 more.", "Stopped 'ubuntu-24.04.iso' and 1 more."), said
        assert same_document(driver)
        assert daemon.call('d.state', debian) == 0 and daemon.call('d.state', ubuntu) == 0
        wait(driver, lambda d: shown_counts(d, 'nav.state-counts')['seeding'] == seeding - 2, 'the counts to follow')
        assert shown_counts(driver, 'nav.state-counts')['complete'] == 3
        assert driver.execute_script("return Array.from(document.querySelectorAll('#torrents tr.state-complete'))"
                                     ".length") == 2 and same_document(driver)
        assert not any(INTERNAL.search(n) for n in notices(driver)), notices(driver)
    finally:
        for h in (debian, ubuntu):
            daemon.call('d.start', h)


def test_the_alternative_speeds_switch_shows_its_state_and_answers_in_words(driver, server, box):
    open_page(driver, server + '/target/t/')
    mark(driver)
    switch = 'header.top [data-bar=t] button.toggle'
    assert driver.find_element(By.CSS_SELECTOR, switch).get_attribute('aria-pressed') == 'false'
    driver.find_element(By.CSS_SELECTOR, switch).click()
    try:
        wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, switch).get_attribute('aria-pressed') == 'true',
             'the switch to show alternative speeds on')
        assert 'alt speeds on' in driver.find_element(By.CSS_SELECTOR, switch).text and same_document(driver)
        wait(driver, lambda d: notices(d), 'the toast')
        assert any('alternative speeds on' in n for n in notices(driver)), notices(driver)
        # a limit set from the bar, in words too
        driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t] a[data-quick-limits]').click()
        form = driver.find_element(By.CSS_SELECTOR, 'form[data-quick-form=t]')
        form.find_element(By.NAME, 'down_limit').send_keys('500 KiB/s')
        form.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        wait(driver, lambda d: any('download limit now 500.0 KiB/s' in n for n in notices(d)), 'the limit toast')
        wait(driver, lambda d: '≤ 500.0 KiB/s' in d.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t]').text,
             'the bar to show the limit in force')
        assert box['daemon'].call('throttle.global_down.max_rate') == 500 * 1024
        assert notices(driver) and not any(INTERNAL.search(n) for n in notices(driver)), notices(driver)
        # a bad value: what to do, in words
        driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t] a[data-quick-limits]').click()
        form.find_element(By.NAME, 'down_limit').send_keys('fast')
        form.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        wait(driver, lambda d: any('Nothing was changed' in n for n in notices(d)), 'the refusal')
        refusal = [n for n in notices(driver) if 'Nothing was changed' in n][0]
        assert 'limit' in refusal.lower() and not INTERNAL.search(refusal), refusal
        assert same_document(driver)
    finally:
        web = webapp.client({'t': box['daemon'].url}, STORE=os.path.join(box['workdir'], 'store.sqlite3'))
        token = webapp.csrf_token(web.get('/target/t/').get_data(as_text=True))
        web.post('/target/t/limits', data={'csrf_token': token, 'alt_enabled': 'off'})
        web.post('/target/t/limits', data={'csrf_token': token, 'down_limit': '0'})


def test_with_script_off_the_sidebar_the_find_button_and_an_action_still_work(script_off, server, box):
    driver, daemon, notes = script_off, box['daemon'], box['hashes']['notes.txt']
    open_page(driver, server + '/target/t/')
    assert driver.find_element(By.CSS_SELECTOR, '[data-find-button]').is_displayed()
    driver.find_element(By.CSS_SELECTOR, 'input[data-find]').send_keys('notes')
    driver.find_element(By.CSS_SELECTOR, '[data-find-button]').click()
    wait(driver, lambda d: 'q=notes' in d.current_url, 'the Find button to filter')
    assert row_names(driver) == ['notes.txt']
    driver.find_element(By.CSS_SELECTOR, 'nav.state-counts a[data-state=complete]').click()
    wait(driver, lambda d: 'state=complete' in d.current_url and 'q=notes' in d.current_url, 'a state link')
    driver.find_element(By.CSS_SELECTOR, 'input[form=bulk][value="%s"]' % notes).click()
    Select(driver.find_element(By.NAME, 'action')).select_by_value('start')
    driver.find_element(By.CSS_SELECTOR, '#bulk button[type=submit]').click()
    try:
        wait(driver, lambda d: "Started 'notes.txt'." in notices(d), 'the message after the redirect')
        assert daemon.call('d.state', notes) == 1
        assert 'q=notes' in driver.current_url           # back where the user was
        # the alternative speeds switch is a plain form too
        driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t] button.toggle').click()
        wait(driver, lambda d: any('alternative speeds on' in n for n in notices(d)), 'the switch message')
        assert driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t] button.toggle').get_attribute(
            'aria-pressed') == 'true'
        assert not any(INTERNAL.search(n) for n in notices(driver)), notices(driver)
        driver.find_element(By.CSS_SELECTOR, 'header.top [data-bar=t] button.toggle').click()
        wait(driver, lambda d: any('alternative speeds off' in n for n in notices(d)), 'the switch off')
    finally:
        daemon.call('d.stop', notes)
        daemon.call('d.close', notes)


def test_a_phone_gets_the_sidebar_as_a_drawer(driver, server, box):
    open_page(driver, server + '/target/t/', (390, 844))
    assert not driver.execute_script("return document.querySelector('[data-sidebar]').open")
    top = driver.execute_script("return document.querySelector('#torrents tbody tr[data-hash]').getBoundingClientRect().bottom")
    assert top <= 844
    driver.find_element(By.CSS_SELECTOR, '[data-sidebar] > summary').click()
    assert driver.find_element(By.CSS_SELECTOR, 'nav.state-counts a[data-state=paused]').is_displayed()
