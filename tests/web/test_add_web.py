"""The add page and its JSON twin against a real rtorrent of this module's own:
each input kind with its options read back from rtorrent, a link served by a local HTTP
server, duplicates, mixed batches, refused folders, the upload cap, roles, CSRF, hostile
names; then the same page in headless Chromium (the form, and a dropped file)."""
import base64
import functools
import http.server
import io
import os
import threading
import urllib.parse

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from lib import auth, bencode, config, metafile, paths
from tests import rig, webapp
from tests.browser import csp_errors, wait
from tests.servers import QuietHandler
from tests.webapp import Results, fields, page_text, post_add

PASSWORDS = {'bob': 'bob-secret-2', 'vic': 'vic-secret-3'}
USERS = {
    'bob': {'password': auth.hash_password(PASSWORDS['bob']), 'role': 'user'},
    'vic': {'password': auth.hash_password(PASSWORDS['vic']), 'role': 'viewer'},
}


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('add-web').daemon


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    """Two folders users may add into (rtorrent-side; the same machine here)."""
    base = tmp_path_factory.mktemp('add-roots')
    return [str(base / 'downloads'), str(base / 'music')]


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    """A local HTTP server in a thread, serving a folder: (folder, base URL)."""
    folder = tmp_path_factory.mktemp('served')
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def make_client(daemon, roots, tmp_path, **settings):
    settings.setdefault('users', USERS)
    settings.setdefault('session_options', {'session.data_dir': str(tmp_path / 'sessions')})
    settings.setdefault('FETCH_ALLOW_NETWORKS', ['127.0.0.0/8'])
    return webapp.client({'box': {'url': daemon.url, 'add_directories': roots}}, **settings)


def login(web, name):
    """Log in; the session's CSRF token."""
    answer = webapp.login(web, name, PASSWORDS[name], next='/')
    assert answer.status_code == 303
    return csrf(web, '/')


def csrf(web, path):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


@pytest.fixture
def web(daemon, roots, tmp_path):
    client = make_client(daemon, roots, tmp_path)
    client.token = login(client, 'bob')
    return client


_SEQ = iter(range(10_000))


def fresh(n=1):
    """n never-loaded synthetic .torrent files: [(bytes, Metafile)]."""
    start = next(_SEQ) * 20
    out = []
    for i, data in enumerate(rig.synthetic_torrents(n, start=start, seed='add-web')):
        out.append((data, metafile.parse(data)))
    return out


def results(answer):
    assert answer.status_code == 200, page_text(answer.get_data(as_text=True))
    return Results(answer.get_data(as_text=True)).items


# ---------------------------------------------------------------- each kind, each option

def test_uploaded_files_are_added_in_order_with_every_option(web, daemon, roots):
    (a_bytes, a), (b_bytes, b) = fresh(2)
    answer = post_add(web, [(a_bytes, 'first.torrent'), (b_bytes, 'second.torrent')],
                      start='no', directory=roots[0], label='Linux ISOs', priority='high')
    items = results(answer)
    assert [(s, h) for s, h, _ in items] == [('added', a.info_hash), ('added', b.info_hash)]
    assert '[link /target/box/torrent/%s/]' % a.info_hash in items[0][2] and a.name in items[0][2]
    assert 'from first.torrent' in items[0][2]
    for item in (a, b):
        assert fields(daemon, item.info_hash) == {'d.name': item.name, 'd.directory': roots[0],
                                                  'd.custom1': 'Linux ISOs', 'd.priority': 3, 'd.state': 0}
    # the form comes back with the options kept and the links emptied
    page = answer.get_data(as_text=True)
    assert 'value="Linux ISOs"' in page and '<option value="high" selected>' in page


