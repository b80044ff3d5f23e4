"""The front page as an overview (issue 16, items 4 and 9), against real daemons.

A tracker, a seeder and a throttled leecher of this file's own with one
64 MiB transfer in progress and synthetic torrents the tests start, pause and stop; a
transmission-daemon; a target that is not there.  Counts by state, what is
active now and the free space are checked against what the daemons and os.statvfs say;
headless Chromium measures the page at 390 x 844 and watches it refresh."""
import os
import re

import pytest

from lib import format as formatting
from model.clients import backend_for
from lib import config
from tests import rig, webapp
from tests.webapp import Rows, client, page_text

SIZE = 64 * 1024 * 1024
RATE = 256 * 1024           # the leecher's download limit: the file takes minutes
SLACK = 32 * 1024 * 1024    # free space moves while the leecher writes (and other tests run)
WAIT = 30
COUNT = re.compile(r'<a href="([^"]*)" data-state="(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>')


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('front'))
    data = os.path.join(workdir, 'data')
    tracker = rig.Tracker(os.path.join(workdir, 'tracker'), host=rig.address()).start()
    seeder = rig.RTorrentDaemon(os.path.join(workdir, 'seeder'))
    leecher = rig.RTorrentDaemon(os.path.join(workdir, 'leecher'),
                                 extra_rc='throttle.global_down.max_rate.set_kb = %d' % (RATE // 1024))
    transmission = rig.TransmissionDaemon(os.path.join(workdir, 'tr'))
    try:
        for daemon in (seeder, leecher, transmission):
            daemon.start()
        path = rig.make_payload(data, 'Front transfer.bin', SIZE)
        torrent = rig.make_torrent(path, tracker.announce_url, os.path.join(workdir, 'front.torrent'),
                                   piece_size_exp=18)
        info_hash = seeder.seed(torrent, data, tracker, label='live')
        leecher.load_many(rig.synthetic_torrents(6, seed='front'))       # stopped, nothing done
        leecher.load(torrent, directory=leecher.download_dir, label='live')
        leecher.wait(lambda: leecher.call('d.down.rate', info_hash) > 0
                     and leecher.call('d.completed_bytes', info_hash) > 0, 60,
                     'the leecher to start downloading from the seeder')
        small = rig.make_payload(data, 'Front small.bin', 300 * 1024)
        transmission.add(rig.make_torrent(small, 'http://127.0.0.1:1/announce',
                                          os.path.join(workdir, 'small.torrent'), piece_size_exp=16), directory=data)
        for body in rig.synthetic_torrents(3, seed='front-tr'):
            transmission.add(body, paused=True)
        # it checks even a paused torrent's (missing) data first: wait until it is stopped
        transmission.wait(lambda: sorted(t['status'] for t in transmission.torrents(['status'])) == [0, 0, 0, 6],
                          30, 'Transmission to check the small file, seed it and stop the others')
        yield {'seeder': seeder, 'leecher': leecher, 'transmission': transmission, 'hash': info_hash,
               'workdir': workdir, 'data': data}
    finally:
        for daemon in (leecher, seeder, transmission, tracker):
            daemon.stop()


def targets(box, gone=True):
    found = {'leecher': {'url': box['leecher'].url}, 'seeder': {'url': box['seeder'].url},
             'tr': {'url': box['transmission'].url, 'client': 'transmission'}}
    if gone:
        found['gone'] = {'url': 'scgi+unix://%s/no-rtorrent.socket' % box['workdir'], 'timeout': 3}
    return found


def cards(page):
    """{target: its card's HTML}, in the page's order."""
    parts = re.split(r'<section class="target-card" id="card-([^"]+)">', page)[1:]
    return dict(zip(parts[0::2], parts[1::2]))


def bar(page, name):
    """The top bar's part about one target (its rates, limits, alternative speeds, free space)."""
    return re.search(r'data-bar="%s"(.*?)(?=data-bar=|</header>)' % re.escape(name), page, re.S).group(1)


def counts(card):
    return {state: int(n) for _, state, n in COUNT.findall(card)}


def links(card):
    return {state: href.replace('&amp;', '&') for href, state, _ in COUNT.findall(card)}


def states_in_rtorrent(daemon):
    """{hash: (state, stalled, error)} as the list defines them, from rtorrent's own flags."""
    out = {}
    for h, started, active, hashing, complete, peers, message, down, up in daemon.rows(
            ['d.hash', 'd.state', 'd.is_active', 'd.hashing', 'd.complete', 'd.peers_connected', 'd.message',
             'd.down.rate', 'd.up.rate']):
        if hashing:
            state = 'checking'
        elif not started:
            state = 'complete' if complete else 'stopped'
        elif not active:
            state = 'paused'
        else:
            state = 'seeding' if complete else 'downloading'
        moving = state == 'checking' or (state in ('downloading', 'seeding') and (down > 0 or up > 0))
        out[h] = (state, state == 'downloading' and not peers and not message, bool(message), moving)
    return out


def expected_counts(found):
    total = {s: 0 for s in ('downloading', 'seeding', 'paused', 'queued', 'checking', 'stopped', 'complete',
                            'stalled', 'error', 'active')}
    for state, stalled, error, moving in found.values():
        total[state] += 1
        total['stalled'] += stalled
        total['error'] += error
        total['active'] += moving
    return total


def test_a_target_that_cannot_be_asked_comes_first_naming_its_cause(box):
    page = client(targets(box)).get('/').get_data(as_text=True)
    order = list(cards(page))
    assert order[0] == 'gone' and order[1:] == ['leecher', 'seeder', 'tr']
    gone = page_text(cards(page)['gone'])
    assert "'gone'" in gone and 'not reachable' in gone and 'no-rtorrent.socket does not exist' in gone
    assert 'error-card' in cards(page)['gone'] and 'data-state=' not in cards(page)['gone']


def test_a_line_on_top_sums_the_targets_that_answer(box):
    page = client(targets(box)).get('/').get_data(as_text=True)
    line = page_text(re.search(r'<p class="status-line all-targets"[^>]*>(.*?)</p>', page, re.S).group(1))
    total = sum(box[n].call('view.size', '', 'main') for n in ('leecher', 'seeder')) + len(
        box['transmission'].torrents(['id']))
    assert line.startswith('3 of 4 targets answering %d torrents ↓ ' % total), line
    assert page.index('all-targets') < page.index('id="card-gone"')


def test_no_list_of_the_first_torrents_by_name_any_more(box):
    page = client(targets(box, gone=False)).get('/').get_data(as_text=True)
    leecher = cards(page)['leecher']
    shown = [r['hash'] for r in Rows(leecher).rows]
    assert shown == [box['hash']]                   # the one transfer; none of the six stopped ones
    assert 'Nothing on tr is moving data or checking now.' in page_text(cards(page)['tr'])


def test_counts_by_state_follow_starts_pauses_and_stops_and_link_to_the_filtered_list(box):
    leecher = box['leecher']
    web = client(targets(box, gone=False))
    before = counts(cards(web.get('/').get_data(as_text=True))['leecher'])
    assert before['stopped'] == 6 and before['downloading'] == 1 and before['paused'] == 0
    sizes = {h: s for h, s in leecher.rows(['d.hash', 'd.size_bytes']) if h != box['hash']}
    run, pause, stop_again = sorted(sizes, key=sizes.get)[:3]        # the smallest: no big sparse files
    for h in (run, pause, stop_again):
        leecher.call('d.open', h)
        leecher.call('d.start', h)
    leecher.call('d.pause', pause)
    leecher.call('d.stop', stop_again)
    try:
        def settled():
            found = states_in_rtorrent(leecher)
            shown = counts(cards(web.get('/').get_data(as_text=True))['leecher'])
            return (shown == expected_counts(found) == expected_counts(states_in_rtorrent(leecher))
                    and found[run][0] == 'downloading') and (shown, found)
        shown, found = rig.wait_for(settled, WAIT, 'the front page to count what rtorrent reports')
        assert shown['paused'] == 1 and shown['stopped'] == 4 and shown['downloading'] == 2
        assert shown['stalled'] + shown['error'] >= 1          # the started one has no peer to get from
        # each count is a link to the list of exactly those torrents
        page = web.get('/').get_data(as_text=True)
        for state, href in links(cards(page)['leecher']).items():
            listed = {r['hash'] for r in Rows(web.get(href).get_data(as_text=True)).rows}
            found = states_in_rtorrent(leecher)
            wanted = {h for h, (s, stalled, error, moving) in found.items()
                      if s == state or (state == 'stalled' and stalled) or (state == 'error' and error)
                      or (state == 'active' and moving)}
            assert listed == wanted, (state, href)
        paused = web.get(links(cards(page)['leecher'])['paused']).get_data(as_text=True)
        assert [r['hash'] for r in Rows(paused).rows] == [pause]
        assert '1 of 7 torrents (paused)' in page_text(paused)
    finally:
        for h in (run, pause):
            leecher.call('d.stop', h)
            leecher.call('d.close', h)


def test_an_unknown_state_is_refused_in_words(box):
    answer = client(targets(box, gone=False)).get('/target/leecher/?state=sleeping')
    assert answer.status_code == 400
    text = page_text(answer.get_data(as_text=True))
    assert "No list shows the state 'sleeping'" in text and 'stalled' in text


def test_a_transfer_shows_under_active_now_on_both_ends(box):
    page = client(targets(box, gone=False)).get('/').get_data(as_text=True)
    for name in ('leecher', 'seeder'):
        rows = Rows(cards(page)[name]).rows
        assert [r['hash'] for r in rows] == [box['hash']], name
        assert 'Front transfer.bin' in rows[0]['cells'][0]
    down = Rows(cards(page)['leecher']).rows[0]['cells']
    assert down[3].startswith('downloading') and down[4].endswith('/s')   # state, ↓ rate
    up = Rows(cards(page)['seeder']).rows[0]['cells']
    assert up[3].startswith('seeding') and up[5].endswith('/s')           # ↑ rate


def test_more_active_than_shown_links_to_the_list_by_rate(box, monkeypatch):
    from lib.pages import lists
    web = client(targets(box, gone=False))
    monkeypatch.setattr(lists, 'ACTIVE_ROWS', 0)    # show none, so every active one is "more"
    card = cards(web.get('/').get_data(as_text=True))['leecher']
    assert Rows(card).rows == []
    more = re.search(r'<p class="more"><a href="([^"]+)">(\d+) more active on leecher', card)
    assert more and int(more.group(2)) >= 1
    assert more.group(1).replace('&amp;', '&') == '/target/leecher/?sort=down&order=desc'


def parse_size(text):
    number, unit = text.split()
    return float(number) * 1024 ** formatting._UNITS.index(unit)


def test_free_space_is_what_statvfs_says_and_what_transmission_says(box):
    leecher, transmission = box['leecher'], box['transmission']
    web = client(targets(box, gone=False))
    backend = web.application.pyrotorrent.backends['leecher']
    local = os.statvfs(leecher.download_dir)
    header = backend.overview().header
    assert header.download_directory.rstrip('/') == leecher.download_dir.rstrip('/')
    assert abs(header.free_space - local.f_bavail * local.f_frsize) <= SLACK
    reported = transmission.call('free-space', path=transmission.download_dir)['size-bytes']
    tr = web.application.pyrotorrent.backends['tr'].overview().header
    assert tr.download_directory.rstrip('/') == transmission.download_dir.rstrip('/')
    assert abs(tr.free_space - reported) <= SLACK
    # the page against the disk as it is around the page's own load: other test workers
    # write to the same disk meanwhile (a figure read before it may be hundreds of MB off)
    folders = {'leecher': leecher.download_dir, 'tr': transmission.download_dir}
    before = {name: _free(folder) for name, folder in folders.items()}
    page = web.get('/').get_data(as_text=True)
    after = {name: _free(folder) for name, folder in folders.items()}
    for name in folders:
        shown = re.search(r'data-status="free"[^>]*><span data-figure="free">([^<]+)</span> free<', bar(page, name)).group(1)
        rounding = SLACK + 0.05 * 1024 ** formatting._UNITS.index(shown.split()[1])
        low, high = sorted((before[name], after[name]))
        assert low - rounding <= parse_size(shown) <= high + rounding, (name, shown, before[name], after[name])
    # the list page's top bar says the same, and the settings page where the downloads go
    listing = web.get('/target/tr/').get_data(as_text=True)
    assert re.search(r'data-status="free" title="free in %s"' % re.escape(tr.download_directory), bar(listing, 'tr'))
    assert 'Downloads go to %s' % leecher.download_dir.rstrip('/') in page_text(web.get('/target/leecher/settings').get_data(as_text=True))


def _free(folder):
    local = os.statvfs(folder)
    return local.f_bavail * local.f_frsize


def test_free_space_is_not_guessed_for_a_disk_pyrotorrent_cannot_see(box):
    target = config.from_dict({'targets': {'far': {'url': box['leecher'].url, 'local': False}}}).targets[0]
    header = backend_for(target).overview().header
    assert header.download_directory and header.free_space is None
    web = client({'far': {'url': box['leecher'].url, 'local': False}})
    page = web.get('/').get_data(as_text=True)
    assert 'data-status="free"' not in page and 'data-figure="free"' not in page


def test_transmission_counts_and_status_line(box):
    page = client(targets(box, gone=False)).get('/').get_data(as_text=True)
    card = cards(page)['tr']
    found = counts(card)
    assert found['seeding'] == 1 and found['stopped'] == 3 and sum(
        found[s] for s in ('downloading', 'paused', 'queued', 'checking', 'complete')) == 0
    line = re.search(r'<p class="status-line"[^>]*>(.*?)</p>', card, re.S).group(1)
    assert '4 torrents' in page_text(line) and '↓' in bar(page, 'tr') and 'free' in bar(page, 'tr')
    listed = Rows(client(targets(box, gone=False)).get(links(card)['stopped']).get_data(as_text=True)).rows
    assert len(listed) == 3


def test_the_list_says_its_count_and_the_top_bar_its_figures(box):
    web = client(targets(box, gone=False))
    page = web.get('/target/leecher/').get_data(as_text=True)
    total = box['leecher'].call('view.size', '', 'main')
    assert '%d of %d torrents' % (total, total) in page_text(page)
    figures = page_text(bar(page, 'leecher'))
    assert '↓ ' in figures and '↑ ' in figures and ' free' in figures


# -- in a real browser ---------------------------------------------------------------------

@pytest.fixture(scope='module')
def server(box):
    with webapp.http_server(os.path.join(box['workdir']), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 1,
            'targets': targets(box)}) as url:
        yield url


OVERFLOW_JS = """
var w = document.documentElement.clientWidth, wide = [];
document.querySelectorAll('body *').forEach(function (el) {
  var r = el.getBoundingClientRect();
  if (r.right > w + 1 && r.width > 0) {
    for (var p = el.parentElement; p; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return;
    wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
});
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide: wide.slice(0, 8)};
"""


def test_on_a_phone_nothing_scrolls_sideways_and_the_page_stays_live(driver, server, box):
    from selenium.webdriver.support.ui import WebDriverWait
    driver.set_window_size(390, 844)
    try:
        driver.get(server + '/')
        WebDriverWait(driver, WAIT).until(lambda d: d.execute_script('return document.readyState') == 'complete')
        found = driver.execute_script(OVERFLOW_JS)
        assert found['scroll'] <= found['inner'], found
        order = driver.execute_script("return Array.from(document.querySelectorAll('section.target-card'))"
                                      ".map(function (s) { return s.id; })")
        assert order == ['card-gone', 'card-leecher', 'card-seeder', 'card-tr']
        driver.execute_script('window.notReloaded = true;')
        done = ("return document.querySelector('#card-leecher tr[data-hash=\"%s\"] td.done span').textContent"
                % box['hash'])
        first = driver.execute_script(done)
        WebDriverWait(driver, WAIT, 0.1).until(lambda d: d.execute_script(done) != first,
                                               'the active row to move without a reload')
        stopped = "return document.querySelector('#card-leecher a[data-state=stopped] .count').textContent"
        shown = int(driver.execute_script(stopped))
        added = box['leecher'].load(rig.synthetic_torrents(1, start=50, seed='front')[0], start=False)
        try:
            WebDriverWait(driver, WAIT, 0.1).until(lambda d: int(d.execute_script(stopped)) == shown + 1,
                                                   'the stopped count to follow an add')
        finally:
            box['leecher'].call('d.erase', added)
        assert driver.execute_script('return window.notReloaded === true')
        found = driver.execute_script(OVERFLOW_JS)
        assert found['scroll'] <= found['inner'], found
    finally:
        driver.set_window_size(1280, 900)


def test_a_paused_transfer_leaves_active_now_though_its_rate_lingers(box):
    # last: after the pause the transfer takes a while to flow again
    leecher, info_hash = box['leecher'], box['hash']
    web = client(targets(box, gone=False))
    leecher.call('d.pause', info_hash)
    try:
        card = cards(web.get('/').get_data(as_text=True))['leecher']
        lingering = leecher.call('d.down.rate', info_hash)     # a moving average: still above 0 for a while
        assert leecher.call('d.is_active', info_hash) == 0 and Rows(card).rows == []
        assert counts(card)['paused'] == 1 and counts(card)['downloading'] == 0
        assert 'Nothing on leecher is moving data or checking now.' in page_text(card), lingering
    finally:
        leecher.call('d.resume', info_hash)
    leecher.wait(lambda: leecher.call('d.is_active', info_hash) == 1, 10, 'the transfer to go on')
