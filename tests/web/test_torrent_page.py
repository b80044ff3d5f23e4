"""The torrent page, every action on a torrent, erase, and downloads, against a real rtorrent.

Every effect is read back from rtorrent itself (d.state, f.priority, ...), never from
pyroTorrent's own answer; downloads are compared byte for byte with the files on disk.
"""
import hashlib
import html
import io
import os
import re
import zipfile

import pytest

from lib import bencode
from tests import rig, webapp
from tests.webapp import RoundTrips, page_text

MULTI = 'Album ü & "friends"'
FILES = ['cd1/01 intro.flac', 'cd1/02 song.flac', 'cd2/01 other.flac', 'ünï notes.txt']
SINGLE = 'single image.iso'


@pytest.fixture(scope='module')
def box(make_box):
    """One rtorrent with a multi-file and a single-file torrent, both complete, their data
    in a download root that also holds a file of nobody's."""
    rtorrent = make_box('page')
    daemon, workdir = rtorrent.daemon, rtorrent.workdir
    data = os.path.join(workdir, 'data')
    made = {}
    for name, files, size in ((MULTI, FILES, 3 * 1024 * 1024 + 123), (SINGLE, 1, 1024 * 1024 + 7)):
        path = rig.make_payload(data, name, size, files=files)
        made[name] = rig.make_torrent(path, 'http://127.0.0.1:1/announce',
                                      os.path.join(workdir, name.replace('"', '') + '.torrent'), piece_size_exp=16)
    hashes = {name: daemon.load(body, directory=data, start=True) for name, body in made.items()}
    for h in hashes.values():
        daemon.wait(lambda: daemon.call('d.complete', h) == 1, 30, 'rtorrent to check %s' % h)
    with open(os.path.join(data, 'not a torrent.txt'), 'w') as f:
        f.write('keep me')
    return {'daemon': daemon, 'data': data, 'hashes': hashes, 'metafiles': made, 'workdir': workdir,
            'box': rtorrent}


def web_for(box, **target):
    return box['box'].web(target=dict({'download_roots': [box['data']]}, **target))


def token_of(web):
    return webapp.csrf_token(web.get('/target/t/').get_data(as_text=True))


def post(web, path, **fields):
    if 'csrf_token' not in fields:
        fields['csrf_token'] = token_of(web)
    return web.post(path, data=fields)


def messages(web, location):
    page = web.get(location).get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="message-\w+" role="status">(.*?)</p>', page, re.S)]


def states(daemon, h):
    return tuple(daemon.call(c, h) for c in ('d.state', 'd.is_active', 'd.is_open'))


# -- the page ----------------------------------------------------------------------------

def test_torrent_page_in_one_round_trip_shows_it_all(box):
    daemon, h = box['daemon'], box['hashes'][MULTI]
    web = web_for(box)
    trips = RoundTrips(web)
    answer = web.get('/target/t/torrent/%s/' % h.lower())
    assert answer.status_code == 200 and trips.calls == {'t': 1}
    page = answer.get_data(as_text=True)
    text = page_text(page)
    assert MULTI in text and h in text and 'seeding' in text and '100 %' in text
    size = daemon.call('d.size_bytes', h)
    assert '3.0 MiB' in text or '3.0 MB' in text, size
    assert daemon.call('d.directory', h) in text
    # the tree: two folders, each with its files, and a file at the top
    for part in ('cd1/', 'cd2/', '01 intro.flac', '02 song.flac', '01 other.flac', 'ünï notes.txt'):
        assert part in text, part
    assert page.count('<details open>') == 2
    # the folder's checkbox carries its files' indexes (rtorrent's order)
    paths = [row[0] for row in daemon.call('f.multicall', h, '', 'f.path=')]
    cd1 = ','.join(str(i) for i, p in enumerate(paths) if p.startswith('cd1/'))
    assert 'name="folder" value="%s"' % cd1 in page
    # trackers, the piece map (all there), downloads
    assert 'http://127.0.0.1:1/announce' in text
    assert re.search(r'<svg class="pieces"[^>]*>(<rect [^>]*fill-opacity="1.00"/>)+</svg>', page)
    assert 'href="/target/t/torrent/%s/metafile"' % h in page and '/archive"' in page


