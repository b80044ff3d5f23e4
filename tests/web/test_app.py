"""The pages and the JSON API, against real rtorrent daemons (a seeder and a leecher)."""
import re

import pytest

from model.clients.types import STATES
from tests.webapp import RoundTrips, Rows, client, page_text


@pytest.fixture(scope='module')
def web(swarm):
    return client({'seeder': swarm.seeder.url, 'leecher': swarm.leecher.url}, BASE_URL='/torrent')


@pytest.fixture(scope='module')
def torrents(swarm):
    """The seeder's torrents as rtorrent reports them: no label is an empty label."""
    return [dict(t, label=t['label'] or '') for t in swarm.torrents]


def api(web, target='seeder', **params):
    response = web.get('/torrent/api/target/%s/torrents' % target, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == 'application/json'
    return response.json


def test_list_shows_every_name_exactly_and_escaped(web, swarm):
    response = web.get('/torrent/target/seeder/')
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = Rows(page)
    assert sorted(rows.names) == sorted(t['name'] for t in swarm.torrents)
    tricky = [t['name'] for t in swarm.torrents if '<' in t['name']]
    assert tricky, 'the swarm should have a name with markup in it'
    for name in tricky:
        assert name not in page            # never as raw markup
    assert '<b>' not in page.split('<main>')[1]


def test_header_figures_come_from_the_daemon(web):
    # the versions are a secondary fact: the settings page says them, not the list
    assert '0.9.8 / libTorrent 0.13.8' not in page_text(web.get('/torrent/target/seeder/').get_data(as_text=True))
    assert '0.9.8 / libTorrent 0.13.8' in page_text(web.get('/torrent/target/seeder/settings').get_data(as_text=True))
    data = api(web)
    header = data['header']
    assert header['client_version'] == '0.9.8' and header['library_version'] == '0.13.8'
    assert 'main' in header['views'] and 'seeding' in header['views']
    assert all(isinstance(header[k], int) for k in ('down_rate', 'up_rate', 'down_limit', 'up_limit'))


def test_list_page_costs_two_round_trips_whatever_the_count(swarm):
    web = client({'seeder': swarm.seeder.url, 'leecher': swarm.leecher.url})
    trips = RoundTrips(web)
    assert web.get('/').status_code == 200
    # the first page also asks each daemon for its method list, which is then cached; the
    # front page is one round trip a target, and one more for the rows of what is active
    assert set(trips.calls) == {'seeder', 'leecher'} and all(n in (2, 3) for n in trips.calls.values()), trips.calls
    for params in ({}, {'sort': 'size'}, {'sort': 'state', 'order': 'desc', 'q': 'a'}, {'per_page': 1, 'page': 2},
                   {'label': ''}, {'tracker': '127.0.0.1', 'label': ''}):
        trips.reset()
        assert web.get('/target/seeder/', query_string=params).status_code == 200
        assert trips.calls == {'seeder': 2}, params
    trips.reset()
    assert web.get('/').status_code == 200
    assert set(trips.calls) == {'seeder', 'leecher'} and all(n in (1, 2) for n in trips.calls.values()), trips.calls
    trips.reset()
    assert web.get('/target/seeder/torrent/%s/' % swarm.torrents[0]['hash']).status_code == 200
    assert trips.calls == {'seeder': 1}


def test_every_view_has_its_own_url(web, swarm):
    data = api(web)
    assert data['view_sizes']['main'] == len(swarm.torrents)
    for view in data['header']['views']:
        url = '/torrent/target/seeder/' + ('' if view == 'main' else 'view/%s/' % view)
        response = web.get(url)
        assert response.status_code == 200, view
        assert len(Rows(response.get_data(as_text=True)).rows) == min(data['view_sizes'][view], 50), view
    seeding = api(web, view='seeding')
    assert seeding['total'] == len(swarm.torrents)
    assert {t['state'] for t in seeding['torrents']} == {'seeding'}
    assert api(web, view='stopped')['total'] == 0


def test_unknown_view_is_a_404_that_names_it(web):
    response = web.get('/torrent/target/seeder/view/nosuchview/')
    assert response.status_code == 404
    assert "no view named 'nosuchview'" in page_text(response.get_data(as_text=True))


@pytest.mark.parametrize('sort, key', [
    ('size', lambda t: t['size']), ('name', lambda t: t['name'].casefold()),
    ('label', lambda t: (t['label'] == '', t['label'].casefold())),
])
def test_sort_by_column_both_ways(web, torrents, sort, key):
    by_name = {t['name']: t for t in torrents}
    ascending = [by_name[t['name']] for t in api(web, sort=sort, order='asc')['torrents']]
    assert ascending == sorted(torrents, key=lambda t: (key(t), t['name'].casefold()))
    descending = [key(by_name[t['name']]) for t in api(web, sort=sort, order='desc')['torrents']]
    assert descending == sorted((key(t) for t in torrents), reverse=True)


COLUMN_VALUE = {
    'name': lambda t: t['name'].casefold(), 'size': lambda t: t['size'], 'done': lambda t: t['progress'],
    'state': lambda t: STATES.index(t['state']), 'down': lambda t: t['down_rate'], 'up': lambda t: t['up_rate'],
    'ratio': lambda t: t['ratio'], 'peers': lambda t: t['peers'],
    'label': lambda t: (t['label'] == '', t['label'].casefold()),
    'eta': lambda t: float('inf') if t['eta'] is None else t['eta'], 'added': lambda t: t['added'],
}


@pytest.mark.parametrize('target', ['seeder', 'leecher'])
def test_every_column_sorts_both_ways(web, swarm, target):
    for column, value in COLUMN_VALUE.items():
        for order in ('asc', 'desc'):
            data = api(web, target=target, sort=column, order=order)
            assert data['sort'] == column and data['order'] == order
            values = [value(t) for t in data['torrents']]
            assert values == sorted(values, reverse=order == 'desc'), (column, order, values)
    assert api(web, sort='state')['total'] == len(swarm.torrents)


def test_filter_by_text_and_label(web, torrents):
    target = torrents[0]['name']
    word = target.split()[0][1:4]
    data = api(web, q=word.upper())
    assert data['torrents'] and all(word.casefold() in t['name'].casefold() for t in data['torrents'])
    assert data['total'] == sum(word.casefold() in t['name'].casefold() for t in torrents)
    labels = {t['label'] for t in torrents if t['label']}
    assert labels, 'the swarm should label some torrents'
    for label in labels:
        data = api(web, label=label)
        assert {t['name'] for t in data['torrents']} == {t['name'] for t in torrents if t['label'] == label}
    unlabelled = api(web, label='')
    assert {t['name'] for t in unlabelled['torrents']} == {t['name'] for t in torrents if not t['label']}
    page = web.get('/torrent/target/seeder/', query_string={'label': sorted(labels)[0]}).get_data(as_text=True)
    assert len(Rows(page).rows) == sum(t['label'] == sorted(labels)[0] for t in torrents)


def test_pages_split_the_list(web, swarm):
    seen = []
    for number in range(1, len(swarm.torrents) + 1):
        data = api(web, per_page=1, page=number)
        assert data['pages'] == len(swarm.torrents) and len(data['torrents']) == 1
        seen.append(data['torrents'][0]['name'])
    assert sorted(seen) == sorted(t['name'] for t in swarm.torrents)
    page = web.get('/torrent/target/seeder/', query_string={'per_page': 2, 'page': 2}).get_data(as_text=True)
    assert 'rel="prev"' in page and 'page 2 of' in page


@pytest.mark.parametrize('params, words', [
    ({'sort': 'bogus'}, ["Cannot sort by 'bogus'"]),
    ({'order': 'sideways'}, ['order must be']),
    ({'page': 'two'}, ['page must be a whole number']),
    ({'per_page': '0'}, ['per_page must be from 1']),
])
def test_bad_parameters_are_400_with_words(web, params, words):
    response = web.get('/torrent/target/seeder/', query_string=params)
    assert response.status_code == 400
    for word in words:
        assert word in page_text(response.get_data(as_text=True))
    response = web.get('/torrent/api/target/seeder/torrents', query_string=params)
    assert response.status_code == 400 and words[0] in response.json['error']['message']


def test_real_transfer_shows_in_figures(web, swarm):
    leeched = api(web, target='leecher')['torrents']
    assert leeched and all(t['progress'] == 1.0 for t in leeched)
    shared = {t['hash'] for t in leeched}
    seeded = {t['hash']: t for t in api(web)['torrents']}
    assert all(seeded[h]['ratio'] > 0 for h in shared), 'the seeder uploaded what the leecher has'


def test_torrent_page(web, swarm):
    torrent = max(swarm.torrents, key=lambda t: len(t['name']))
    response = web.get('/torrent/target/seeder/torrent/%s/' % torrent['hash'])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<h1 class="torrent-name">([^<]*)</h1>', page).group(1).replace('&amp;', '&') \
        .replace('&lt;', '<').replace('&gt;', '>').replace('&#34;', '"').replace('&#39;', "'") == torrent['name']
    assert torrent['hash'] in page
    response = web.get('/torrent/target/seeder/torrent/%s/' % ('0' * 40))
    assert response.status_code == 404 and 'no torrent with hash 000' in page_text(response.get_data(as_text=True))
    response = web.get('/torrent/target/seeder/torrent/not-a-hash/')
    assert response.status_code == 404 and 'is not a torrent hash' in page_text(response.get_data(as_text=True))


def test_unknown_target_is_404(web):
    response = web.get('/torrent/target/nobody/')
    assert response.status_code == 404
    assert "no target named 'nobody'" in page_text(response.get_data(as_text=True))
    assert web.get('/torrent/api/target/nobody/torrents').json['error']['status'] == 404


def test_index_shows_every_target(web, swarm):
    response = web.get('/torrent/')
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '/torrent/target/seeder/' in page and '/torrent/target/leecher/' in page
    for name, daemon in (('seeder', swarm.seeder), ('leecher', swarm.leecher)):    # counted, not listed
        card = page[page.index('id="card-%s"' % name):]
        assert 'all <span class="count">%d</span>' % daemon.call('view.size', '', 'main') in card[:card.find('</nav>')]


def test_routes_by_request_uri_under_lighttpd_rewrite(web, swarm):
    """lighttpd's rewrite hands SCRIPT_NAME=/torrent.tfcgi and a meaningless PATH_INFO."""
    response = web.get('/torrent.tfcgi', environ_overrides={
        'SCRIPT_NAME': '/torrent.tfcgi', 'PATH_INFO': 't/seeder/',
        'REQUEST_URI': '/torrent/target/seeder/?sort=size&order=desc', 'QUERY_STRING': ''})
    assert response.status_code == 200
    names = Rows(response.get_data(as_text=True)).names
    assert names == [t['name'] for t in sorted(swarm.torrents, key=lambda t: -t['size'])]


def test_manual_test_snippet_works(swarm, tmp_path, monkeypatch):
    """The setup manual's `RTorrent().get_libtorrent_version()`, with config.py's first target."""
    from model.clients.rtorrent import RTorrent
    path = tmp_path / 'config.py'
    path.write_text('targets = {"home": {"url": %r}}\n' % swarm.seeder.url)
    monkeypatch.setenv('PYROTORRENT_CONFIG', str(path))
    r = RTorrent()
    assert r.name == 'home' and r.get_libtorrent_version() == '0.13.8'
    assert r.offers() == {'multicall': 'd.multicall2', 'api_version': '10', 'filtered': True}   # rtorrent says it as text


@pytest.fixture(scope='module')
def crowd(make_box):
    """An rtorrent with 1,200 (synthetic, stopped) torrents."""
    from tests import rig
    daemon = make_box('crowd').daemon
    torrents = rig.synthetic_torrents(1200, seed='crowd')
    hashes = daemon.load_many(torrents)
    return daemon, dict(zip(hashes, torrents))


def test_round_trips_do_not_grow_with_torrents(crowd):
    from lib import bencode
    daemon, torrents = crowd
    web = client({'crowd': daemon.url})
    trips = RoundTrips(web)
    web.get('/target/crowd/')
    for params, count, expected in (({'sort': 'size', 'order': 'desc'}, 2, 50),
                                    ({'sort': 'added', 'per_page': 400}, 2, 400),
                                    ({'per_page': 1000}, 3, 1000)):   # a 1,000-row request is split
        trips.reset()
        data = web.get('/api/target/crowd/torrents', query_string=params).json
        assert trips.calls == {'crowd': count}, params
        assert data['total'] == 1200 and len(data['torrents']) == expected
        for row in data['torrents']:
            info = bencode.decode(torrents[row['hash']])[b'info']
            assert row['name'] == info[b'name'].decode() and row['size'] == info[b'length']
            assert row['state'] == 'stopped' and row['progress'] == 0
    sizes = [t['size'] for t in web.get('/api/target/crowd/torrents', query_string={'sort': 'size', 'order': 'desc'}).json['torrents']]
    assert sizes == sorted((bencode.decode(t)[b'info'][b'length'] for t in torrents.values()), reverse=True)[:50]


def test_user_text_in_error_pages_is_escaped(web):
    evil = '<script>alert("x")</script>'
    for url, params in (('/torrent/target/seeder/', {'sort': evil}),
                        ('/torrent/target/seeder/view/%s/' % evil.replace('/', '%2F'), {}),
                        ('/torrent/target/%s/' % evil.replace('/', '%2F'), {}),
                        ('/torrent/target/seeder/', {'q': evil})):
        response = web.get(url, query_string=params)
        page = response.get_data(as_text=True)
        assert '<script>alert' not in page, (url, response.status_code)
        assert response.status_code in (200, 400, 404)
    page = web.get('/torrent/target/seeder/', query_string={'q': evil}).get_data(as_text=True)
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in page   # kept in the form, as text
