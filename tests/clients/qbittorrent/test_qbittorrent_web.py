"""Every page on a qBittorrent target, in-process, against the real qbittorrent-nox of the
session: the list (state filters in place of views, its categories as labels, pages) in one
sync/maindata, the torrent page (files, trackers, tags; only what it can do), actions one and
bulk, file priorities with skip, erase both ways, adding by upload, link and magnet; hostile
names inert; the front page with an rTorrent, a Transmission and a qBittorrent side by side.
Every effect is read back from qBittorrent's own API."""
import functools
import html
import http.server
import io
import os
import re
import threading

import pytest

from tests import rig, webapp
from tests.webapp import RoundTrips, page_text

MULTI, SINGLE = "Album & 'friends' ü", 'single image.iso'
FILES = ['cd1/01 intro.flac', 'cd1/02 song.flac', 'notes ü.txt']
HOSTILE = '"><img src=x onerror=window.__xss=1>\' <svg onload=window.__xss=2>'
HOSTILE_LABEL = '<img src=x onerror=window.__xss=7>'
MARKUP = re.compile(r'<img src=x|<svg onload|<script>window', re.I)


@pytest.fixture(scope='module')
def box(qbittorrent, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('qbw'))
    daemon = qbittorrent
    data = os.path.join(workdir, 'data')
    hashes, bodies = {}, {}
    for name, files, size in ((MULTI, FILES, 2 * 1024 * 1024 + 77), (SINGLE, 1, 1024 * 1024 + 5)):
        path = rig.make_payload(data, name, size, files=files)
        bodies[name] = rig.make_torrent(path, 'http://127.0.0.1:1/announce',
                                        os.path.join(workdir, '%d.torrent' % len(bodies)), piece_size_exp=16)
        hashes[name] = daemon.add(bodies[name], directory=data, tags=['lossless', 'mine'] if name == MULTI else None)
    hostile = rig.bencode.encode({'announce': 'http://127.0.0.1:1/announce', 'info': {
        'name': HOSTILE, 'length': 5000, 'piece length': 16384, 'pieces': b'\1' * 20}})
    hashes['hostile'] = daemon.add(hostile, paused=True, category=HOSTILE_LABEL)
    synthetic = [daemon.add(t, paused=True, category='two' if i < 3 else None)
                 for i, t in enumerate(rig.synthetic_torrents(60, start=700))]
    daemon.wait(lambda: all(t['state'] in ('uploading', 'stalledUP') for t in daemon.torrents(
        [hashes[n] for n in (MULTI, SINGLE)])), 30, 'the data to be checked')
    yield {'daemon': daemon, 'data': data, 'hashes': hashes, 'bodies': bodies, 'synthetic': synthetic,
           'workdir': workdir}
    daemon.post('torrents/delete', hashes='all', deleteFiles='false')


def web_for(box, **settings):
    target = dict({'url': box['daemon'].url, 'client': 'qbittorrent'}, **settings.pop('target', {}))
    return webapp.client({'q': target}, **settings)


def post(web, path, **fields):
    fields.setdefault('csrf_token', webapp.csrf_token(web.get('/target/q/').get_data(as_text=True)))
    return web.post(path, data=fields)


def messages(web, location):
    page = web.get(location).get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="message-\w+" role="status">(.*?)</p>', page, re.S)]