def test_unknown_hash_and_target_say_what_was_not_found(box):
    web = web_for(box)
    answer = web.get('/target/t/torrent/%s/' % ('AB' * 20))
    assert answer.status_code == 404 and 'has no torrent with hash ' + 'AB' * 20 in page_text(answer.get_data(as_text=True))
    answer = web.get('/target/t/torrent/nothex/')
    assert answer.status_code == 404 and 'is not a torrent hash' in page_text(answer.get_data(as_text=True))
    answer = web.get('/target/elsewhere/torrent/%s/' % ('AB' * 20))
    assert answer.status_code == 404 and "no target named 'elsewhere'" in page_text(answer.get_data(as_text=True))


# -- actions -------------------------------------------------------------------------------

@pytest.mark.parametrize('action, expected, words', [
    ('pause', (1, 0, 1), "Paused '%s'." % SINGLE),
    ('resume', (1, 1, 1), "Resumed '%s'." % SINGLE),
    ('stop', (0, 0, 1), "Stopped '%s'." % SINGLE),
    ('start', (1, 1, 1), "Started '%s'." % SINGLE),
    ('close', (0, 0, 0), "Closed '%s'." % SINGLE),
    ('start', (1, 1, 1), "Started '%s'." % SINGLE),
])
def test_each_action_changes_rtorrent_and_lands_back_with_a_message(box, action, expected, words):
    daemon, h = box['daemon'], box['hashes'][SINGLE]
    web = web_for(box)
    page = '/target/t/torrent/%s/' % h
    answer = post(web, '/target/t/action', action=action, hash=h, next=page)
    assert answer.status_code == 303 and answer.headers['Location'] == page
    daemon.wait(lambda: states(daemon, h) == expected, 10, '%s to leave %s' % (action, expected))
    assert messages(web, page) == [words]
    assert messages(web, page) == []                    # shown once
    # the list shows the new state at once
    state = {'pause': 'paused', 'stop': 'complete', 'close': 'complete'}.get(action, 'seeding')
    rows = {r['hash']: r['cells'] for r in webapp.Rows(web.get('/target/t/').get_data(as_text=True)).rows}
    assert rows[h][3].startswith(state)


def test_recheck_and_announce(box):
    daemon, h = box['daemon'], box['hashes'][SINGLE]
    web = web_for(box)
    before = daemon.call('t.multicall', h, '', 't.failed_counter=')[0][0]
    answer = post(web, '/target/t/action', action='announce', hash=h)
    assert answer.status_code == 303 and answer.headers['Location'] == '/target/t/'
    daemon.wait(lambda: daemon.call('t.multicall', h, '', 't.failed_counter=')[0][0] > before, 15,
                'the announce to reach (and fail at) the dead tracker')
    assert messages(web, '/target/t/') == ["Announced '%s'." % SINGLE]
    # damage a byte of the data, then ask for a check: rtorrent finds it incomplete
    path = os.path.join(box['data'], SINGLE)
    with open(path, 'r+b') as f:
        original = f.read(1)
        f.seek(0)
        f.write(bytes([original[0] ^ 0xFF]))
    try:
        assert post(web, '/target/t/action', action='recheck', hash=h).status_code == 303
        daemon.wait(lambda: daemon.call('d.hashing', h) == 0 and daemon.call('d.complete', h) == 0, 30,
                    'the check to find the damaged piece')
        assert daemon.call('d.completed_chunks', h) == daemon.call('d.size_chunks', h) - 1
    finally:
        with open(path, 'r+b') as f:
            f.write(original)
        post(web, '/target/t/action', action='recheck', hash=h)
        daemon.wait(lambda: daemon.call('d.hashing', h) == 0 and daemon.call('d.complete', h) == 1, 30,
                    'the check to find it whole again')