def test_a_real_torrent_started_in_a_typed_folder_inside_an_allowed_one(web, daemon, roots, tmp_path):
    path = rig.make_payload(str(tmp_path / 'src'), 'payload.bin', 40_000)
    data = rig.make_torrent(path, 'http://127.0.0.1:1/announce', str(tmp_path / 'p.torrent'), piece_size_exp=15)
    item = metafile.parse(data)
    typed = roots[1] + '/Live, "2024"/'
    [(status, info_hash, text)] = results(post_add(web, [(data, 'p.torrent')], start='yes', path=typed,
                                                   directory=roots[0], priority='low'))
    assert (status, info_hash) == ('added', item.info_hash) and '39.1 KiB' in text
    got = fields(daemon, item.info_hash)
    assert got['d.directory'] == roots[1] + '/Live, "2024"' and got['d.priority'] == 1
    assert got['d.state'] == 1 and got['d.custom1'] == ''


def test_a_magnet_link_with_the_defaults_and_a_label(web, daemon):
    [(_, source)] = fresh()
    link = 'magnet:?xt=urn:btih:%s&dn=From+a+magnet&tr=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fannounce' % source.info_hash
    [(status, info_hash, text)] = results(post_add(web, links='\n  %s  \n\n' % link, start='no',
                                                   label='x,d.erase=', priority='off'))
    assert (status, info_hash) == ('added', source.info_hash)
    assert 'From a magnet' in text and 'metadata' in text          # no size before the metadata
    got = fields(daemon, source.info_hash)
    assert got['d.directory'].rstrip('/') == daemon.download_dir      # rtorrent's default
    assert (got['d.custom1'], got['d.priority'], got['d.state']) == ('x,d.erase=', 0, 0)


def test_a_direct_link_served_here_is_fetched_and_added(web, daemon, served, daemon_count, roots, tmp_path):
    folder, base = served
    [(data, item)] = fresh()
    (folder / 'one file.torrent').write_bytes(data)
    url = base + '/one%20file.torrent'
    [(status, info_hash, text)] = results(post_add(web, links=url, start='no', label='linked'))
    assert (status, info_hash) == ('added', item.info_hash) and 'from %s' % url in text
    assert fields(daemon, item.info_hash)['d.custom1'] == 'linked'
    # without FETCH_ALLOW_NETWORKS a loopback link is refused, in words, and nothing is added
    [(_, other)] = fresh()
    (folder / 'two.torrent').write_bytes(rig.synthetic_torrents(1, start=9000, seed='add-web')[0])
    strict = make_client(daemon, roots, tmp_path, FETCH_ALLOW_NETWORKS=[])
    strict.token = login(strict, 'bob')
    before = daemon_count()
    [(status, _, text)] = results(post_add(strict, links=base + '/two.torrent'))
    assert status == 'refused' and 'loopback' in text and daemon_count() == before


@pytest.fixture
def daemon_count(daemon):
    return lambda: len(daemon.hashes())


def test_duplicates_are_present_or_refused_and_nothing_changes(web, daemon, daemon_count):
    [(data, item)] = fresh()
    assert results(post_add(web, [(data, 'a.torrent')], start='no', label='first'))[0][0] == 'added'
    before = daemon_count()
    magnet = 'magnet:?xt=urn:btih:' + item.info_hash.lower()
    items = results(post_add(web, [(data, 'again.torrent'), (data, 'and again.torrent')], links=magnet,
                             start='yes', label='second'))
    assert [s for s, _, _ in items] == ['present', 'refused', 'refused']
    assert '[link /target/box/torrent/%s/]' % item.info_hash in items[0][2]
    assert 'the same torrent as item 1' in items[1][2] and 'the same torrent as item 1' in items[2][2]
    assert daemon_count() == before
    got = fields(daemon, item.info_hash)
    assert (got['d.custom1'], got['d.state']) == ('first', 0)        # nothing changed


def test_a_mixed_batch_keeps_its_order_and_adds_the_good_ones(web, daemon, daemon_count):
    (good_bytes, good), (_, magnet_source) = fresh(2)
    before = daemon_count()
    lines = '\n'.join(['magnet:?xt=urn:btih:%s&tr=http://127.0.0.1:1/announce' % magnet_source.info_hash,
                       'magnet:?xt=urn:btih:nothex',
                       'ftp://127.0.0.1/x.torrent',
                       'http://10.1.2.3/x.torrent'])
    items = results(post_add(web, [(b'not a torrent at all', 'notes.txt'), (good_bytes, 'good.torrent'),
                                   (b'd4:infoi1ee', 'broken.torrent')], links=lines, start='no'))
    assert [s for s, _, _ in items] == ['refused', 'added', 'refused', 'added', 'refused', 'refused', 'refused']
    assert 'not a .torrent file' in items[0][2] and 'from notes.txt' in items[0][2]
    assert items[1][1] == good.info_hash and items[3][1] == magnet_source.info_hash
    assert 'info-hash' in items[4][2]
    assert 'http' in items[5][2] and 'private' in items[6][2]
    assert daemon_count() == before + 2
    assert {good.info_hash, magnet_source.info_hash} <= set(daemon.hashes())


