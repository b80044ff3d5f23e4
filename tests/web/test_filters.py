"""Issue 16, items 5 and 9: the list's tracker filter with counts (beside the label
filter), the columns a user chooses (kept per user in the store, or per browser
session), "Checked x %" in a row during a hash check, and in Chromium: a filter applies on
choosing, and the live-problem banner and the sticky bulk bar are both visible.

Real rtorrent daemons loaded with torrents of different announce URLs; the
expected counts come from what was loaded, the answers from the pages.
"""
import collections
import html
import os
import re
import sqlite3

import pytest

from lib import auth
from lib.store import MIGRATIONS, SCHEMA_VERSION, Store
from model.clients.types import COLUMNS
from tests import rig, webapp

# announce URL -> (how many torrents, the label of the first `labelled` of them, labelled)
LOADS = [
    ('http://tracker.alpha.example:6969/announce', 5, 'music', 2),
    ('https://bt.beta.example/announce?passkey=x', 3, 'music', 1),
    ('http://tr2.alpha.example/announce', 2, 'films', 2),     # the same domain as the first
    ('http://127.0.0.1:1/announce', 2, None, 0),
]
DOMAIN = {LOADS[0][0]: 'alpha.example', LOADS[1][0]: 'beta.example', LOADS[2][0]: 'alpha.example',
          LOADS[3][0]: '127.0.0.1'}
PASSWORDS = {'ada': 'ada-password-1', 'bob': 'bob-password-2'}


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('filters')
    daemon, workdir = made.daemon, made.workdir
    torrents = {}           # hash -> (domain, label)
    start = 0
    for url, n, label, labelled in LOADS:
        bodies = rig.synthetic_torrents(n, start=start, seed=16, announce_url=url)
        start += n
        for i, body in enumerate(bodies):
            h = daemon.load(body, start=False, label=label if i < labelled else None)
            torrents[h] = (DOMAIN[url], label if i < labelled else '')
    # one torrent whose tracker has no host (rtorrent 0.9.8 refuses one with no tracker)
    h = daemon.load(rig.synthetic_torrents(1, start=start, seed=16, announce_url='http:///announce')[0],
                    start=False)
    torrents[h] = ('', '')
    return {'daemon': daemon, 'torrents': torrents, 'workdir': workdir, 'box': made}


def web_for(box, **settings):
    return box['box'].web(**settings)


def api(web, **args):
    answer = web.get('/api/target/t/torrents', query_string=dict(args, per_page=1000))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json


def options(page, name):
    """{value: 'text (count)'} of the sidebar's links of labels or trackers of a page."""
    group = re.search(r'<nav class="side-group" aria-label="%ss".*?</nav>' % name, page, re.S).group(0)
    return {html.unescape(v): '%s (%s)' % (' '.join(html.unescape(t).split()), n) for v, t, n in re.findall(
        r'<a href="[^"]*" data-%s="([^"]*)"[^>]*>([^<]*)<span class="count">(\d+)</span></a>' % name, group)}


def test_tracker_counts_match_the_torrents_loaded(box):
    expected = collections.Counter(domain for domain, _ in box['torrents'].values())
    assert expected['alpha.example'] == 7 and expected[''] == 1
    web = web_for(box)
    assert api(web)['trackers'] == dict(expected)
    shown = options(web.get('/target/t/').get_data(as_text=True), 'tracker')
    for domain, count in expected.items():
        if domain:
            assert shown[domain] == '%s (%d)' % (domain, count)
    assert shown[''] == 'without a tracker (1)'
    # labels have counts too, "without label" among them
    labels = collections.Counter(label for _, label in box['torrents'].values())
    shown = options(web.get('/target/t/').get_data(as_text=True), 'label')
    assert shown['music'] == 'music (%d)' % labels['music'] and shown['films'] == 'films (2)'
    assert shown[''] == 'without a label (%d)' % labels['']


def test_filtering_by_tracker_gives_exactly_those_torrents(box):
    web = web_for(box)
    for domain in ('alpha.example', 'beta.example', '127.0.0.1', ''):
        want = {h for h, (d, _) in box['torrents'].items() if d == domain}
        got = api(web, tracker=domain)
        assert {t['hash'] for t in got['torrents']} == want and got['total'] == len(want), domain
        page = web.get('/target/t/', query_string={'tracker': domain}).get_data(as_text=True)
        assert {r['hash'] for r in webapp.Rows(page).rows} == want
    assert api(web, tracker='ALPHA.example ')['total'] == 7          # as people type it
    nothing = web.get('/target/t/?tracker=nowhere.example').get_data(as_text=True)
    assert webapp.Rows(nothing).rows == [] and 'No torrents here.' in nothing
    assert options(nothing, 'tracker')['nowhere.example'] == 'nowhere.example (0)'
    bad = web.get('/target/t/?tracker=a%0Ab')
    assert bad.status_code == 400 and 'A tracker name cannot hold control characters' in html.unescape(
        bad.get_data(as_text=True))