def test_the_list_filters_by_state_and_category_in_one_round_trip(box):
    web = web_for(box)
    trips = RoundTrips(web)
    page = web.get('/target/q/').get_data(as_text=True)
    assert trips.calls == {'q': 3}          # sync/maindata; app/version and the default folder once a backend
    text = page_text(page)
    assert '63 of 63 torrents, page 1 of 2' in text
    assert re.search(r'href="/target/q/view/seeding/"[^>]*>seeding <span class="count">2</span>', page)
    bulk = page.split('id="bulk"')[1].split('</form>')[0]
    assert 'value="start_now"' in bulk and 'value="queue_top"' in bulk and 'value="stop"' in bulk
    assert 'value="pause"' not in bulk and 'value="close"' not in bulk and 'value="priority"' not in bulk
    assert 'placeholder="label"' in bulk
    trips.reset()
    second = webapp.Rows(web.get('/target/q/?page=2&sort=size&order=desc').get_data(as_text=True))
    assert trips.calls == {'q': 1} and len(second.rows) == 13
    seeding = webapp.Rows(web.get('/target/q/view/seeding/').get_data(as_text=True))
    assert sorted(seeding.names) == sorted([MULTI, SINGLE])
    labelled = webapp.Rows(web.get('/target/q/?label=two').get_data(as_text=True))
    assert sorted(r['hash'] for r in labelled.rows) == sorted(box['synthetic'][:3])
    api = web.get('/api/target/q/torrents?view=stopped&per_page=5').get_json()
    assert api['view_total'] == 61 and len(api['torrents']) == 5 and api['header']['client'] == 'qBittorrent'
    assert all(t['hash'] == t['hash'].upper() and t['state'] == 'stopped' for t in api['torrents'])
    assert web.get('/target/q/view/nope/').status_code == 404


def test_the_torrent_page_shows_files_trackers_tags_and_only_what_it_can_do(box):
    web, h = web_for(box), box['hashes'][MULTI]
    page = web.get('/target/q/torrent/%s/' % h.lower())
    assert page.status_code == 200
    page = page.get_data(as_text=True)
    text = page_text(page)
    for word in ('Stop', 'Check hashes', 'Announce', 'Remove…', 'Tags lossless, mine'):
        assert word in text, word
    assert 'value="start_now"' not in page and 'value="pause"' not in page and 'Disable' not in page
    assert 'aria-label="new priority"' not in page       # one priority only: nothing to choose
    assert [o for o in re.findall(r'<option value="(\w+)"[^>]*>', page.split('id="files-form"')[1].split('</form>')[0])] \
        == ['0', '1', '6', '7']
    assert 'http://127.0.0.1:1/announce' in text and '[DHT]' not in text
    for f in FILES:
        assert html.escape(f.rsplit('/', 1)[-1], quote=False) in page
    api = web.get('/api/target/q/torrent/%s' % h).get_json()['torrent']
    assert api['multi_file'] and api['torrent']['state'] == 'seeding' and len(api['files']) == 3
    assert api['torrent']['tags'] == ['lossless', 'mine'] and api['chunks'] == api['chunks_completed'] > 0
    assert api['directory'] == os.path.join(box['data'], MULTI)
    assert web.get('/target/q/torrent/%s/' % ('0' * 40)).status_code == 404


