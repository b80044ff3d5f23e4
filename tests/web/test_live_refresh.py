"""What a live page's refresh costs rTorrent, counted in round trips against a real daemon:
one round trip when the page's order and membership cannot have changed, shared by every
viewer; the whole list when they can; a page load always asks afresh."""
import html
import re
import threading
import time
import xmlrpc.client

import pytest

from werkzeug.test import Client

from lib import bencode
from lib.metafile import is_info_hash
from tests import rig
from model.clients.types import ListQuery
from tests.webapp import RoundTrips, Rows, backends, client, page_text

REFRESH = {'X-Requested-With': 'refresh'}
KNOWN = re.compile(r'data-live-showing="([^"]*)"')


@pytest.fixture(scope='module')
def daemon(make_box):
    """An rtorrent of its own with 30 stopped torrents: adding to it touches no
    other test's lists."""
    d = make_box('live-refresh').daemon
    d.load_many(rig.synthetic_torrents(30, seed='live-refresh'))
    return d


def live_client(daemon, **settings):
    settings.setdefault('REFRESH_SECONDS', 5)
    return client({'box': daemon.url}, PAGE_SIZE=10, **settings)


def known(page):
    return ' '.join(html.unescape(k) for k in KNOWN.findall(page) if k)


def refresh(web, url, page=None):
    headers = dict(REFRESH)
    if page is not None:
        headers['X-Live-Showing'] = known(page)
    return web.get(url, headers=headers)


def test_a_refresh_sorted_by_name_is_one_round_trip_for_the_header_and_the_rows_shown(daemon):
    for url in ('/target/box/', '/target/box/?sort=size&order=desc', '/target/box/?sort=added&page=2',
                '/target/box/?q=synthetic-0001'):
        web = live_client(daemon)
        page = web.get(url).get_data(as_text=True)
        trips = RoundTrips(web)
        answer = refresh(web, url, page)
        assert answer.status_code == 200
        assert trips.calls == {'box': 1}, url
        fresh = answer.get_data(as_text=True)
        # the same rows in the same order, their figures filled in; names not asked again
        assert [r['hash'] for r in Rows(fresh).rows] == [r['hash'] for r in Rows(page).rows]
        if 'sort=added' not in url:        # sorted by date added, names come along (below)
            assert fresh.count('class="name" data-live-keep') == len(Rows(page).rows)
        assert re.search(r'<nav class="side-group"[^>]* data-live="labels" data-live-keep>', fresh)
        assert re.search(r'<nav class="side-group"[^>]* data-live="trackers" data-live-keep>', fresh)
        assert re.search(r'<nav class="state-counts[^>]* data-live="states" data-live-keep>', fresh)
        summary = re.compile(r'<p class="summary"[^>]*>(.*?)</p>', re.S)
        assert summary.search(fresh).group(1) == summary.search(page).group(1)
        # ... and it says the same thing about itself, for the next refresh
        assert known(fresh) == known(page)


def test_a_refresh_sorted_by_a_moving_figure_fetches_the_whole_list(daemon):
    web = live_client(daemon)
    trips = RoundTrips(web)
    page = web.get('/target/box/?sort=down&order=desc').get_data(as_text=True)
    trips.reset()
    fresh = refresh(web, '/target/box/?sort=down&order=desc', page).get_data(as_text=True)
    assert trips.calls == {'box': 2}
    assert 'data-live-keep' not in fresh


class Commands:
    """The commands each request to the backends names (a system.multicall's inner ones)."""

    def __init__(self, test_client):
        self.sent, self.named = [], []      # per request: the commands; the torrents they name
        for backend in backends(test_client).values():
            real = backend.transport.request

            def request(body, real=real):
                params, method = xmlrpc.client.loads(body)
                inner = params[0] if method == 'system.multicall' else [{'methodName': method, 'params': params}]
                self.sent.append([c['methodName'] for c in inner])
                self.named.append({c['params'][0] for c in inner if c['params'] and isinstance(c['params'][0], str) and is_info_hash(c['params'][0])})
                return real(body)
            backend.transport.request = request


@pytest.mark.parametrize('order', ['desc', 'asc'])
def test_a_refresh_newest_first_is_one_pass_over_the_view_with_no_hash_lookup(daemon, order):
    url = '/target/box/?sort=added&order=%s' % order
    web = live_client(daemon)
    page = web.get(url).get_data(as_text=True)
    sent = Commands(web)
    fresh = refresh(web, url, page).get_data(as_text=True)
    assert len(sent.sent) == 1
    if order == 'desc':         # the newest: deepest in rtorrent's list, where a lookup costs most
        assert 'd.multicall.filtered' in sent.sent[0] and 'branch' not in sent.sent[0]
        assert [r for r in Rows(fresh).rows] == [r for r in Rows(page).rows]     # names, figures, order
    else:                       # the oldest: the first of its list, a lookup each is cheaper
        assert 'd.multicall.filtered' not in sent.sent[0] and sent.sent[0].count('branch') == 10
        assert [r['hash'] for r in Rows(fresh).rows] == [r['hash'] for r in Rows(page).rows]
    assert 'data-live-keep' in fresh and known(fresh) == known(page)