def test_tracker_combines_with_label_view_and_search_and_is_kept_across_pages_and_sorting(box):
    web = web_for(box)
    for domain, label in (('alpha.example', 'music'), ('alpha.example', 'films'), ('alpha.example', ''),
                          ('beta.example', 'music'), ('beta.example', 'films')):
        want = {h for h, dl in box['torrents'].items() if dl == (domain, label)}
        got = api(web, tracker=domain, label=label)
        assert {t['hash'] for t in got['torrents']} == want, (domain, label)
    assert api(web, tracker='alpha.example', label='films')['total'] == 2
    # a name search on top: the synthetic names hold their index ('synthetic-00005 ...' is beta's first)
    got = api(web, tracker='beta.example', q='synthetic-00005')
    assert [t['name'][:15] for t in got['torrents']] == ['synthetic-00005']
    assert api(web, tracker='alpha.example', q='synthetic-00005')['total'] == 0
    assert api(web, tracker='alpha.example', view='main')['total'] == 7
    web = web_for(box, PAGE_SIZE=1)
    page = web.get('/target/t/?tracker=alpha.example&label=music').get_data(as_text=True)
    links = [html.unescape(u) for u in re.findall(r'href="(/target/t/\?[^"]+)"', page)]
    sorting = [u for u in links if 'sort=size' in u]
    paging = [u for u in links if 'page=2' in u]
    assert sorting and all('tracker=alpha.example' in u and 'label=music' in u for u in sorting)
    assert paging and all('tracker=alpha.example' in u and 'label=music' in u for u in paging)
    second = web.get(paging[0]).get_data(as_text=True)
    first_rows, second_rows = webapp.Rows(page).rows, webapp.Rows(second).rows
    assert len(first_rows) == len(second_rows) == 1 and first_rows[0]['hash'] != second_rows[0]['hash']
    # the bulk bar comes back to the same filtered list
    assert 'name="next" value="/target/t/?tracker=alpha.example&amp;label=music"' in page


def test_a_torrent_added_or_removed_after_a_page_is_counted_with_its_tracker(box):
    """Tracker domains are kept by info hash in the process: a torrent it has not seen is
    asked for (the few by hash, many in one view call), a removed one leaves the counts."""
    daemon, web = box['daemon'], web_for(box)
    before = api(web)['trackers']
    bodies = rig.synthetic_torrents(2, start=100, seed=16, announce_url='http://x.gamma.example.org/a')
    new = [daemon.load(body, start=False) for body in bodies]
    try:
        after = api(web)['trackers']
        assert after == dict(before, **{'example.org': 2})
        assert {t['hash'] for t in api(web, tracker='example.org')['torrents']} == set(new)
        from model.clients.rtorrent import queries
        queries.FEW_UNKNOWN, few = 0, queries.FEW_UNKNOWN       # many unknown: one call over the view
        try:
            assert api(web_for(box))['trackers'] == after
        finally:
            queries.FEW_UNKNOWN = few
    finally:
        for h in new:
            daemon.call('d.erase', h)
    assert api(web)['trackers'] == before


def test_a_live_refresh_of_a_tracker_filtered_list_keeps_its_rows(box):
    web = web_for(box)
    page = web.get('/target/t/?tracker=beta.example').get_data(as_text=True)
    known = html.unescape(re.search(r'data-live-showing="([^"]*)"', page).group(1))
    fresh = web.get('/target/t/?tracker=beta.example', headers={'X-Requested-With': 'refresh',
                                                                'X-Live-Showing': known}).get_data(as_text=True)
    want = {h for h, (d, _) in box['torrents'].items() if d == 'beta.example'}
    assert {r['hash'] for r in webapp.Rows(fresh).rows} == want
    assert '3 of %d torrents' % len(box['torrents']) in webapp.page_text(fresh)