def test_actions_one_and_bulk_read_back(box):
    web, daemon = web_for(box), box['daemon']
    some = box['synthetic'][10:14]
    token = webapp.csrf_token(web.get('/target/q/').get_data(as_text=True))
    trips = RoundTrips(web)
    answer = web.post('/target/q/action', data={'action': 'start', 'hash': some, 'csrf_token': token,
                                                'next': '/target/q/'})
    assert answer.status_code == 303 and trips.calls == {'q': 3}     # one more: the message names the torrent
    daemon.wait(lambda: all(not t['state'].startswith('paused') for t in daemon.torrents(some)), 10, 'them to start')
    assert any(m.startswith('Started ') and m.endswith(' and 3 more.') for m in messages(web, answer.headers['Location']))
    post(web, '/target/q/action', action='stop', hash=some)
    daemon.wait(lambda: all(t['state'] == 'pausedDL' for t in daemon.torrents(some)), 10, 'them to pause')
    post(web, '/target/q/action', action='label', hash=some[:2], label='Linux ISOs')
    assert [t['category'] for t in daemon.torrents(some[:2])] == ['Linux ISOs'] * 2
    assert 'Linux ISOs' in daemon.json('torrents/categories')
    post(web, '/target/q/action', action='unlabel', hash=some[:1])
    assert daemon.torrent(some[0])['category'] == ''
    post(web, '/target/q/action', action='start_now', hash=some[3])
    daemon.wait(lambda: daemon.torrent(some[3])['force_start'], 10, 'it to be forced')
    post(web, '/target/q/action', action='stop', hash=some[3])
    post(web, '/target/q/action', action='queue_bottom', hash=some[2])
    daemon.wait(lambda: daemon.torrent(some[2])['priority'] > 50, 10, 'it to go to the end of the queue')
    post(web, '/target/q/action', action='queue_top', hash=some[2])
    daemon.wait(lambda: daemon.torrent(some[2])['priority'] == 1, 10, 'it to go to the front of the queue')
    refused = post(web, '/target/q/action', action='pause', hash=some[:1])
    assert refused.status_code == 400 and "no action 'pause'" in html.unescape(refused.get_data(as_text=True))
    api = web.post('/api/target/q/action', json={'action': 'recheck', 'hashes': [box['hashes'][SINGLE], 'x', '0' * 40]},
                   headers={'X-CSRF-Token': token}).get_json()['results']
    assert [r['ok'] for r in api] == [True, False, False] and 'has no torrent with hash' in api[2]['reason']
    daemon.wait(lambda: daemon.torrent(box['hashes'][SINGLE])['state'] in ('uploading', 'stalledUP'), 30, 'the check')


def test_file_priorities_and_skipping_read_back(box):
    web, h = web_for(box), box['hashes'][MULTI]
    names = [f['name'] for f in box['daemon'].json('torrents/files', hash=h.lower())]
    notes = names.index(MULTI + '/notes ü.txt')
    answer = post(web, '/target/q/torrent/%s/files' % h, file=str(notes), priority='0')
    assert answer.status_code == 303 and 'Set 1 file to skip.' in messages(web, answer.headers['Location'])
    assert box['daemon'].json('torrents/files', hash=h.lower())[notes]['priority'] == 0
    cd1 = ','.join(str(i) for i, n in enumerate(names) if '/cd1/' in n)
    post(web, '/target/q/torrent/%s/files' % h, folder=cd1, priority='6')
    assert [f['priority'] for f in box['daemon'].json('torrents/files', hash=h.lower())] == \
        [0 if i == notes else 6 for i in range(3)]
    post(web, '/target/q/torrent/%s/files' % h, file=str(notes), priority='1')
    assert box['daemon'].json('torrents/files', hash=h.lower())[notes]['priority'] == 1
    assert post(web, '/target/q/torrent/%s/files' % h, file='0', priority='2').status_code == 400


