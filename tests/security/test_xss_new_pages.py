"""Stored XSS on the pages added since tests/test_xss.py: settings, statistics (its SVG
charts and tables, one target and all), schedule, rules, events and the front page, with a
real rtorrent holding a torrent whose name, label and tracker message are markup, a rule
named with markup that fired on it, events a real worker tick recorded, and statistics
whose label and tracker are markup.  The raw HTML must hold them escaped (the CSP must not
be what saves us), and headless Chromium must run none of them.

Speed group and schedule profile names cannot hold markup at all: lib/names.check() with
model/settings.GROUP_CHARACTER and model/schedule.PROFILE_CHARACTER refuses anything but
letters, digits and a few signs."""
import os
import time

import pytest

from lib.store import Store
from model import rules, tasks
from model.clients.rtorrent import RTorrent
from model.stats import Policy, Sampler, time_zone
from tests import rig, webapp
from tests.browser import DOM_CHECK, open_page
from tests.fakes import Totals
from tests.webapp import MARKUP

NAME = '"><svg onload=window.__xss=31> <img src=x onerror=window.__xss=32>'
LABEL = '</script><script>window.__xss=33</script><img src=x onerror=window.__xss=34>'
MESSAGE = "'><img src=x onerror=window.__xss=35>"
RULE = '"><svg onload=window.__xss=36>'
TRACKER = 'http://"><img src=x onerror=window.__xss=37>/announce'
STATS_LABEL = '"><img src=x onerror=window.__xss=38>'
LINK = 'javascript:window.__xss=39'
PAGES = ['/', '/stats/', '/target/x/stats/', '/target/x/settings', '/target/x/schedule', '/target/x/rules',
         '/target/x/events', '/target/x/']


@pytest.fixture(scope='module')
def hostile(make_box):
    made = make_box('xss-new')
    daemon, workdir = made.daemon, made.workdir
    store = Store.open(os.path.join(workdir, 'store.sqlite3'))
    backend = RTorrent(daemon.url, name='x')
    tasks.tick(store, backend)                             # the worker's first look: a baseline
    data = os.path.join(workdir, 'data')
    payload = rig.make_payload(data, NAME, 32 * 1024)
    torrent = rig.make_torrent(payload, 'http://127.0.0.1:1/announce', os.path.join(workdir, 'x.torrent'),
                               comment=LINK)
    info_hash = daemon.load(torrent, directory=data, start=False, label=LABEL)
    daemon.call('d.message.set', info_hash, MESSAGE)
    rules.save(store, 'x', rules.validate_all([
        {'name': RULE, 'match': {'label': LABEL}, 'when': {'event': 'added'}, 'do': {'label': LABEL + 'x'}},
        {'name': LINK, 'match': {'all': True}, 'when': {'ratio': 5}, 'do': 'stop'}],
        rules.Context(backend.snapshot())), 'test')
    tasks.tick(store, backend)                             # sees it added; the rule fires
    box, sampler = Totals('x'), Sampler(store, Policy(seconds=60, zone=time_zone('UTC')))
    box.add('B' * 40, label=STATS_LABEL, tracker=TRACKER)
    t = time.time() - 600
    sampler.sample(box, now=t)
    for n in range(1, 6):
        box.move('B' * 40, up=1000, down=10 ** 6)
        sampler.sample(box, now=t + 60 * n)
    return daemon, store.path, info_hash


def test_every_new_page_holds_the_markup_escaped(hostile):
    daemon, path, info_hash = hostile
    web = webapp.client({'x': daemon.url}, STORE=path, TIME_ZONE='UTC')
    events = web.get('/api/target/x/events').json['events']
    assert {'added', 'rule'} <= {e['kind'] for e in events}, events
    for page in PAGES:
        answer = web.get(page)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, (page, answer.status_code, html[:300])
        assert not MARKUP.search(html), (page, MARKUP.search(html).group(0))
        assert 'href="javascript:' not in html.lower(), page
    csv = web.get('/target/x/stats.csv?by=label')        # markup there is data: never sniffed as HTML
    assert csv.mimetype == 'text/csv' and csv.headers['X-Content-Type-Options'] == 'nosniff'
    assert csv.headers['Content-Disposition'].startswith('attachment;')
    shown = webapp.page_text(web.get('/target/x/rules').get_data(as_text=True))
    assert ' '.join(RULE.split()) in shown and ' '.join(LABEL.split()) in shown
    assert ' '.join(STATS_LABEL.split()) in webapp.page_text(web.get('/target/x/stats/').get_data(as_text=True))
    # a rule form sent back with markup in every field is shown escaped too
    token = webapp.csrf_token(web.get('/target/x/rules').get_data(as_text=True))
    form = {'csrf_token': token, 'rule_name': RULE, 'match': 'label', 'match_value': LABEL, 'when': 'ratio',
            'when_value': NAME, 'do': 'label', 'do_value': MESSAGE, 'preview': '1'}
    answer = web.post('/target/x/rules', data=form)
    assert answer.status_code in (200, 400) and not MARKUP.search(answer.get_data(as_text=True))


pytest.importorskip('selenium.webdriver')


@pytest.fixture(scope='module')
def server(hostile, tmp_path_factory):
    daemon, path, _ = hostile
    with webapp.http_server(str(tmp_path_factory.mktemp('xss-new-http')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1, 'STORE': path,
            'TIME_ZONE': 'UTC', 'targets': {'x': {'url': daemon.url}}}) as url:
        yield url


def test_no_payload_runs_on_the_new_pages_in_a_real_browser(hostile, server, driver):
    for page in PAGES:
        open_page(driver, server + page)
        time.sleep(1.5)                 # a live refresh (REFRESH_SECONDS = 1) merges fresh parts in
        seen = driver.execute_script(DOM_CHECK)
        assert seen['xss'] is None and seen['injected'] == 0, (page, seen)
    open_page(driver, server + '/target/x/rules')
    assert RULE in driver.execute_script(DOM_CHECK)['text']