def test_a_row_being_checked_shows_checked_percent(box, tmp_path):
    """As on the torrent page (test_torrent_page): 256 MiB, so the check takes a while."""
    daemon, data = box['daemon'], str(tmp_path / 'big')
    payload = rig.make_payload(data, 'big.bin', 256 * 1024 * 1024)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'big.torrent')),
                    directory=data, start=False)
    web = web_for(box)
    seen = []
    try:
        for _ in range(3):
            daemon.call('d.check_hash', h)
            while True:
                page = web.get('/target/t/', query_string={'q': 'big.bin'}).get_data(as_text=True)
                row = [r for r in webapp.Rows(page).rows if r['hash'] == h]
                found = re.search(r'<progress class="check" max="1" value="([0-9.]+)"></progress> '
                                  r'<span>Checked ([0-9.]+) %</span>', page)
                if found:
                    seen.append(float(found.group(1)))
                    assert row and row[0]['cells'][2].startswith('Checked ')
                    assert 'checking' in row[0]['cells']
                if daemon.call('d.hashing', h) == 0 and not found:
                    break
            if any(0 < f < 1 for f in seen):
                break
        assert any(0 < f < 1 for f in seen), seen
        page = web.get('/target/t/', query_string={'q': 'big.bin'}).get_data(as_text=True)
        assert 'Checked' not in page and re.search(r'<td class="done"><progress max="1" value="1.0000">', page)
    finally:
        daemon.call('d.erase', h)
        os.unlink(payload)


def headers(page):
    head = re.search(r'<thead[^>]*>.*?</thead>', page, re.S).group(0)
    return [html.unescape(re.sub('<[^>]+>', '', th)).strip() for th in re.findall(r'<th[^>]*>(.*?)</th>', head, re.S)]


def choose_columns(web, columns, next_url='/target/t/?sort=size&order=desc'):
    token = webapp.csrf_token(web.get('/target/t/').get_data(as_text=True))
    return web.post('/columns', data={'csrf_token': token, 'column': columns, 'next': next_url})


def test_chosen_columns_persist_across_logins_for_that_user_only(box, tmp_path):
    store = str(tmp_path / 'store.sqlite3')
    users = {name: {'password': auth.hash_password(pw), 'role': 'viewer' if name == 'bob' else 'user'}
             for name, pw in PASSWORDS.items()}
    settings = dict(STORE=store, users=users)
    web = web_for(box, **settings)
    assert webapp.login(web, 'ada', PASSWORDS['ada']).status_code == 303
    answer = choose_columns(web, ['size', 'state', 'ratio'])
    assert answer.status_code == 303 and answer.headers['Location'] == '/target/t/?sort=size&order=desc'
    page = web.get(answer.headers['Location']).get_data(as_text=True)
    assert 'The list shows Name, Size, State, Ratio, kept for your account.' in html.unescape(page)
    assert headers(page)[1:] == ['Name', 'Size', 'State', 'Ratio']       # after the select-all box
    rows = webapp.Rows(page).rows
    assert rows and all(len(r['cells']) == 4 for r in rows)
    sizes = [r['cells'][1] for r in rows]
    assert len(set(sizes)) > 1                                # the size column holds sizes, sorted
    # sorting by a hidden column and a live refresh still work, with the same cells
    by_eta = web.get('/target/t/?sort=eta')
    assert by_eta.status_code == 200 and headers(by_eta.get_data(as_text=True))[1:] == ['Name', 'Size', 'State', 'Ratio']
    fresh = web.get('/target/t/?sort=size&order=desc', headers={'X-Requested-With': 'refresh'}).get_data(as_text=True)
    assert [len(r['cells']) for r in webapp.Rows(fresh).rows] == [4] * len(rows)
    # the front page lists only what is active now (nothing here): no table of torrents
    assert '<thead>' not in web.get('/').get_data(as_text=True)

    token = webapp.csrf_token(page)
    web.post('/logout', data={'csrf_token': token})
    again = web_for(box, **settings)                          # another browser, a new app
    assert webapp.login(again, 'ada', PASSWORDS['ada']).status_code == 303
    assert headers(again.get('/target/t/').get_data(as_text=True))[1:] == ['Name', 'Size', 'State', 'Ratio']
    other = web_for(box, **settings)
    assert webapp.login(other, 'bob', PASSWORDS['bob']).status_code == 303
    assert headers(other.get('/target/t/').get_data(as_text=True)) == list(COLUMNS.values())
    # a viewer may choose too; the name cannot be taken away
    choose_columns(other, [])
    assert headers(other.get('/target/t/').get_data(as_text=True)) == ['Name']
    assert headers(again.get('/target/t/').get_data(as_text=True))[1:] == ['Name', 'Size', 'State', 'Ratio']
    with sqlite3.connect(store) as db:
        kept = dict(db.execute('SELECT user_name, value FROM user_pref WHERE name = ?', ('columns',)).fetchall())
    assert kept == {'ada': '["name", "size", "state", "ratio"]', 'bob': '["name"]'}