def test_label_priority_and_directory(box):
    daemon, h = box['daemon'], box['hashes'][SINGLE]
    web = web_for(box, add_directories=[box['data'], os.path.join(box['workdir'], 'elsewhere')])
    label = '</b> x,d.erase= "q" \'s ü'
    post(web, '/target/t/action', action='label', hash=h, label=label)
    assert daemon.call('d.custom1', h) == label
    post(web, '/target/t/action', action='priority', hash=h, priority='3')
    assert daemon.call('d.priority', h) == 3
    answer = post(web, '/target/t/action', action='priority', hash=h, priority='9')
    assert answer.status_code == 400 and daemon.call('d.priority', h) == 3
    # the directory: refused while started, then done once closed (read back from rtorrent)
    old = daemon.call('d.directory', h)
    elsewhere = os.path.join(box['workdir'], 'elsewhere')
    os.makedirs(elsewhere, exist_ok=True)
    answer = post(web, '/target/t/action', action='directory', hash=h, directory=elsewhere)
    told = messages(web, answer.headers['Location'])
    assert 'stop and close it before changing its directory' in told[0] and daemon.call('d.directory', h) == old
    post(web, '/target/t/action', action='close', hash=h)
    post(web, '/target/t/action', action='directory', hash=h, directory=elsewhere)
    assert daemon.call('d.directory', h) == elsewhere
    post(web, '/target/t/action', action='directory', hash=h, directory=box['data'])
    post(web, '/target/t/action', action='start', hash=h)
    daemon.wait(lambda: daemon.call('d.directory', h) == old and states(daemon, h) == (1, 1, 1), 10, 'back home')
    post(web, '/target/t/action', action='priority', hash=h, priority='2')


def test_bulk_action_from_the_list_is_one_round_trip(box):
    daemon, hashes = box['daemon'], list(box['hashes'].values())
    web = web_for(box)
    page = web.get('/target/t/').get_data(as_text=True)
    assert 'form="bulk"' in page and page.count('name="hash"') == 2
    token = token_of(web)
    trips = RoundTrips(web)
    answer = post(web, '/target/t/action', action='stop', hash=hashes, next='/target/t/?sort=size', csrf_token=token)
    assert trips.calls == {'t': 2}          # the action, then the name its message says
    assert answer.headers['Location'] == '/target/t/?sort=size'
    assert [daemon.call('d.state', h) for h in hashes] == [0, 0]
    first = list(box['hashes'])[0]
    assert messages(web, '/target/t/') == ["Stopped '%s' and 1 more." % first]
    post(web, '/target/t/action', action='start', hash=hashes + ['CD' * 20])
    assert [daemon.call('d.state', h) for h in hashes] == [1, 1]
    assert messages(web, '/target/t/') == ["Started '%s' and 1 more." % first, 'A selected torrent is no longer on t '
                                           '(removed meanwhile?); reload the list and choose again.']
    answer = post(web, '/target/t/action', action='stop')
    assert messages(web, answer.headers['Location']) == ['Select at least one torrent first; nothing was changed.']


def test_file_priorities_one_file_a_folder_and_a_selection(box):
    daemon, h = box['daemon'], box['hashes'][MULTI]
    web = web_for(box)
    paths = [row[0] for row in daemon.call('f.multicall', h, '', 'f.path=')]

    def priorities():
        return {p: row[0] for p, row in zip(paths, daemon.call('f.multicall', h, '', 'f.priority='))}
    index = {p: str(i) for i, p in enumerate(paths)}
    base = '/target/t/torrent/%s/files' % h
    answer = post(web, base, file=index['ünï notes.txt'], priority='0')
    assert answer.headers['Location'].endswith('/torrent/%s/#files' % h)
    assert priorities() == {'cd1/01 intro.flac': 1, 'cd1/02 song.flac': 1, 'cd2/01 other.flac': 1, 'ünï notes.txt': 0}
    assert messages(web, '/target/t/torrent/%s/' % h) == ['Set 1 file to off.']
    post(web, base, folder=','.join(index[p] for p in paths if p.startswith('cd1/')), priority='2')
    assert priorities() == {'cd1/01 intro.flac': 2, 'cd1/02 song.flac': 2, 'cd2/01 other.flac': 1, 'ünï notes.txt': 0}
    post(web, base, file=[index['cd2/01 other.flac'], index['ünï notes.txt']],
         folder=','.join(index[p] for p in paths if p.startswith('cd1/')), priority='1')
    assert set(priorities().values()) == {1}
    assert post(web, base, file='x', priority='1').status_code == 400
    assert post(web, base, file='0', priority='5').status_code == 400