# ---------------------------------------------------------------- refusals: nothing added

@pytest.mark.parametrize('where', [
    {'path': '/etc'},
    {'path': '{0}/../escape'},
    {'path': '{0}-evil/x'},                 # a sibling that merely begins with the same text
    {'path': '{0}//x'},
    {'path': 'relative/folder'},
    {'directory': '/tmp'},                  # a choice the form never offered
])
def test_a_folder_outside_the_allowed_ones_is_refused_and_nothing_added(where, web, roots, daemon_count):
    [(data, item)] = fresh()
    before = daemon_count()
    where = {k: v.format(roots[0]) for k, v in where.items()}
    answer = post_add(web, [(data, 'a.torrent')], links='magnet:?xt=urn:btih:' + '1' * 40, **where)
    assert answer.status_code == 400
    text = page_text(answer.get_data(as_text=True))
    assert 'Nothing was added' in text and ('not inside' in text or 'plain path' in text or 'absolute' in text)
    assert 'magnet:?xt=urn:btih:' + '1' * 40 in answer.get_data(as_text=True)     # the links are kept
    assert daemon_count() == before


def test_a_target_without_add_directories_takes_only_its_default(daemon, tmp_path, daemon_count):
    web = make_client(daemon, [], tmp_path)
    web.token = login(web, 'bob')
    [(data, _)] = fresh()
    before = daemon_count()
    answer = post_add(web, [(data, 'a.torrent')], path='/srv')
    assert answer.status_code == 400 and 'no add_directories' in page_text(answer.get_data(as_text=True))
    assert daemon_count() == before
    assert 'or a folder inside' not in web.get('/target/box/add').get_data(as_text=True)


def test_an_empty_form_says_so(web):
    answer = post_add(web)
    assert answer.status_code == 400 and 'Nothing to add' in page_text(answer.get_data(as_text=True))


def test_the_upload_cap_answers_413_in_words_and_adds_nothing(daemon, roots, tmp_path, daemon_count):
    web = make_client(daemon, roots, tmp_path, MAX_UPLOAD_BYTES=64 * 1024)
    web.token = login(web, 'bob')
    [(data, item)] = fresh()
    before = daemon_count()
    answer = post_add(web, [(data, 'a.torrent'), (os.urandom(70 * 1024), 'big.torrent')])
    assert answer.status_code == 413
    text = page_text(answer.get_data(as_text=True))
    assert 'MAX_UPLOAD_BYTES' in text and '64.0 KiB' in text and 'nothing was added' in text
    api = web.post('/api/target/box/add', data=b'{"links": []}' + b' ' * 70 * 1024,
                   headers={'X-CSRF-Token': web.token}, content_type='application/json')
    assert api.status_code == 413 and 'MAX_UPLOAD_BYTES' in api.json['error']['message']
    assert daemon_count() == before and item.info_hash not in daemon.hashes()
    # under the cap the same file goes in
    assert results(post_add(web, [(data, 'a.torrent')], start='no'))[0][0] == 'added'


