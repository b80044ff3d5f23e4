"""Every page on a Transmission target, in-process, against a real transmission-daemon 3.00
started here: the list (status filters in place of views, several labels, pages), the torrent
page (only what Transmission can do), actions single and bulk, files with skip, erase both
ways, adding by upload, link and magnet, downloads; an rTorrent and a Transmission target
side by side on the front page, one down or locked not touching the other; hostile names and
labels inert; test.py.  Effects are read back from the daemon (torrent-get)."""
import functools
import hashlib
import html
import http.server
import io
import os
import re
import subprocess
import sys
import threading
import zipfile

import pytest

from tests import rig, webapp
from tests.webapp import RoundTrips, page_text

MULTI, SINGLE = "Album & 'friends' ü", 'single image.iso'
FILES = ['cd1/01 intro.flac', 'cd1/02 song.flac', 'notes ü.txt']
HOSTILE = '"><img src=x onerror=window.__xss=1>\' <svg onload=window.__xss=2>'
HOSTILE_LABEL = '</script><script>window.__xss=6</script><img src=x onerror=window.__xss=7>'
MARKUP = re.compile(r'<img src=x|<svg onload|<script>window', re.I)


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('trw'))
    daemon = rig.TransmissionDaemon(os.path.join(workdir, 'tr')).start()
    data = os.path.join(workdir, 'data')
    try:
        hashes, bodies = {}, {}
        for name, files, size in ((MULTI, FILES, 2 * 1024 * 1024 + 77), (SINGLE, 1, 1024 * 1024 + 5)):
            path = rig.make_payload(data, name, size, files=files)
            bodies[name] = rig.make_torrent(path, 'http://127.0.0.1:1/announce',
                                            os.path.join(workdir, '%d.torrent' % len(bodies)), piece_size_exp=16)
            hashes[name] = daemon.add(bodies[name], directory=data).upper()
        hostile = rig.bencode.encode({'announce': 'http://127.0.0.1:1/announce', 'info': {
            'name': HOSTILE, 'length': 5000, 'piece length': 16384, 'pieces': b'\1' * 20}})
        hashes['hostile'] = daemon.add(hostile, paused=True).upper()
        daemon.call('torrent-set', ids=[hashes['hostile'].lower()], labels=[HOSTILE_LABEL, 'two'])
        synthetic = [daemon.add(t, paused=True).upper() for t in rig.synthetic_torrents(60, start=700)]
        daemon.wait(lambda: all(t['status'] == 6 for t in daemon.torrents(
            ['status'], ids=[hashes[n].lower() for n in (MULTI, SINGLE)])), 30, 'the data to be checked')
        yield {'daemon': daemon, 'data': data, 'hashes': hashes, 'bodies': bodies, 'synthetic': synthetic,
               'workdir': workdir}
    finally:
        daemon.stop()


def web_for(box, **settings):
    target = dict({'url': box['daemon'].url, 'client': 'transmission'}, **settings.pop('target', {}))
    return webapp.client({'tr': target}, **settings)


def row(box, h, *fields):
    return box['daemon'].torrents(fields, ids=[h.lower()])[0]


def post(web, path, **fields):
    fields.setdefault('csrf_token', webapp.csrf_token(web.get('/target/tr/').get_data(as_text=True)))
    return web.post(path, data=fields)


def messages(web, location):
    page = web.get(location).get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="message-\w+" role="status">(.*?)</p>', page, re.S)]


def test_the_list_page_filters_by_state_and_labels_in_four_calls(box):
    web = web_for(box)
    trips = RoundTrips(web)
    page = web.get('/target/tr/').get_data(as_text=True)
    assert trips.calls == {'tr': 4}
    text = page_text(page)
    assert '63 of 63 torrents, page 1 of 2' in text
    assert 'Transmission 3.00' in page_text(web.get('/target/tr/settings').get_data(as_text=True))
    assert re.search(r'>all <span class="count">63</span>', page)
    assert re.search(r'data-state="seeding"[^>]*>seeding <span class="count">2</span>', page)   # the sidebar's state
    bulk = page.split('id="bulk"')[1].split('</form>')[0]
    assert 'value="start_now"' in bulk and 'value="queue_top"' in bulk
    assert 'value="pause"' not in bulk and 'value="close"' not in bulk
    assert 'labels, comma-separated' in bulk and re.search(r'<option value="0" selected>normal</option>', bulk)
    seeding = webapp.Rows(web.get('/target/tr/view/seeding/').get_data(as_text=True))
    assert sorted(seeding.names) == sorted([MULTI, SINGLE])
    trips.reset()
    second = webapp.Rows(web.get('/target/tr/?page=2&sort=size&order=desc').get_data(as_text=True))
    assert trips.calls == {'tr': 4} and len(second.rows) == 13
    labelled = web.get('/target/tr/?label=two').get_data(as_text=True)
    assert [r['hash'] for r in webapp.Rows(labelled).rows] == [box['hashes']['hostile']]
    api = web.get('/api/target/tr/torrents?view=stopped&per_page=5').get_json()
    assert api['view_total'] == 61 and len(api['torrents']) == 5 and api['header']['client'] == 'Transmission'
    assert all(t['hash'] == t['hash'].upper() and 'labels' in t for t in api['torrents'])
    assert web.get('/target/tr/view/nope/').status_code == 404


