"""Issue 20, item 5: private answers must not be cached; static files should be.

Every answer below BASE_URL depends on who asks (/api/session holds the CSRF token): each
route, for an admin, anonymously, its errors and redirects, must say Cache-Control: no-store.
Static files (pyrotorrent.py --http serves them itself) are cached for a year with an ETag
and Last-Modified, under URLs that carry the file's fingerprint, so a changed file gets a new
URL.
"""
import re

import requests
from werkzeug.test import Client

from lib import auth, config, web as weblib
from lib.pages.app import URL_MAP as url_map
from pyrotorrent import make_app
from tests import webapp

PASSWORD = 'right-password-1'
USERS = {'ada': {'password': auth.hash_password(PASSWORD), 'role': 'admin'}}
SAMPLE = {'name': 'home', 'view': 'main', 'info_hash': '0' * 40, 'path': 'a/b'}


def app_client(tmp_path):
    app = make_app(config.from_dict({
        'targets': {'home': {'url': 'scgi://127.0.0.1:9', 'timeout': 1}}, 'BASE_URL': '', 'REFRESH_SECONDS': 0,
        'users': USERS, 'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}))
    return Client(webapp.from_address(app))


def every_route():
    adapter = url_map.bind('localhost')
    for rule in url_map.iter_rules():
        values = {k: v for k, v in SAMPLE.items() if k in rule.arguments}
        for method in sorted(rule.methods - {'HEAD', 'OPTIONS'}):
            yield method, adapter.build(rule.endpoint, values)


def test_every_answer_of_the_app_says_no_store(tmp_path):
    anonymous = app_client(tmp_path)
    admin = app_client(tmp_path)
    assert webapp.login(admin, 'ada', PASSWORD).status_code == 303
    token = admin.get('/api/session').get_json()['csrf_token']
    seen = set()
    for method, path in every_route():
        for who, extra in ((anonymous, {}), (admin, {'headers': {auth.CSRF_HEADER: token}})):
            answer = who.open(path, method=method, **extra)
            seen.add(answer.status_code)
            assert answer.headers.get('Cache-Control') == 'no-store', (method, path, answer.status_code)
    for path in ('/no/such/page', '/target/nope/', '/api/target/nope/torrents', '/api/session'):
        answer = admin.get(path)
        seen.add(answer.status_code)
        assert answer.headers.get('Cache-Control') == 'no-store', (path, answer.status_code)
    assert {200, 303, 404} <= seen, seen      # pages, redirects and errors were all looked at


def test_static_urls_carry_their_files_fingerprint(tmp_path):
    folder = tmp_path / 'static'
    folder.mkdir()
    (folder / 'style.css').write_text('body { color: red }')
    urls = weblib.StaticURLs('/static/torrent', str(folder))
    first = urls('style.css')
    assert re.fullmatch(r'/static/torrent/style\.css\?v=[0-9a-f]{12}', first), first
    (folder / 'style.css').write_text('body { color: blue }')
    assert weblib.StaticURLs('/static/torrent', str(folder))('style.css') != first     # a restart sees the change
    assert urls('missing.js') == '/static/torrent/missing.js'


def test_static_files_are_cached_and_revalidated(tmp_path):
    settings = {'targets': {'home': {'url': 'scgi://127.0.0.1:9', 'timeout': 1}}, 'BASE_URL': '',
                'STATIC_URL': '/static', 'REFRESH_SECONDS': 0,
                'users': USERS, 'session_options': {'session.data_dir': str(tmp_path / 'sessions')}}
    with webapp.http_server(str(tmp_path), settings) as base:
        page = requests.get(base + '/login', timeout=30)
        assert page.headers['Cache-Control'] == 'no-store'
        links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert links and all('?v=' in link for link in links), links
        for link in links:
            answer = requests.get(base + link, timeout=30)
            assert answer.status_code == 200
            assert 'max-age=31536000' in answer.headers['Cache-Control'], answer.headers
            assert 'no-store' not in answer.headers['Cache-Control']
            assert answer.headers.get('ETag') and answer.headers.get('Last-Modified')
            again = requests.get(base + link, headers={'If-None-Match': answer.headers['ETag']}, timeout=30)
            assert again.status_code == 304