def test_a_large_file_part_is_spooled_to_disk_not_kept_in_memory():
    """Werkzeug's parser keeps a file part in memory up to 500 KB, then on disk: a request
    under the cap cannot hold more than that of a file in memory while it is parsed."""
    body = os.urandom(3 * 1024 * 1024)
    environ = EnvironBuilder(method='POST', data={'files': (io.BytesIO(body), 'big.torrent')}).get_environ()
    request = Request(environ)
    request.max_content_length = 20 * 1024 * 1024
    stream = request.files['files'].stream
    assert getattr(stream, '_rolled', False) is True          # a SpooledTemporaryFile that went to disk
    assert os.fstat(stream.fileno()).st_size == len(body)
    from werkzeug.exceptions import RequestEntityTooLarge
    text = Request(EnvironBuilder(method='POST', data={'links': 'x' * 600_000, 'files': (io.BytesIO(b'd'), 'a')}
                                  ).get_environ())
    text.max_content_length = 20 * 1024 * 1024
    with pytest.raises(RequestEntityTooLarge):                # a multipart text field past 500 KB
        text.form
    # an urlencoded body is read whole, so only the request cap bounds it
    urlencoded = Request(EnvironBuilder(method='POST', data={'links': 'x' * 600_000}).get_environ())
    urlencoded.max_content_length = 500_000
    with pytest.raises(RequestEntityTooLarge):
        urlencoded.form


@pytest.mark.parametrize('target, words', [
    ({'add_directories': '/srv/dl'}, 'add_directories must be a list'),
    ({'add_directories': ['srv/dl']}, 'must be an absolute path'),
    ({'add_directories': ['/srv/../etc']}, 'must not hold ".."'),
    ({'add_directories': ['/']}, 'cannot hold "/"'),
    ({'add_directories': ['/srv/\x01x']}, 'control character'),
])
def test_bad_add_directories_stop_start_up_with_one_line(target, words):
    with pytest.raises(config.ConfigError) as caught:
        config.from_dict({'targets': {'t': dict(target, url='scgi://127.0.0.1:1')}})
    assert words in str(caught.value) and "targets['t']" in str(caught.value)


def test_add_directories_are_normalised_and_the_upload_cap_checked():
    cfg = config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1', 'add_directories': ['/srv/dl/', '/srv/dl']}}})
    assert cfg.targets[0].add_directories == ('/srv/dl',) and cfg.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    for bad in (1000, 2 * 1024 ** 3, '20M', True):
        with pytest.raises(config.ConfigError, match='MAX_UPLOAD_BYTES must be a whole number of bytes'):
            config.from_dict({'targets': {'t': {'url': 'scgi://127.0.0.1:1'}}, 'MAX_UPLOAD_BYTES': bad})


def test_a_chosen_folder_is_compared_component_by_component():
    roots = ('/srv/dl', '/srv/music')
    assert paths.directory_inside('/srv/dl', roots) == '/srv/dl'
    assert paths.directory_inside('/srv/music/Live 2024/', roots) == '/srv/music/Live 2024'
    for bad in ('/srv/dl2', '/srv', '/srv/dl/../x', '/srv/dl/./x', '/srv//dl', 'srv/dl', '/', '/srv/dl\0'):
        with pytest.raises(ValueError):
            paths.directory_inside(bad, roots)
    with pytest.raises(ValueError, match='no add_directories'):
        paths.directory_inside('/srv/dl', ())


# ---------------------------------------------------------------- who may, CSRF, GET

def test_a_viewer_gets_403_and_no_link(daemon, roots, tmp_path, daemon_count):
    web = make_client(daemon, roots, tmp_path)
    web.token = login(web, 'vic')
    [(data, _)] = fresh()
    before = daemon_count()
    assert web.get('/target/box/add').status_code == 403
    assert post_add(web, [(data, 'a.torrent')]).status_code == 403
    assert web.post('/api/target/box/add', json={'links': []}, headers={'X-CSRF-Token': web.token}).status_code == 403
    assert daemon_count() == before
    assert '/target/box/add' not in web.get('/target/box/').get_data(as_text=True)


def test_the_list_page_links_to_the_add_page_for_a_user(web):
    page = web.get('/target/box/').get_data(as_text=True)
    assert 'href="/target/box/add"' in page and 'data-add-api="/api/target/box/add"' in page


@pytest.mark.parametrize('token', ['', 'x' * 43])
def test_without_this_sessions_csrf_token_nothing_is_added(token, web, daemon_count):
    [(data, _)] = fresh()
    before = daemon_count()
    answer = post_add(web, [(data, 'a.torrent')], token=token)
    assert answer.status_code == 403 and 'nothing was changed' in page_text(answer.get_data(as_text=True))
    api = web.post('/api/target/box/add', json={'files': [{'filename': 'a', 'data': base64.b64encode(data).decode()}]},
                   headers={'X-CSRF-Token': token} if token else {})
    assert api.status_code == 403
    assert daemon_count() == before