def test_tracker_enable_and_disable(box):
    daemon, h = box['daemon'], box['hashes'][MULTI]
    web = web_for(box)
    post(web, '/target/t/torrent/%s/trackers' % h, tracker='0', enabled='0')
    assert daemon.call('t.multicall', h, '', 't.is_enabled=') == [[0]]
    assert 'Enable</button>' in web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
    post(web, '/target/t/torrent/%s/trackers' % h, tracker='0', enabled='1')
    assert daemon.call('t.multicall', h, '', 't.is_enabled=') == [[1]]


def test_viewers_see_no_forms_and_cannot_act(box):
    from lib import auth
    web = webapp.client({'t': {'url': box['daemon'].url}},
                        users={'vic': {'password': auth.hash_password('vic-secret'), 'role': 'viewer'}})
    webapp.login(web, 'vic', 'vic-secret')
    h = box['hashes'][SINGLE]
    page = web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
    assert 'action="/target/t/action"' not in page and 'name="file"' not in page
    assert 'form="bulk"' not in web.get('/target/t/').get_data(as_text=True)
    token = webapp.csrf_token(page)                                              # the logout form's
    assert web.post('/target/t/action', data={'action': 'stop', 'hash': h, 'csrf_token': token}).status_code == 403
    assert box['daemon'].call('d.state', h) == 1


# -- downloads -------------------------------------------------------------------------------

def test_metafile_is_rtorrents_copy(box):
    h = box['hashes'][MULTI]
    answer = web_for(box).get('/target/t/torrent/%s/metafile' % h)
    assert answer.status_code == 200 and answer.headers['Content-Type'] == 'application/x-bittorrent'
    assert bencode.info_hash(answer.get_data()) == h
    assert "filename*=UTF-8''Album%20%C3%BC%20&%20%22friends%22.torrent" in answer.headers['Content-Disposition']


def test_file_download_byte_exact_with_ranges(box):
    h = box['hashes'][MULTI]
    web = web_for(box)
    local = os.path.join(box['data'], MULTI, 'ünï notes.txt')
    body = open(local, 'rb').read()
    url = '/target/t/torrent/%s/data/%s' % (h, 'ünï notes.txt')
    answer = web.get(url)
    assert answer.status_code == 200 and answer.get_data() == body
    assert answer.headers['Content-Length'] == str(len(body)) and answer.headers['Content-Type'].startswith('text/plain')
    assert "filename*=UTF-8''%C3%BCn%C3%AF%20notes.txt" in answer.headers['Content-Disposition']
    assert answer.headers['ETag'] and answer.headers['Last-Modified'] and answer.headers['Accept-Ranges'] == 'bytes'
    part = web.get(url, headers={'Range': 'bytes=10-99'})
    assert part.status_code == 206 and part.get_data() == body[10:100]
    assert part.headers['Content-Range'] == 'bytes 10-99/%d' % len(body)
    tail = web.get(url, headers={'Range': 'bytes=-100'})
    assert tail.status_code == 206 and tail.get_data() == body[-100:]
    beyond = web.get(url, headers={'Range': 'bytes=%d-' % (len(body) + 10)})
    assert beyond.status_code == 416 and beyond.headers['Content-Range'] == 'bytes */%d' % len(body)
    nested = web.get('/target/t/torrent/%s/data/cd1/02%%20song.flac' % h)
    assert hashlib.sha1(nested.get_data()).digest() == hashlib.sha1(
        open(os.path.join(box['data'], MULTI, 'cd1', '02 song.flac'), 'rb').read()).digest()
    single = web.get('/target/t/torrent/%s/data/%s' % (box['hashes'][SINGLE], SINGLE))
    assert single.get_data() == open(os.path.join(box['data'], SINGLE), 'rb').read()


@pytest.mark.parametrize('path', ['../not a torrent.txt', 'cd1/../../not a torrent.txt', '/etc/hostname',
                                  'cd1%2F01 intro.flac', 'cd1/%2e%2e/%2e%2e/not a torrent.txt',
                                  'missing.txt', 'cd1'])
def test_download_refuses_paths_outside_the_torrent(box, path):
    h = box['hashes'][MULTI]
    answer = web_for(box).get('/target/t/torrent/%s/data/%s' % (h, path), follow_redirects=True)
    assert answer.status_code == 404, path          # ('data//etc' is first redirected to 'data/etc')
    assert b'keep me' not in answer.get_data()
    # the single-file torrent's folder is the shared download folder: only its own file is served
    answer = web_for(box).get('/target/t/torrent/%s/data/not a torrent.txt' % box['hashes'][SINGLE])
    assert answer.status_code == 404 and 'has no file' in page_text(answer.get_data(as_text=True))


