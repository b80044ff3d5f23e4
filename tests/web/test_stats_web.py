"""The statistics pages, API, CSV and /metrics over a store the sampler filled (a stand-in
client with an injected clock; the pages themselves ask no client for statistics)."""
import csv
import io
import re
import time

import pytest

from lib.store import Store
from model.stats import Policy, Sampler, time_zone
from tests.fakes import Totals
from tests.webapp import client

HASH = 'A' * 40


@pytest.fixture(scope='module')
def filled(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('stats-web') / 'store.sqlite3')
    store = Store.open(path)
    box, sampler = Totals('box'), Sampler(store, Policy(seconds=60, zone=time_zone('UTC')))
    box.add(HASH, label='<b>Linux</b>', tracker='http://tracker.example.org/announce')
    t = time.time() - 1800
    sampler.sample(box, now=t)
    for n in range(1, 31):
        box.move(HASH, up=1000, down=10 ** 6)
        sampler.sample(box, now=t + 60 * n if n != 20 else t + 60 * n + 300)   # one gap
    return path


def web(filled, **settings):
    return client({'box': 'scgi://127.0.0.1:1', 'other': 'scgi://127.0.0.1:1'}, STORE=filled,
                  TIME_ZONE='UTC', **settings)


def test_the_stats_page_draws_svg_with_numbers_beneath_and_escapes_labels(filled):
    answer = web(filled, STATS_MONTHLY_CAP={'box': 10 ** 9}).get('/target/box/stats/')
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert page.count('<svg class="chart chart-down') == 5 and page.count('<svg class="chart chart-up') == 5
    assert 'class="gap"' in page and 'style=' not in page
    assert not re.search(r'<script(?![^>]*\bsrc=)', page)       # no inline script (files from STATIC_URL only)
    assert '&lt;b&gt;Linux&lt;/b&gt;' in page and '<b>Linux' not in page
    assert 'example.org' in page and '28.6 MiB' in page           # 30 MB down, all of it this month
    assert 'Monthly cap: 28.6 MiB of 953.7 MiB used (3.0 %)' in page
    assert "script-src 'self'" in answer.headers['Content-Security-Policy']


def test_the_overview_sums_targets_and_the_api_and_csv_give_the_same_numbers(filled):
    w = web(filled)
    assert w.get('/stats/').status_code == 200
    data = w.get('/api/target/box/stats', query_string={'range': 'hour', 'by': 'label'}).json
    assert data['down'] == 30 * 10 ** 6 and data['up'] == 30000 and len(data['slots']) == 60
    assert data['rows'] == [{'key': '<b>Linux</b>', 'name': '', 'up': 30000, 'down': 30 * 10 ** 6, 'gone': False}]
    assert data['gaps'] and data['gaps'][0]['kind'] == 'gap'
    assert w.get('/api/stats', query_string={'range': 'year'}).json['down'] == 30 * 10 ** 6
    rows = list(csv.reader(io.StringIO(w.get('/target/box/stats.csv?range=hour').get_data(as_text=True))))
    assert rows[0] == ['start', 'end', 'down_bytes', 'up_bytes', 'gap']
    assert sum(int(r[2]) for r in rows[1:]) == 30 * 10 ** 6 and len(rows) == 61
    answer = w.get('/target/box/stats.csv?range=month&by=tracker')
    assert answer.headers['Content-Disposition'] == 'attachment; filename="pyrotorrent-box-month-by-tracker.csv"'
    assert '"example.org","",30000000,30000,""' in answer.get_data(as_text=True)      # texts quoted, numbers bare
    bad = w.get('/api/target/box/stats?range=decade')
    assert bad.status_code == 400 and 'range must be one of hour, day, week, month, year' in bad.json['error']['message']


def test_metrics_are_off_by_default_and_then_only_for_listed_networks(filled):
    assert web(filled).get('/metrics').status_code == 404
    w = web(filled, METRICS=['127.0.0.1/32'])
    answer = w.get('/metrics')
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == 'text/plain'
    assert '# TYPE pyrotorrent_transfer_bytes_total counter' in text
    assert 'pyrotorrent_transfer_bytes_total{direction="down",target="box"} 3e+07' in text
    assert re.search(r'pyrotorrent_tracker_transfer_bytes_total\{direction="up",target="box",tracker="example.org"\} 30000', text)
    assert 'pyrotorrent_label_transfer_bytes_total' in text and 'torrent=' not in text
    assert w.get('/metrics', headers={'X-Forwarded-For': '10.1.2.3'}).status_code == 403
    other = client({'box': 'scgi://127.0.0.1:1'}, remote_addr='10.9.9.9', STORE=filled, METRICS=['127.0.0.1/32'],
                   AUTH=False)
    assert other.get('/metrics').status_code == 403
    with_torrents = web(filled, METRICS=['127.0.0.0/8'], METRICS_TORRENTS=True).get('/metrics').get_data(as_text=True)
    assert 'torrent="%s"' % HASH in with_torrents


def test_no_store_yet_says_so_and_other_pages_do_not_care(tmp_path):
    w = client({'box': 'scgi://127.0.0.1:1'}, STORE=str(tmp_path / 'none.sqlite3'))
    answer = w.get('/target/box/stats/')
    assert answer.status_code == 503 and 'the worker' in answer.get_data(as_text=True)
    assert w.get('/api/target/box/stats').status_code == 503
    assert not (tmp_path / 'none.sqlite3').exists()        # pages never create the store