def test_a_get_fills_in_a_magnet_link_and_adds_nothing(web, daemon_count):
    before = daemon_count()
    link = 'magnet:?xt=urn:btih:%s&dn=<b>x</b>' % ('2' * 40)
    page = web.get('/target/box/add?' + urllib.parse.urlencode({'magnet': link})).get_data(as_text=True)
    assert '>magnet:?xt=urn:btih:%s&amp;dn=&lt;b&gt;x&lt;/b&gt;</textarea>' % ('2' * 40) in page
    assert 'data-magnet-handler="/target/box/add?magnet=%s"' in page
    assert daemon_count() == before


# ---------------------------------------------------------------- the JSON API

def test_the_json_api_adds_from_json_and_from_multipart(web, daemon, roots, daemon_count):
    (a_bytes, a), (b_bytes, b) = fresh(2)
    headers = {'X-CSRF-Token': web.token}
    answer = web.post('/api/target/box/add', headers=headers, json={
        'files': [{'filename': 'a.torrent', 'data': base64.b64encode(a_bytes).decode()}],
        'links': ['magnet:?xt=urn:btih:nothex'], 'start': False, 'label': 'api',
        'priority': 'low', 'directory': roots[1] + '/api'})
    assert answer.status_code == 200 and answer.mimetype == 'application/json'
    got = answer.json
    assert got['target'] == 'box' and [r['status'] for r in got['results']] == ['added', 'refused']
    first = got['results'][0]
    assert (first['info_hash'], first['name'], first['size'], first['source']) == (a.info_hash, a.name, a.size, 'a.torrent')
    assert first['url'] == '/target/box/torrent/%s/' % a.info_hash and got['results'][1]['url'] is None
    assert 'info-hash' in got['results'][1]['reason'] and got['results'][1]['source'] == 'magnet:?xt=urn:btih:nothex'
    assert fields(daemon, a.info_hash) == {'d.name': a.name, 'd.directory': roots[1] + '/api', 'd.custom1': 'api',
                                           'd.priority': 1, 'd.state': 0}
    # multipart, the same fields as the form; the token in the header
    answer = web.post('/api/target/box/add', headers=headers, content_type='multipart/form-data',
                      data={'files': [(io.BytesIO(b_bytes), 'b.torrent'), (io.BytesIO(a_bytes), 'a.torrent')],
                            'start': 'no'})
    assert [r['status'] for r in answer.json['results']] == ['added', 'present']
    # errors: JSON objects with the status and words; nothing added
    before = daemon_count()
    for body, words in ((['not', 'an', 'object'], 'not a JSON object'), ({'links': 'x', 'priority': 'urgent'}, 'priority'),
                        ({'links': 'x', 'directory': '/etc'}, 'not inside'), ({}, 'Nothing to add'),
                        ({'files': [{'data': '%%%'}]}, 'not base64')):
        answer = web.post('/api/target/box/add', headers=headers, json=body)
        assert answer.status_code == 400 and words in answer.json['error']['message'], body
    assert daemon_count() == before
    assert web.get('/api/target/box/add').status_code == 405


# ---------------------------------------------------------------- hostile names

def test_hostile_names_are_shown_as_text(web):
    name = '<script>alert(1)<b>bold "q" \'s\''          # no "/" in a name
    data = bencode.encode({'announce': 'http://127.0.0.1:1/announce', 'info': {
        'length': 1000, 'name': name, 'piece length': 16384, 'pieces': os.urandom(20)}})
    magnet = 'magnet:?xt=urn:btih:%s&dn=%s&tr=http://127.0.0.1:1/a' % (fresh()[0][1].info_hash,
                                                                        urllib.parse.quote('<img src=x onerror=alert(2)>'))
    answer = post_add(web, [(data, 'h.torrent'), (b'junk', '<i>evil</i>.torrent')], links=magnet, start='no',
                      label='<b>label</b>')
    page = answer.get_data(as_text=True)
    assert [s for s, _, _ in results(answer)] == ['added', 'refused', 'added']
    for raw in ('<script>alert', '<b>bold', '<img src=x', '<i>evil', '<b>label'):
        assert raw not in page, raw
    assert '&lt;script&gt;alert(1)&lt;b&gt;bold &#34;q&#34; &#39;s&#39;' in page
    assert '&lt;img src=x onerror=alert(2)&gt;' in page and '&lt;i&gt;evil&lt;/i&gt;.torrent' in page