def test_download_refuses_a_symlink_out_of_the_torrent(box, tmp_path):
    h = box['hashes'][MULTI]
    outside = tmp_path / 'secret.txt'
    outside.write_text('secret')
    local = os.path.join(box['data'], MULTI, 'cd2', '01 other.flac')
    saved = local + '.saved'
    os.rename(local, saved)
    os.symlink(outside, local)
    try:
        answer = web_for(box).get('/target/t/torrent/%s/data/cd2/01 other.flac' % h)
        assert answer.status_code == 404 and b'secret' not in answer.get_data()
        assert 'leads outside' in page_text(answer.get_data(as_text=True))
    finally:
        os.unlink(local)
        os.rename(saved, local)


def test_archive_of_the_torrent_and_of_a_folder(box):
    h = box['hashes'][MULTI]
    web = web_for(box)
    answer = web.get('/target/t/torrent/%s/archive' % h)
    assert answer.status_code == 200 and answer.headers['Content-Type'] == 'application/zip'
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    assert sorted(archive.namelist()) == sorted('%s/%s' % (MULTI, f) for f in FILES)
    for f in FILES:
        assert archive.read('%s/%s' % (MULTI, f)) == open(os.path.join(box['data'], MULTI, f), 'rb').read()
    folder = zipfile.ZipFile(io.BytesIO(web.get('/target/t/torrent/%s/archive?folder=cd1' % h).get_data()))
    assert sorted(folder.namelist()) == ['%s/cd1/01 intro.flac' % MULTI, '%s/cd1/02 song.flac' % MULTI]
    assert web.get('/target/t/torrent/%s/archive?folder=nope' % h).status_code == 404


def test_remote_target_without_path_map_offers_no_downloads_or_deletes(box):
    web = web_for(box, local=False, download_roots=[])
    h = box['hashes'][MULTI]
    page = web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
    assert '/metafile"' not in page and '/archive"' not in page and '/torrent/%s/data/' % h not in page
    assert 'cannot see' in page_text(page)
    answer = web.get('/target/t/torrent/%s/data/ünï notes.txt' % h)
    assert answer.status_code == 404 and 'cannot see the disk' in page_text(answer.get_data(as_text=True))
    erase = web.get('/target/t/erase?hash=%s' % h).get_data(as_text=True)
    assert 'value="delete"' not in erase and 'cannot delete data' in page_text(erase)
    assert post(web, '/target/t/erase', hash=h, data='delete').status_code == 400
    assert box['daemon'].call('d.name', h) == MULTI


# -- erase ------------------------------------------------------------------------------------