def test_the_torrent_page_offers_only_what_transmission_does(box):
    web, h = web_for(box), box['hashes'][MULTI]
    trips = RoundTrips(web)
    answer = web.get('/target/tr/torrent/%s/' % h.lower())
    assert answer.status_code == 200 and trips.calls == {'tr': 3}
    page = answer.get_data(as_text=True)
    text = page_text(page)
    for word in ('Stop', 'Check hashes', 'Announce', 'Remove…', 'Queue position', 'Labels'):
        assert word in text
    assert 'value="start_now"' not in page          # seeding: only the buttons that fit its state
    assert 'value="pause"' not in page and 'value="close"' not in page and 'Disable' not in page
    assert '<option value="skip">skip (do not download)</option>' in page
    assert 'http://127.0.0.1:1/announce' in text and '.torrent file' in text
    for f in FILES:
        assert html.escape(f.rsplit('/', 1)[-1], quote=False) in page
    api = web.get('/api/target/tr/torrent/%s' % h).get_json()['torrent']
    assert api['multi_file'] and api['torrent']['state'] == 'seeding' and len(api['files']) == 3
    assert web.get('/target/tr/torrent/%s/' % ('0' * 40)).status_code == 404


def test_actions_one_and_bulk_read_back(box):
    web, daemon = web_for(box), box['daemon']
    some = box['synthetic'][:4]
    trips = RoundTrips(web)
    token = webapp.csrf_token(web.get('/target/tr/').get_data(as_text=True))
    trips.reset()
    answer = web.post('/target/tr/action', data={'action': 'start', 'hash': some, 'csrf_token': token,
                                                 'next': '/target/tr/'})
    assert answer.status_code == 303 and trips.calls == {'tr': 3}      # and the name its message says
    daemon.wait(lambda: all(row(box, h, 'status')['status'] != 0 for h in some), 10, 'them to start')
    assert any(m.startswith("Started '") and m.endswith("' and 3 more.") for m in messages(web, answer.headers['Location']))
    post(web, '/target/tr/action', action='stop', hash=some)
    daemon.wait(lambda: all(row(box, h, 'status')['status'] == 0 for h in some), 10, 'them to stop')
    post(web, '/target/tr/action', action='label', hash=some[:2], label='Linux, ISOs')
    assert [row(box, h, 'labels')['labels'] for h in some[:2]] == [['Linux', 'ISOs']] * 2
    post(web, '/target/tr/action', action='priority', hash=some[:2], priority='-1')
    assert row(box, some[1], 'bandwidthPriority')['bandwidthPriority'] == -1
    post(web, '/target/tr/action', action='queue_top', hash=some[3])
    assert row(box, some[3], 'queuePosition')['queuePosition'] == 0
    refused = post(web, '/target/tr/action', action='pause', hash=some[:1])
    assert refused.status_code == 400 and "no action 'pause'" in html.unescape(refused.get_data(as_text=True))
    api = web.post('/api/target/tr/action', json={'action': 'recheck', 'hashes': [box['hashes'][SINGLE], 'x']},
                   headers={'X-CSRF-Token': token})
    assert [r['ok'] for r in api.get_json()['results']] == [True, False]


def test_files_get_priorities_and_skip_read_back(box):
    web, h = web_for(box), box['hashes'][MULTI]
    names = [f['name'] for f in row(box, h, 'files')['files']]
    notes = names.index(MULTI + '/notes ü.txt')
    answer = post(web, '/target/tr/torrent/%s/files' % h, file=str(notes), priority='skip')
    assert answer.status_code == 303 and 'Set 1 file to skip.' in messages(web, answer.headers['Location'])
    assert row(box, h, 'wanted')['wanted'][notes] == 0
    assert 'priority-skip' in web.get('/target/tr/torrent/%s/' % h).get_data(as_text=True)
    post(web, '/target/tr/torrent/%s/files' % h, file=str(notes), priority='1')
    got = row(box, h, 'wanted', 'priorities')
    assert got['wanted'][notes] == 1 and got['priorities'][notes] == 1
    cd1 = ','.join(str(i) for i, n in enumerate(names) if '/cd1/' in n)
    post(web, '/target/tr/torrent/%s/files' % h, folder=cd1, priority='-1')
    assert [p for i, p in enumerate(row(box, h, 'priorities')['priorities']) if i != notes] == [-1, -1]
    assert post(web, '/target/tr/torrent/%s/files' % h, file='0', priority='2').status_code == 400