def test_columns_without_users_are_kept_per_browser_session_and_bad_ones_refused(box, tmp_path):
    web = web_for(box, STORE=str(tmp_path / 'store.sqlite3'))
    answer = choose_columns(web, ['done', 'label'])
    assert answer.status_code == 303
    page = web.get('/target/t/').get_data(as_text=True)
    assert 'kept for this browser session' in page and headers(page)[1:] == ['Name', 'Done', 'Label']
    assert headers(web_for(box, STORE=str(tmp_path / 'store.sqlite3')).get('/target/t/').get_data(as_text=True))[1:] \
        == list(COLUMNS.values())
    bad = choose_columns(web, ['size', 'd.erase'])
    assert bad.status_code == 400
    assert "There is no column 'd.erase'" in html.unescape(bad.get_data(as_text=True))
    assert headers(web.get('/target/t/').get_data(as_text=True))[1:] == ['Name', 'Done', 'Label']   # unchanged
    token = webapp.csrf_token(page)
    assert web.post('/columns', data={'column': ['size']}).status_code == 403                # no token
    assert web.post('/columns', data={'column': ['size'], 'csrf_token': token, 'next': '//evil.example/'}
                    ).headers['Location'] == '/'


def store_rows(store):
    with store.transaction(write=False) as tx:
        return {table: sorted(tx.execute('SELECT * FROM %s' % table), key=repr)
                for table in tx.engine.tables(tx.db) if table != 'schema_version'}


@pytest.mark.parametrize('engine', ['sqlite', 'postgresql'])
def test_a_store_at_version_3_migrates_to_4_keeping_every_row(engine, tmp_path, monkeypatch, request):
    url = (str(tmp_path / 'v3.sqlite3') if engine == 'sqlite'
           else request.getfixturevalue('postgres').database('filters_v3'))
    import lib.store.migrations
    assert SCHEMA_VERSION == 4 and len(MIGRATIONS) == 4
    monkeypatch.setattr(lib.store.migrations, 'SCHEMA_VERSION', 3)         # what the last release made
    old = Store.open(url)
    assert old.version() == 3 and 'user_pref' not in store_rows(old)
    old.put_values('t', 'desired', {'down_limit': 1024, 'name': 'Zürich'}, set_by='ada', now=1.5)
    old.run([("INSERT INTO event (target, event_key, seq, at, kind, detail) VALUES (?, ?, ?, ?, ?, ?)",
              ('t', 'k1', 1, 2.0, 'added', '{}')),
             ("INSERT INTO seen (target, item, data, seen_at) VALUES (?, ?, ?, ?)", ('t', 'H', '{}', 3.0))])
    before = store_rows(old)
    assert sum(len(rows) for rows in before.values()) >= 4
    old.close()
    monkeypatch.setattr(lib.store.migrations, 'SCHEMA_VERSION', 4)
    store = Store.open(url)
    assert store.version() == 4
    after = store_rows(store)
    assert after.pop('user_pref') == [] and after == before
    store.put_preference('ada', 'columns', ['name', 'size'])
    store.put_preference('ada', 'columns', ['name', 'eta'])
    assert store.preference('ada', 'columns') == ['name', 'eta'] and store.preference('bob', 'columns') is None
    store.close()


# -- in Chromium -------------------------------------------------------------------------