def newest_first(web, page=None):
    url = '/target/box/?sort=added&order=desc'
    return (refresh(web, url, page) if page else web.get(url)).get_data(as_text=True)


def test_a_torrent_added_or_removed_by_another_client_shows_in_the_newest_first_refresh(daemon):
    web = live_client(daemon, REFRESH_SECONDS=1)       # an answer is kept 0.9 s
    page = newest_first(web)
    added = other = None
    total = daemon.call('view.size', '', 'main')
    time.sleep(1.1)                     # d.load_date counts seconds: the new one is the newest
    added = daemon.load(rig.synthetic_torrents(1, start=700, seed='live-refresh')[0], start=False)
    try:
        fresh = newest_first(web, page)
        rows = [r['hash'] for r in Rows(fresh).rows]
        assert rows[0] == added and rows[1:] == [r['hash'] for r in Rows(page).rows][:-1]
        assert '%d of %d torrents' % (total + 1, total + 1) in page_text(fresh)
        # one added and one not shown removed within an interval: the view's size is the
        # same, the newest-first rows still change (the next interval's refresh)
        oldest = sorted(set(daemon.hashes()) - set(rows))[0]      # not on the page
        time.sleep(1.1)
        other = daemon.load(rig.synthetic_torrents(1, start=701, seed='live-refresh')[0], start=False)
        daemon.call('d.erase', oldest)
        again = newest_first(web, fresh)
        assert [r['hash'] for r in Rows(again).rows] == [other] + rows[:-1]
        assert '%d of %d torrents' % (total + 1, total + 1) in page_text(again)
        # a shown row removed: gone from the refreshed rows
        daemon.call('d.erase', added)
        time.sleep(1.0)
        last = newest_first(web, again)
        assert added not in [r['hash'] for r in Rows(last).rows]
        assert [r['hash'] for r in Rows(last).rows][:1] == [other]
    finally:          # the module's 30 torrents again, and only them
        mine = dict((bencode.info_hash(t), t) for t in rig.synthetic_torrents(30, seed='live-refresh'))
        have = set(daemon.hashes())
        daemon.multicall([('d.erase', [h]) for h in have - set(mine)])
        for h in set(mine) - have:
            daemon.load(mine[h], start=False)


def test_a_page_load_asks_afresh_every_time(daemon):
    web = live_client(daemon)
    trips = RoundTrips(web)
    for _ in range(3):
        assert web.get('/target/box/').status_code == 200
    assert trips.calls['box'] == 6 + 1       # two a page, and the method list once