def test_downloads_of_finished_files_a_zip_and_the_torrent(box):
    web, h = web_for(box, target={'download_roots': [box['data']]}), box['hashes'][MULTI]   # data it may serve
    on_disk = os.path.join(box['data'], MULTI, 'cd1', '02 song.flac')
    answer = web.get('/target/tr/torrent/%s/data/cd1/02 song.flac' % h)
    with open(on_disk, 'rb') as f:
        assert answer.status_code == 200 and answer.get_data() == f.read()
    ranged = web.get('/target/tr/torrent/%s/data/notes ü.txt' % h, headers={'Range': 'bytes=0-9'})
    assert ranged.status_code == 206 and len(ranged.get_data()) == 10
    archive = zipfile.ZipFile(io.BytesIO(web.get('/target/tr/torrent/%s/archive' % h).get_data()))
    assert sorted(archive.namelist()) == sorted(MULTI + '/' + f for f in FILES)
    metafile = web.get('/target/tr/torrent/%s/metafile' % h.lower())
    assert metafile.status_code == 200 and metafile.get_data() == box['bodies'][MULTI]
    single = web.get('/target/tr/torrent/%s/data/%s' % (box['hashes'][SINGLE], SINGLE))
    assert hashlib.sha1(single.get_data()).hexdigest() == hashlib.sha1(
        open(os.path.join(box['data'], SINGLE), 'rb').read()).hexdigest()


def test_erase_without_and_with_data_as_the_page_says(box, tmp_path):
    daemon = box['daemon']

    def added(name):
        data = str(tmp_path / name)
        path = rig.make_payload(data, name, 32 * 1024, files=['a.bin', 'b/c.bin'])
        body = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / (name + '.torrent')))
        return daemon.add(body, directory=data).upper(), data, path

    web = web_for(box)
    h, data, path = added('keep me')
    page = web.get('/target/tr/erase?hash=%s' % h.lower()).get_data(as_text=True)
    assert "Transmission deletes each torrent's own files itself" in page
    token = webapp.csrf_token(page)
    answer = web.post('/target/tr/erase', data={'hash': h, 'data': 'keep', 'csrf_token': token})
    assert 'the data is still on disk' in ' '.join(messages(web, answer.headers['Location']))
    assert not daemon.torrents(['id'], ids=[h.lower()]) and os.path.exists(os.path.join(path, 'a.bin'))

    h, data, path = added('by transmission')
    answer = web.post('/target/tr/erase', data={'hash': h, 'data': 'delete', 'csrf_token': token})
    assert 'which deleted their data itself' in ' '.join(messages(web, answer.headers['Location']))
    daemon.wait(lambda: not os.path.exists(os.path.join(path, 'a.bin')), 10, 'Transmission to delete it')

    h, data, path = added('by pyrotorrent')
    rooted = web_for(box, target={'download_roots': [data]})
    page = rooted.get('/target/tr/erase?hash=%s' % h).get_data(as_text=True)
    assert 'inside the download roots; this cannot be undone' in page
    answer = rooted.post('/target/tr/erase', data={'hash': h, 'data': 'delete', 'csrf_token': webapp.csrf_token(page)})
    assert 'deleted 2 files of their data' in ' '.join(messages(rooted, answer.headers['Location']))
    assert not os.path.exists(path)


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp('served-tr')

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
    upload, linked = rig.synthetic_torrents(2, start=990)
    (folder / 'linked.torrent').write_bytes(linked)
    roots = [str(tmp_path / 'downloads')]
    web = web_for(box, FETCH_ALLOW_NETWORKS=['127.0.0.0/8'], target={'add_directories': roots})
    page = web.get('/target/tr/add').get_data(as_text=True)
    assert "Transmission's default for tr" in page and 'Labels, comma-separated' in page
    magnet = 'magnet:?xt=urn:btih:' + 'ef' * 20 + '&dn=magnet%20one'
    answer = web.post('/target/tr/add', data={
        'csrf_token': webapp.csrf_token(page), 'files': [(io.BytesIO(upload), 'up.torrent'),
                                                         (io.BytesIO(box['bodies'][SINGLE]), 'again.torrent'),
                                                         (io.BytesIO(b'not a torrent'), 'bad.torrent')],
        'links': '%s/linked.torrent\n%s' % (base, magnet), 'start': 'no', 'directory': roots[0],
        'label': 'fresh, ünï', 'priority': 'high'}, content_type='multipart/form-data')
    assert answer.status_code == 200
    statuses = re.findall(r'data-status="(\w+)" data-hash="(\w*)"', answer.get_data(as_text=True))
    assert [s for s, _ in statuses] == ['added', 'present', 'refused', 'added', 'added']
    for _, h in (statuses[0], statuses[3], statuses[4]):
        got = row(box, h, 'labels', 'bandwidthPriority', 'downloadDir', 'status')
        assert got == {'labels': ['fresh', 'ünï'], 'bandwidthPriority': 1, 'downloadDir': roots[0],
                       'status': got['status']} and got['status'] in (0, 1, 2)
    api = web.post('/api/target/tr/add', json={'links': [magnet], 'priority': 'low'},
                   headers={'X-CSRF-Token': webapp.csrf_token(page)}).get_json()
    assert api['results'][0]['status'] == 'present'
    web.post('/api/target/tr/action', json={'action': 'erase', 'hashes': [h for _, h in statuses if h][:1]
                                            + [statuses[3][1], statuses[4][1]]},
             headers={'X-CSRF-Token': webapp.csrf_token(page)})