@pytest.fixture(scope='module')
def server(box):
    with webapp.http_server(box['workdir'], {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': {'t': {'url': box['daemon'].url}}}) as url:
        yield url


def wait(driver, condition, what, seconds=15):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
                         ).until(lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def test_one_click_on_a_label_or_tracker_filters_keeping_the_sort(driver, server, box):
    from selenium.webdriver.common.by import By
    driver.set_window_size(1280, 900)
    driver.get(server + '/target/t/?sort=size&order=desc')
    driver.find_element(By.CSS_SELECTOR, 'a[data-label=films]').click()
    wait(driver, lambda d: 'label=films' in d.current_url, 'the list of label films')
    assert 'sort=size' in driver.current_url and 'order=desc' in driver.current_url
    driver.find_element(By.CSS_SELECTOR, 'a[data-tracker="alpha.example"]').click()
    wait(driver, lambda d: 'tracker=alpha.example' in d.current_url, 'the list of tracker alpha.example')
    assert 'label=films' in driver.current_url
    hashes = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('#torrents tbody tr[data-hash]')).map(r => r.dataset.hash)"))
    assert hashes == {h for h, dl in box['torrents'].items() if dl == ('alpha.example', 'films')}


def test_the_live_problem_banner_and_the_sticky_bulk_bar_are_both_visible(driver, tmp_path):
    """A target of 60 torrents that goes down: scrolled down a short window, the banner
    and the bulk bar are both on the screen, one below the other (rects from the DOM)."""
    daemon = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    try:
        daemon.load_many(rig.synthetic_torrents(60, seed=17))
        with webapp.http_server(str(tmp_path), {
                'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
                'users': {'ada': {'password': auth.hash_password('ada-password-1'), 'role': 'user'}},
                'targets': {'t': {'url': daemon.url, 'timeout': 2}}}) as url:
            driver.set_window_size(1280, 600)
            driver.get(url + '/login?next=/torrent/target/t/')
            driver.find_element('name', 'name').send_keys('ada')
            driver.find_element('name', 'password').send_keys('ada-password-1')
            driver.find_element('css selector', 'form.login button[type=submit]').click()
            wait(driver, lambda d: d.find_elements('id', 'bulk'), 'the list with its bulk bar')
            daemon.stop()
            wait(driver, lambda d: d.find_elements('id', 'live-problem'), 'the banner', seconds=20)
            driver.execute_script('window.scrollTo(0, document.body.scrollHeight / 2)')
            rects = wait(driver, lambda d: d.execute_script("""
                var b = document.getElementById('live-problem'), bar = document.getElementById('bulk');
                if (!b || !bar || window.scrollY < 200) return null;
                var r = b.getBoundingClientRect(), s = bar.getBoundingClientRect(),
                    th = document.querySelector('#torrents thead th').getBoundingClientRect();
                return [r.top, r.bottom, s.top, s.bottom, th.top, window.innerHeight, window.scrollY];
            """), 'the page scrolled with the banner')
            top, bottom, bar_top, bar_bottom, th_top, height, _ = rects
            assert 0 <= top < bottom <= height, rects                  # the banner on the screen
            assert bottom - 0.5 <= bar_top < bar_bottom <= height, rects   # the bar below it, not over it
            assert th_top >= bar_bottom - 0.5, rects                   # and the table's head below the bar
            assert 'Not up to date' in driver.find_element('id', 'live-problem').text
    finally:
        daemon.stop()


def test_transmission_trackers_are_counted_and_filtered_from_torrent_get(tmp_path):
    """torrent-get's `trackers` field, the first of each torrent, through the same domains."""
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        want = {}
        for i, url in enumerate(['http://tracker.alpha.example:6969/announce', 'http://tr2.alpha.example/a',
                                 'https://bt.beta.example/announce']):
            body = rig.synthetic_torrents(1, start=200 + i, seed=16, announce_url=url)[0]
            want[daemon.add(body, paused=True).upper()] = 'beta.example' if 'beta' in url else 'alpha.example'
        web = webapp.client({'tr': {'url': daemon.url, 'client': 'transmission'}})
        answer = web.get('/api/target/tr/torrents?per_page=100').json
        assert answer['trackers'] == dict(collections.Counter(want.values()))
        beta = web.get('/api/target/tr/torrents?tracker=beta.example').json
        assert [t['hash'] for t in beta['torrents']] == [h for h, d in want.items() if d == 'beta.example']
        page = web.get('/target/tr/?tracker=alpha.example').get_data(as_text=True)
        assert {r['hash'] for r in webapp.Rows(page).rows} == {h for h, d in want.items() if d == 'alpha.example'}
        assert options(page, 'tracker')['alpha.example'] == 'alpha.example (2)'
    finally:
        daemon.stop()


def test_a_hostile_tracker_host_is_shown_escaped_and_filters_as_text(box):
    daemon, web = box['daemon'], web_for(box)
    url = 'http://"><img src=x onerror=alert(1)>.evil/announce'
    h = daemon.load(rig.synthetic_torrents(1, start=300, seed=16, announce_url=url)[0], start=False)
    try:
        page = web.get('/target/t/').get_data(as_text=True)
        assert '<img' not in page                    # escaped wherever it shows
        shown = [value for value in options(page, 'tracker') if '<img' in value]
        domain = [d for d in api(web)['trackers'] if '<img' in d]
        assert len(shown) == 1 and shown == domain
        got = api(web, tracker=domain[0])
        assert [t['hash'] for t in got['torrents']] == [h]
    finally:
        daemon.call('d.erase', h)