def test_erase_without_and_with_data_as_the_page_says(box, tmp_path):
    daemon = box['daemon']

    def added(name):
        data = str(tmp_path / name)
        path = rig.make_payload(data, name, 32 * 1024, files=['a.bin', 'b/c.bin'])
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / (name + '.torrent')))
        return daemon.add(body, directory=data), data, path

    web = web_for(box)
    h, data, path = added('keep me')
    page = web.get('/target/q/erase?hash=%s' % h.lower()).get_data(as_text=True)
    assert "qBittorrent deletes each torrent's own files itself" in page
    token = webapp.csrf_token(page)
    answer = web.post('/target/q/erase', data={'hash': h, 'data': 'keep', 'csrf_token': token})
    assert 'the data is still on disk' in ' '.join(messages(web, answer.headers['Location']))
    daemon.wait(lambda: daemon.torrent(h) is None, 10, 'it to go')
    assert os.path.exists(os.path.join(path, 'a.bin'))

    h, data, path = added('by qbittorrent')
    answer = web.post('/target/q/erase', data={'hash': h, 'data': 'delete', 'csrf_token': token})
    assert 'which deleted their data itself' in ' '.join(messages(web, answer.headers['Location']))
    daemon.wait(lambda: not os.path.exists(os.path.join(path, 'a.bin')), 10, 'qBittorrent to delete it')

    h, data, path = added('by pyrotorrent')
    rooted = web_for(box, target={'download_roots': [data]})
    page = rooted.get('/target/q/erase?hash=%s' % h).get_data(as_text=True)
    assert 'inside the download roots; this cannot be undone' in page
    answer = rooted.post('/target/q/erase', data={'hash': h, 'data': 'delete', 'csrf_token': webapp.csrf_token(page)})
    assert 'deleted 2 files of their data' in ' '.join(messages(rooted, answer.headers['Location']))
    assert not os.path.exists(path) and daemon.torrent(h) is None

    h, data, path = added('outside')
    elsewhere = web_for(box, target={'download_roots': [str(tmp_path / 'somewhere else')]})
    api = elsewhere.post('/api/target/q/erase', json={'hashes': [h], 'delete_data': True},
                         headers={'X-CSRF-Token': token})
    assert daemon.torrent(h) is not None and os.path.exists(os.path.join(path, 'a.bin')), api.get_data(as_text=True)


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp('served-q')

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_adding_by_upload_link_and_magnet_with_results_per_item(box, served, tmp_path):
    folder, base = served
    daemon = box['daemon']
    upload, linked = rig.synthetic_torrents(2, start=990)
    (folder / 'linked.torrent').write_bytes(linked)
    roots = [str(tmp_path / 'downloads')]
    web = web_for(box, FETCH_ALLOW_NETWORKS=['127.0.0.0/8'], target={'add_directories': roots})
    page = web.get('/target/q/add').get_data(as_text=True)
    assert "qBittorrent's default for q" in page and 'name="priority"' not in page
    magnet = 'magnet:?xt=urn:btih:' + 'ef' * 20 + '&dn=magnet%20one'
    answer = web.post('/target/q/add', data={
        'csrf_token': webapp.csrf_token(page), 'files': [(io.BytesIO(upload), 'up.torrent'),
                                                         (io.BytesIO(box['bodies'][SINGLE]), 'again.torrent'),
                                                         (io.BytesIO(b'not a torrent'), 'bad.torrent')],
        'links': '%s/linked.torrent\n%s' % (base, magnet), 'start': 'no', 'directory': roots[0],
        'label': 'fresh ünï'}, content_type='multipart/form-data')
    assert answer.status_code == 200
    statuses = re.findall(r'data-status="(\w+)" data-hash="(\w*)"', answer.get_data(as_text=True))
    assert [s for s, _ in statuses] == ['added', 'present', 'refused', 'added', 'added']
    for _, h in (statuses[0], statuses[3], statuses[4]):
        got = daemon.torrent(h)
        assert (got['category'], got['save_path'].rstrip('/')) == ('fresh ünï', roots[0])
        daemon.wait(lambda: daemon.torrent(h)['state'].startswith('paused'), 10, 'it to be added paused')
    token = webapp.csrf_token(page)
    api = web.post('/api/target/q/add', json={'links': [magnet]}, headers={'X-CSRF-Token': token}).get_json()
    assert api['results'][0]['status'] == 'present'
    web.post('/api/target/q/action', json={'action': 'erase', 'hashes': [statuses[0][1], statuses[3][1],
                                                                         statuses[4][1]]},
             headers={'X-CSRF-Token': token})
    daemon.wait(lambda: not daemon.torrents([statuses[0][1], statuses[3][1], statuses[4][1]]), 10, 'them to go')


def test_hostile_names_and_categories_stay_text(box):
    web, h = web_for(box), box['hashes']['hostile']
    for path in ('/', '/target/q/', '/target/q/torrent/%s/' % h, '/target/q/erase?hash=%s' % h,
                 '/target/q/?q=%s' % HOSTILE):
        page = web.get(path).get_data(as_text=True)
        assert not MARKUP.search(page), path
    text = page_text(web.get('/target/q/torrent/%s/' % h).get_data(as_text=True))
    assert HOSTILE in text and HOSTILE_LABEL in text