# ---------------------------------------------------------------- in a real browser

@pytest.fixture(scope='module')
def browser_server(daemon, roots, tmp_path_factory):
    """pyrotorrent.py --http with no users (loopback mode: every visitor is admin)."""
    with webapp.http_server(str(tmp_path_factory.mktemp('add-browser')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 0,
            'targets': {'box': {'url': daemon.url, 'add_directories': roots}}}) as url:
        yield url


def test_the_form_uploads_a_file_in_a_browser(driver, browser_server, daemon, roots, tmp_path):
    from selenium.webdriver.common.by import By
    [(data, item)] = fresh()
    path = tmp_path / 'from the browser.torrent'
    path.write_bytes(data)
    driver.get(browser_server + '/target/box/add')
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the add page')
    handler = driver.find_element(By.CSS_SELECTOR, '[data-magnet-handler]')
    assert handler.is_displayed()                   # add.js ran and the browser has the API
    driver.find_element(By.CSS_SELECTOR, 'input[name=files]').send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, 'input[name=start][value=no]').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name=label]').send_keys('via <browser>')
    driver.find_element(By.CSS_SELECTOR, 'form.add button[type=submit]').click()
    shown = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'li[data-status]'), 'the results')
    assert [(li.get_attribute('data-status'), li.get_attribute('data-hash')) for li in shown] == [
        ('added', item.info_hash)]
    link = shown[0].find_element(By.TAG_NAME, 'a')
    assert link.text == item.name and link.get_attribute('href').endswith('/torrent/target/box/torrent/%s/' % item.info_hash)
    got = fields(daemon, item.info_hash)
    assert (got['d.state'], got['d.custom1']) == (0, 'via <browser>')
    assert not [m for m in csp_errors(driver) if 'Content Security Policy' in m]


def test_a_file_dropped_on_the_list_page_is_added_once_its_choices_are_confirmed(driver, browser_server, daemon):
    from selenium.webdriver.common.by import By
    [(data, item)] = fresh()
    driver.get(browser_server + '/target/box/')
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the list page')
    hint = driver.find_element(By.CSS_SELECTOR, '[data-drop-hint]')
    assert hint.is_displayed()                      # shown only where dropping works
    driver.execute_script("""
        var bytes = Uint8Array.from(atob(arguments[0]), function (c) { return c.charCodeAt(0); });
        var dt = new DataTransfer();
        dt.items.add(new File([bytes], arguments[1], {type: 'application/x-bittorrent'}));
        ['dragenter', 'dragover', 'drop'].forEach(function (type) {
          document.querySelector('main').dispatchEvent(
            new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
        });""", base64.b64encode(data).decode(), 'dropped.torrent')
    # nothing is added before the user has seen the choices and pressed the panel's button
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-drop-panel] [data-add-options]'), 'the drop panel')
    assert item.info_hash not in daemon.hashes()
    driver.find_element(By.CSS_SELECTOR, '[data-drop-add]').click()
    wait(driver, lambda d: d.execute_script("return document.documentElement.getAttribute('data-dropped')"),
         'the drop to be answered')
    assert driver.execute_script("return document.documentElement.getAttribute('data-dropped')") == '1'
    box = driver.find_element(By.CSS_SELECTOR, '[data-drop-result]')
    assert 'Added: ' + item.name in box.text
    assert box.find_element(By.TAG_NAME, 'a').get_attribute('href').endswith('/torrent/target/box/torrent/%s/' % item.info_hash)
    assert item.info_hash in daemon.hashes()
    assert not [m for m in csp_errors(driver) if 'Content Security Policy' in m]
