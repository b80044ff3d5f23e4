"""A tracker has one name everywhere: a real rtorrent holds torrents whose tracker URLs hold
a space, markup, a port, upper case, an IDN host (in Unicode and in punycode), an IPv6
address and no host at all; the list's tracker counts, its tracker filter, the list page,
the statistics by tracker (API and page), the rules' tracker match and /metrics all name
each tracker alike (model/clients/types.tracker_name), and the markup stays text."""
import dataclasses
import os
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lib.store import Store
from model.clients.rtorrent import RTorrent
from model.stats import Policy, Sampler, time_zone
from tests import rig, webapp
from tests.webapp import MARKUP

# announce URL -> the name every place must show for it
TRACKERS = {
    'http://tr acker.example.org/announce': 'tr acker.example.org',   # not a host name: kept whole
    'http://x"><img src=x onerror=window.__xss=41>/announce': 'x"><img src=x onerror=window.__xss=41>',
    'http://tracker.example.net:6969/announce': 'example.net',
    'http://TRACKER.Example.COM/announce': 'example.com',
    'http://трекер.пример.рф/announce': 'пример.рф',
    'http://tr.xn--e1afmkfd.xn--p1ai:80/announce': 'пример.рф',       # the same domain in punycode
    'http://[::1]:6969/announce': '::1',
    'http:///announce': '',                                             # no host
}
NAMES = {name for name in TRACKERS.values() if name}


class Moving:
    """The real rtorrent's transfer totals, each torrent's upload grown by `step` bytes a
    call: the odd trackers cannot be announced to, so no peer ever moves data here."""

    def __init__(self, backend, step=10 ** 6):
        self.backend, self.step, self.calls = backend, step, 0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def transfer_totals(self, details=False):
        real = self.backend.transfer_totals(details)
        moved = self.step * self.calls
        self.calls += 1
        return dataclasses.replace(real, torrents=[t._replace(up_total=t.up_total + moved) for t in real.torrents])


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('tracker-names'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt'), bind=rig.address()).start()
    try:
        by_name = {}
        for n, url in enumerate(TRACKERS):
            payload = rig.make_payload(os.path.join(workdir, 'data'), 'file %d' % n, 16 * 1024)
            torrent = rig.make_torrent(payload, url, os.path.join(workdir, '%d.torrent' % n))
            info_hash = daemon.load(torrent, directory=os.path.join(workdir, 'data'), start=False)
            by_name.setdefault(TRACKERS[url], set()).add(info_hash)
        got = {h: [u for (u,) in urls] for h, urls in daemon.call('d.multicall2', '', 'main', 'd.hash=',
                                                                  't.multicall=,t.url=')}
        assert sorted(u for urls in got.values() for u in urls) == sorted(TRACKERS), got   # rtorrent kept each
        store_path = os.path.join(workdir, 'store.sqlite3')
        store = Store.open(store_path)
        sampler, backend = Sampler(store, Policy(seconds=60, zone=time_zone('UTC'))), Moving(RTorrent(daemon.url, name='t'))
        start = time.time() - 600
        for n in range(6):                              # a baseline, then 5 minutes of upload
            sampler.sample(backend, now=start + 60 * n)
        yield daemon, store_path, by_name
    finally:
        daemon.stop()


@pytest.fixture(scope='module')
def web(box):
    daemon, store_path, _ = box
    return webapp.client({'t': daemon.url}, STORE=store_path, TIME_ZONE='UTC', METRICS=['127.0.0.1/32'])


def test_the_list_counts_and_filters_by_one_name(web, box):
    _, _, by_name = box
    listing = web.get('/api/target/t/torrents?per_page=100').json
    assert listing['trackers'] == {name: len(hashes) for name, hashes in by_name.items()}
    for name, hashes in by_name.items():
        for typed in {name, name.upper(), ' %s ' % name}:        # as the docs say: case and outer spaces ignored
            answer = web.get('/api/target/t/torrents', query_string={'tracker': typed, 'per_page': 100})
            assert answer.status_code == 200, (typed, answer.get_data(as_text=True))
            assert {t['hash'] for t in answer.json['torrents']} == hashes, (typed, answer.json['tracker'])
            assert answer.json['tracker'] == name


def test_the_list_page_shows_the_names_as_text(web):
    html = web.get('/target/t/').get_data(as_text=True)
    assert not MARKUP.search(html), MARKUP.search(html).group(0)
    shown = webapp.page_text(html)
    for name in NAMES:
        assert name in shown, name
    filtered = web.get('/target/t/', query_string={'tracker': TRACKERS['http://[::1]:6969/announce']})
    assert len(webapp.Rows(filtered.get_data(as_text=True)).rows) == 1


def test_the_statistics_by_tracker_use_the_same_names(web, box):
    _, _, by_name = box
    rows = web.get('/api/target/t/stats?range=day&by=tracker').json['rows']
    assert {r['key']: r['up'] for r in rows} == {name: 5 * 10 ** 6 * len(h) for name, h in by_name.items()}
    html = web.get('/target/t/stats/').get_data(as_text=True)
    assert not MARKUP.search(html), MARKUP.search(html).group(0)
    shown = webapp.page_text(html)
    for name in NAMES:
        assert name in shown, name


def test_a_rule_matches_a_tracker_by_the_name_the_list_shows(web, box):
    _, _, by_name = box
    csrf = webapp.csrf_token(web.get('/target/t/rules').get_data(as_text=True))
    for name in NAMES:
        rule = {'name': 'by tracker', 'match': {'tracker': name}, 'when': {'event': 'added'}, 'do': 'stop'}
        answer = web.post('/api/target/t/rules/preview', json=rule, headers={'X-CSRF-Token': csrf})
        assert answer.status_code == 200, (name, answer.get_data(as_text=True))
        assert answer.json['rule']['match'] == {'tracker': name}
        assert {t['hash'] for t in answer.json['torrents']} == by_name[name], name


def test_metrics_name_the_trackers_alike(web, box):
    _, _, by_name = box
    answer = web.get('/metrics')
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    up = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == 'pyrotorrent_tracker_transfer_bytes_total' and sample.labels['direction'] == 'up':
                up[sample.labels['tracker']] = sample.value
    assert up == {name: 5 * 10 ** 6 * len(h) for name, h in by_name.items()}