def test_erase_keeping_data_then_erase_deleting_exactly_the_torrents_files(box, tmp_path):
    daemon, data = box['daemon'], box['data']
    web = web_for(box)
    name = 'Erase me ü'
    payload = rig.make_payload(data, name, 256 * 1024, files=FILES)
    metafile = rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'erase.torrent'), piece_size_exp=16)
    h = daemon.load(metafile, directory=data, start=True)
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 30, 'the check of %s' % name)
    before = sorted(os.path.relpath(os.path.join(d, f), data) for d, _, fs in os.walk(data) for f in fs)
    # the action sends the user to the confirmation page first: nothing removed yet
    answer = post(web, '/target/t/action', action='erase', hash=h, next='/target/t/torrent/%s/' % h)
    assert answer.status_code == 303 and '/target/t/erase?hash=%s' % h in answer.headers['Location']
    confirm = web.get(answer.headers['Location']).get_data(as_text=True)
    assert name in page_text(confirm) and 'value="keep" checked' in confirm and 'value="delete"' in confirm
    assert daemon.call('d.name', h) == name
    answer = post(web, '/target/t/erase', hash=h, data='keep', next='/target/t/torrent/%s/' % h)
    assert answer.headers['Location'] == '/target/t/'              # its own page is gone
    assert h not in daemon.call('download_list', '')
    assert sorted(os.path.relpath(os.path.join(d, f), data) for d, _, fs in os.walk(data) for f in fs) == before
    assert messages(web, '/target/t/') == ["Removed '%s' from rTorrent; the data is still on disk." % name]

    # again, this time deleting the data: a stray file inside its folder and the neighbours stay
    h = daemon.load(metafile, directory=data, start=True)
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 30, 'the check of the reloaded torrent')
    stray = os.path.join(data, name, 'cd2', 'mine.txt')
    with open(stray, 'w') as f:
        f.write('not the torrent\'s')
    outside = tmp_path / 'outside.flac'
    outside.write_text('outside')
    link = os.path.join(data, name, 'cd1', '02 song.flac')
    os.unlink(link)
    os.symlink(outside, link)                                   # a file of the torrent that points out
    answer = post(web, '/target/t/erase', hash=h, data='delete')
    assert h not in daemon.call('download_list', '')
    left = sorted(os.path.relpath(os.path.join(d, f), data) for d, _, fs in os.walk(data) for f in fs)
    mine = sorted(p for p in before if not p.startswith(name + '/')) + [os.path.join(name, 'cd2', 'mine.txt')]
    assert left == sorted(mine)
    assert not os.path.exists(os.path.join(data, name, 'cd1'))        # emptied, so removed
    assert outside.read_text() == 'outside'
    assert messages(web, answer.headers['Location'])[0] == "Removed '%s' from rTorrent and deleted 4 files of their data." % name
    assert daemon.call('d.name', box['hashes'][MULTI]) == MULTI


# -- in a real browser ------------------------------------------------------------------------

@pytest.fixture(scope='module')
def site(box, tmp_path_factory):
    with webapp.http_server(str(tmp_path_factory.mktemp('page-http')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 0,
            'targets': {'t': {'url': box['daemon'].url, 'download_roots': [box['data']]}}}) as url:
        yield url


def test_browser_walk_list_torrent_files_priority_stop_start(box, site, driver):
    from selenium.webdriver.common.by import By
    from tests.browser import open_page, wait
    daemon, h = box['daemon'], box['hashes'][MULTI]
    open_page(driver, site + '/target/t/')
    driver.find_element(By.CSS_SELECTOR, 'tr[data-hash="%s"] td.name a' % h).click()
    wait(driver, lambda d: d.current_url.endswith('/torrent/%s/' % h), 'the torrent page')
    assert driver.find_element(By.CSS_SELECTOR, 'h1.torrent-name').text == MULTI
    # the files tree: folders fold away and open again
    cd1 = driver.find_element(By.XPATH, "//li[@class='folder']/details[.//span[@class='name' and text()='cd1/']]")
    song = cd1.find_element(By.XPATH, ".//li[@class='file'][.//span[@class='name'][normalize-space(.)='02 song.flac']]")
    assert song.is_displayed()
    cd1.find_element(By.TAG_NAME, 'summary').find_element(By.CSS_SELECTOR, 'span.name').click()
    wait(driver, lambda d: not song.is_displayed(), 'cd1 to fold')
    cd1.find_element(By.TAG_NAME, 'summary').find_element(By.CSS_SELECTOR, 'span.name').click()
    wait(driver, lambda d: song.is_displayed(), 'cd1 to open')
    # tick one file, choose "high", apply: rtorrent has it
    song.find_element(By.CSS_SELECTOR, 'input[name=file]').click()
    driver.find_element(By.CSS_SELECTOR, '#files-form select[name=priority] option[value="2"]').click()
    driver.find_element(By.CSS_SELECTOR, '#files-form button[type=submit]').click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'p.message-done'), 'the message')
    assert driver.find_element(By.CSS_SELECTOR, 'p.message-done').text == 'Set 1 file to high.'
    paths = [row[0] for row in daemon.call('f.multicall', h, '', 'f.path=')]
    prios = dict(zip(paths, [row[0] for row in daemon.call('f.multicall', h, '', 'f.priority=')]))
    assert prios['cd1/02 song.flac'] == 2 and prios['cd1/01 intro.flac'] == 1
    # stop, then start, from the action buttons
    for button, state, words in (('stop', 0, "Stopped '%s'." % MULTI), ('start', 1, "Started '%s'." % MULTI)):
        driver.find_element(By.CSS_SELECTOR, '.actions button[value="%s"]' % button).click()
        wait(driver, lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('p.message-done')).map(function (p) { return p.textContent; })")
             == [words], words)
        assert daemon.call('d.state', h) == state
    assert driver.current_url.endswith('/torrent/%s/' % h)
    daemon.call('f.priority.set', '%s:f%d' % (h, paths.index('cd1/02 song.flac')), 1)