def test_hostile_names_and_labels_stay_text(box):
    web, h = web_for(box), box['hashes']['hostile']
    for path in ('/', '/target/tr/', '/target/tr/?label=two', '/target/tr/torrent/%s/' % h,
                 '/target/tr/erase?hash=%s' % h, '/target/tr/?q=%s' % HOSTILE):
        page = web.get(path).get_data(as_text=True)
        assert not MARKUP.search(page), path
    text = page_text(web.get('/target/tr/torrent/%s/' % h).get_data(as_text=True))
    assert HOSTILE in text and HOSTILE_LABEL in text
    data = web.get('/api/target/tr/torrents?label=two').data.decode()
    assert '<' not in data and web.get('/api/target/tr/torrents?label=two').get_json()['torrents'][0]['name'] == HOSTILE


def test_rtorrent_and_transmission_side_by_side_one_down_or_locked(box, tmp_path):
    rt = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    locked = rig.TransmissionDaemon(str(tmp_path / 'locked'), user='ann', password='secret').start()
    try:
        rt.load(rig.synthetic_torrents(1, start=3000)[0], start=False)
        wrong = 'http://ann:wrong@%s:%d/transmission/rpc' % (locked.bind, locked.rpc_port)
        web = webapp.client({'rt': rt.url, 'tr': {'url': box['daemon'].url, 'client': 'transmission'},
                             'locked': {'url': wrong, 'client': 'transmission'},
                             'gone': {'url': 'http://127.0.0.1:%d/transmission/rpc' % rig.free_port(),
                                      'client': 'transmission'}})
        text = page_text(web.get('/').get_data(as_text=True))
        assert 'rTorrent 0.9' in text and 'Transmission 3.00' in text
        assert "Transmission 'locked' at http://ann:***@%s:%d/transmission/rpc refused pyroTorrent: " \
               "wrong user name or password (HTTP 401)" % (locked.bind, locked.rpc_port) in text
        assert "Transmission 'gone' at" in text and 'is not reachable: connection refused' in text
        assert 'wrong' not in text.replace('wrong user name', '')        # the password never shows
        locked.stop()                     # down mid-session: the others as before
        text = page_text(web.get('/').get_data(as_text=True))
        assert 'rTorrent 0.9' in text and 'Transmission 3.00' in text and "'locked' is not reachable" not in text
        assert "Transmission 'locked' at" in text
    finally:
        locked.stop()
        rt.stop()


def test_a_daemon_restarted_mid_session_is_transparent_to_pages(tmp_path):
    daemon = rig.TransmissionDaemon(str(tmp_path / 'tr')).start()
    try:
        daemon.add(rig.synthetic_torrents(1, start=4000)[0], paused=True)
        web = webapp.client({'tr': {'url': daemon.url, 'client': 'transmission'}})
        assert web.get('/target/tr/').status_code == 200
        daemon.stop()
        down = web.get('/target/tr/')
        assert down.status_code == 502 and 'is not reachable' in down.get_data(as_text=True)
        daemon.start()                    # a new session id: the 409 handshake happens once, inside
        daemon.wait(lambda: daemon.torrents(['id']), 10, 'it to load its torrent again')
        trips = RoundTrips(web)
        assert web.get('/target/tr/').status_code == 200 and trips.calls == {'tr': 4}
    finally:
        daemon.stop()


def test_test_py_checks_a_transmission_target(box, tmp_path):
    config = tmp_path / 'config.py'
    config.write_text('targets = {"tr": {"url": %r, "client": "transmission"}, '
                      '"off": {"url": "http://127.0.0.1:%d/transmission/rpc", "client": "transmission"}}\n'
                      % (box['daemon'].url, rig.free_port()))
    done = subprocess.run([sys.executable, os.path.join(webapp.ROOT, 'test.py'), str(config)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = done.stdout.decode()
    assert done.returncode == 1 and 'tr: Transmission version: 3.00' in out
    assert 'off: Failed to connect to Transmission: connection refused' in out