def test_many_concurrent_refreshes_share_one_round_trip(daemon):
    web = live_client(daemon)
    page = web.get('/target/box/').get_data(as_text=True)
    volatile = web.get('/target/box/?sort=up&order=desc').get_data(as_text=True)
    trips = RoundTrips(web)
    for url, shown, cost in (('/target/box/', page, 1), ('/target/box/?sort=up&order=desc', volatile, 2)):
        trips.reset()
        start, statuses = threading.Barrier(12), []

        def viewer():
            other = Client(web.application)             # each viewer its own browser
            start.wait()
            statuses.append(refresh(other, url, shown).status_code)
        threads = [threading.Thread(target=viewer) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 12
        assert trips.calls == {'box': cost}, url
        # later refreshes within the interval are served from the same answer
        refresh(web, url, shown)
        assert trips.calls == {'box': cost}, url


def test_the_front_page_and_the_torrent_page_refresh_shared(daemon):
    web = live_client(daemon)
    trips = RoundTrips(web)
    front = web.get('/').get_data(as_text=True)
    assert 'live.js' in front and 'data-live="card box"' in front
    trips.reset()
    for _ in range(3):
        assert refresh(web, '/', front).status_code == 200
    assert trips.calls == {'box': 1}                    # the overview, once (nothing is active)
    info_hash = daemon.hashes()[0]
    trips.reset()
    for _ in range(3):
        page = refresh(web, '/target/box/torrent/%s/' % info_hash).get_data(as_text=True)
        assert 'data-live="summary"' in page and 'live.js' in page
    assert trips.calls == {'box': 1}


def test_counts_follow_an_add_and_a_removal(daemon):
    web = live_client(daemon)
    page = web.get('/target/box/?sort=name').get_data(as_text=True)
    total = daemon.call('view.size', '', 'main')
    assert '%d of %d torrents' % (total, total) in page_text(page)
    added = daemon.load_many(rig.synthetic_torrents(2, start=500, seed='live-refresh'))
    try:
        trips = RoundTrips(web)
        fresh = refresh(web, '/target/box/?sort=name', page).get_data(as_text=True)
        # one round trip found the view grown, then the whole list came (two more)
        assert trips.calls == {'box': 3}
        assert '%d of %d torrents' % (total + 2, total + 2) in page_text(fresh)
        assert re.search(r'>all <span class="count">%d</span>' % (total + 2), fresh)
        assert 'data-live-keep' not in fresh
    finally:
        daemon.multicall([('d.erase', [h]) for h in added])
    app = web.application.pyrotorrent
    app.single_flight = type(app.single_flight)()             # the next interval: nothing kept from this one
    fresh = refresh(web, '/target/box/?sort=name', fresh).get_data(as_text=True)
    assert '%d of %d torrents' % (total, total) in page_text(fresh)


def test_the_whole_list_comes_at_least_every_full_interval(daemon, monkeypatch):
    from lib.pages import live
    web = live_client(daemon, REFRESH_SECONDS=1)
    page = web.get('/target/box/').get_data(as_text=True)
    trips = RoundTrips(web)
    refresh(web, '/target/box/', page)
    assert trips.calls == {'box': 1}
    monkeypatch.setattr(live, 'LIVE_FULL_SECONDS', 0)      # the stamp expires at once
    app = web.application.pyrotorrent
    app.single_flight = type(app.single_flight)()
    trips.reset()
    fresh = refresh(web, '/target/box/', page).get_data(as_text=True)
    assert trips.calls == {'box': 2} and 'data-live-keep' not in fresh
    assert re.search(r'data-label="[^"]*"[^>]*>[^<]*<span class="count">\d+</span>', fresh)


@pytest.mark.parametrize('garbage', ['', 'target=box', 'target=box&view=main&size=x&total=1&h=',
                                     'target=box&view=main&size=30&total=30&h=' + 'Z' * 40,
                                     'target=box&view=main&size=30&total=30&h=' + 'A' * 39, '%' * 9000])
def test_a_refresh_with_an_unreadable_known_header_refreshes_in_full(daemon, garbage):
    web = live_client(daemon)
    trips = RoundTrips(web)
    answer = web.get('/target/box/', headers=dict(REFRESH, **{'X-Live-Showing': garbage}))
    assert answer.status_code == 200 and trips.calls['box'] >= 2
    assert 'data-live-keep' not in answer.get_data(as_text=True)


def test_a_known_hash_that_is_gone_brings_the_whole_list(daemon):
    web = live_client(daemon)
    page = web.get('/target/box/').get_data(as_text=True)
    shown = known(page)
    first = Rows(page).rows[0]['hash']
    fake = shown.replace(first, '0' * 40)
    trips = RoundTrips(web)
    fresh = web.get('/target/box/', headers=dict(REFRESH, **{'X-Live-Showing': fake})).get_data(as_text=True)
    assert trips.calls == {'box': 3}
    assert [r['hash'] for r in Rows(fresh).rows][0] == first


def test_a_refresh_of_a_target_that_is_down_is_an_error_page_naming_it(daemon, tmp_path):
    web = client({'gone': 'scgi+unix://%s/nothing.socket' % tmp_path}, REFRESH_SECONDS=5)
    answer = web.get('/target/gone/', headers=REFRESH)
    assert answer.status_code == 502
    text = page_text(answer.get_data(as_text=True))
    assert "'gone'" in text and 'not reachable' in text
    front = web.get('/', headers=REFRESH)
    assert front.status_code == 200 and 'error-card' in front.get_data(as_text=True)


def test_refresh_seconds_zero_keeps_nothing(daemon):
    web = live_client(daemon, REFRESH_SECONDS=0)
    assert 'live.js' not in web.get('/target/box/').get_data(as_text=True)
    assert web.application.pyrotorrent.live_keep == 0



def next_interval(web):
    """Wait out the answers kept for this interval (REFRESH_SECONDS = 1 keeps them 0.9 s);
    the stamp that brings the whole list every LIVE_FULL_SECONDS stays."""
    assert web.application.pyrotorrent.live_keep <= 0.9
    time.sleep(0.95)


def test_stopped_rows_seen_idle_twice_are_kept_not_looked_up(daemon):
    """A lookup by hash scans rTorrent's whole list; a stopped row's figures do not move, so
    after two looks found it idle a refresh asks the started and hashing views instead."""
    web = live_client(daemon, REFRESH_SECONDS=1)
    page = web.get('/target/box/').get_data(as_text=True)
    shown = [r['hash'] for r in Rows(page).rows]
    assert len(shown) == 10 and all(daemon.call('d.state', h) == 0 for h in shown)
    sent = Commands(web)
    first = refresh(web, '/target/box/', page).get_data(as_text=True)      # the second look
    assert sent.named == [set(shown)] and sent.sent[0].count('branch') == 10
    for _ in range(2):
        next_interval(web)
        fresh = refresh(web, '/target/box/', page).get_data(as_text=True)
        assert sent.named[-1] == set() and sent.sent[-1].count('branch') == 0
        assert sent.sent[-1].count('d.multicall2') == 2              # 'started' and 'hashing'
        assert Rows(fresh).rows == Rows(first).rows                  # the same rows and figures
        assert 'data-live-keep' in fresh and known(fresh) == known(page)
    assert len(sent.sent) == 3


def test_a_kept_row_started_from_outside_is_asked_again(daemon):
    """The model's side: an idle row found in the 'started' view comes back in `woke`."""
    web = live_client(daemon, REFRESH_SECONDS=1)
    backend = backends(web)['box']
    h, other = daemon.hashes()[:2]
    views = backend.torrent_list(ListQuery()).header.views
    header, torrents, sizes, woke = backend.torrent_rows([h, other], views, idle=[h])
    assert set(torrents) == {other} and woke == set() and sizes['main'] == daemon.call('view.size', '', 'main')
    daemon.call('d.start', h)
    try:
        daemon.wait(lambda: daemon.call('d.state', h) == 1, 10, 'rtorrent to start it')
        header, torrents, sizes, woke = backend.torrent_rows([h, other], views, idle=[h.lower()])
        assert woke == {h} and set(torrents) == {other}
        daemon.call('d.stop', h)
        daemon.call('d.close', h)
        # a view rtorrent does not have (it answers a fault): nothing counts as kept
        backend.wake_views = ('started', 'no such view')
        header, torrents, sizes, woke = backend.torrent_rows([h, other], views, idle=[h])
        assert woke == {h} and set(torrents) == {other}
    finally:
        daemon.call('d.stop', h)
        daemon.call('d.close', h)


def test_a_kept_row_started_from_outside_shows_started_at_the_next_refresh(daemon):
    web = live_client(daemon, REFRESH_SECONDS=1)
    page = web.get('/target/box/').get_data(as_text=True)
    shown = [r['hash'] for r in Rows(page).rows]
    refresh(web, '/target/box/', page)          # idle at two looks: kept from now on
    sent = Commands(web)
    daemon.call('d.start', shown[3])
    try:
        daemon.wait(lambda: daemon.call('d.state', shown[3]) == 1, 10, 'rtorrent to start it')
        next_interval(web)
        fresh = refresh(web, '/target/box/', page).get_data(as_text=True)
        assert shown[3] in set().union(*sent.named)                  # asked again
        row = [r for r in Rows(fresh).rows if r['hash'] == shown[3]][0]
        assert 'stopped' not in row['cells'] and any(c.startswith(('downloading', 'checking')) for c in row['cells'])
    finally:
        daemon.call('d.stop', shown[3])
        daemon.call('d.close', shown[3])


def test_a_check_that_ended_between_two_refreshes_shows(daemon, tmp_path):
    """A stopped torrent checked from outside is in the 'hashing' view only while it is
    checked; one found complete leaves 'incomplete', and that view's size tells."""
    data = str(tmp_path / 'data')
    payload = rig.make_payload(data, 'aaa checked meanwhile.bin', 1024 * 1024)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'c.torrent')),
                    directory=data, start=False)
    try:
        web = live_client(daemon, REFRESH_SECONDS=1)
        page = web.get('/target/box/').get_data(as_text=True)
        assert [r['hash'] for r in Rows(page).rows][0] == h          # 'aaa' sorts first
        assert daemon.call('d.completed_bytes', h) == 0
        refresh(web, '/target/box/', page)
        next_interval(web)
        sent = Commands(web)
        kept = refresh(web, '/target/box/', page).get_data(as_text=True)
        assert sent.named == [set()]                                # all ten kept
        daemon.call('d.check_hash', h)
        daemon.wait(lambda: daemon.call('d.complete', h) == 1 and daemon.call('d.hashing', h) == 0, 30,
                    'rtorrent to check it')
        next_interval(web)
        fresh = refresh(web, '/target/box/', page).get_data(as_text=True)
        assert h in set().union(*sent.named[1:])
        before, after = Rows(kept).rows[0]['cells'], Rows(fresh).rows[0]['cells']
        assert 'stopped' in before and 'complete' in after, (before, after)
    finally:
        daemon.call('d.erase', h)