def test_json_api_detail_and_actions(box):
    daemon, h = box['daemon'], box['hashes'][SINGLE]
    web = web_for(box)
    detail = web.get('/api/target/t/torrent/%s' % h).json
    assert detail['torrent']['torrent']['hash'] == h and detail['torrent']['files'][0]['path'] == SINGLE
    assert 'local_directory' not in detail['torrent'] and detail['torrent']['can_delete_data'] is True
    token = web.get('/api/session').json['csrf_token']
    answer = web.post('/api/target/t/action', json={'action': 'pause', 'hashes': [h, 'nope']},
                      headers={'X-CSRF-Token': token})
    assert answer.status_code == 200 and daemon.call('d.is_active', h) == 0
    assert answer.json['results'] == [{'hash': h, 'ok': True, 'reason': ''},
                                      {'hash': 'nope', 'ok': False,
                                       'reason': "'nope' is not a torrent hash (40 hexadecimal digits)"}]
    answer = web.post('/api/target/t/action', json={'action': 'resume', 'hashes': [h]})
    assert answer.status_code == 403 and daemon.call('d.is_active', h) == 0        # no token
    web.post('/api/target/t/action', json={'action': 'resume', 'hashes': [h]}, headers={'X-CSRF-Token': token})
    assert daemon.call('d.is_active', h) == 1
    answer = web.post('/api/target/t/action', json={'action': 'explode', 'hashes': [h]}, headers={'X-CSRF-Token': token})
    assert answer.status_code == 400 and "There is no action 'explode'" in answer.json['error']['message']


def test_hash_check_progress_shows_while_checking(box, tmp_path):
    """rtorrent 0.9.8 counts d.chunks_hashed in steps: the first 128 MiB show as hashed at
    once, then it counts up (measured: 526 of 1,024 chunks at 2 ms, all at 150 ms).  So
    256 MiB, and the page must show the progress bar with a fraction between 0 and 1."""
    daemon, data = box['daemon'], str(tmp_path / 'big')
    payload = rig.make_payload(data, 'big.bin', 256 * 1024 * 1024)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'big.torrent')),
                    directory=data, start=False)
    web = web_for(box)
    seen = []
    try:
        for _ in range(3):                         # a machine too quick for one look: check again
            daemon.call('d.check_hash', h)
            while True:
                page = web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
                found = re.search(r'<progress class="check" max="1" value="([0-9.]+)"></progress> [0-9.]+ % checked', page)
                if found:
                    seen.append(float(found.group(1)))
                if daemon.call('d.hashing', h) == 0 and not found:
                    break
            if any(0 < f < 1 for f in seen):
                break
        assert any(0 < f < 1 for f in seen), seen
    finally:
        daemon.call('d.erase', h)
        os.unlink(payload)                         # pytest keeps the last runs' folders


def test_erase_lands_back_on_the_list_it_came_from(box, tmp_path):
    """Under BASE_URL /torrent too: the list with its sort order, not the gone torrent's page."""
    daemon = box['daemon']
    web = webapp.client({'t': {'url': daemon.url}}, BASE_URL='/torrent')
    payload = rig.make_payload(str(tmp_path), 'gone soon.bin', 4096)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'g.torrent')),
                    directory=str(tmp_path), start=False)
    page = web.get('/torrent/target/t/?sort=size').get_data(as_text=True)
    token = webapp.csrf_token(page)
    answer = web.post('/torrent/target/t/erase', data={'hash': h, 'data': 'keep', 'csrf_token': token,
                                                      'next': '/torrent/target/t/?sort=size'})
    assert answer.headers['Location'] == '/torrent/target/t/?sort=size'
    answer = web.post('/torrent/target/t/erase', data={'hash': h, 'csrf_token': token,
                                                      'next': '/torrent/target/t/torrent/%s/' % h})
    assert answer.headers['Location'] == '/torrent/target/t/'
    assert h not in daemon.call('download_list', '') and os.path.exists(payload)
