"""The deployment exactly as the setup manual describes it, with real processes.

lighttpd runs the snippets of docs/examples/ (only their example paths and ports replaced),
pyroTorrent runs under spawn-fcgi as docs/examples/spawn-fcgi.sh starts it, and both talk to
the real swarm of tests/rig.py (a seeder and a leecher rtorrent):

    rewrite stack   lighttpd-rewrite.conf (the manual's url.rewrite-once to an empty .tfcgi)
    prefix stack    lighttpd-prefix.conf  (fastcgi.server mounted on /torrent)
    /RPC2 stack     lighttpd-rpc2.conf    (mod_scgi to the seeder's socket), read by the
                    legacy rtorrent_config form and by test.py
"""
import html.parser
import http.client
import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import urllib.parse
import zipfile

import pytest
from werkzeug.test import Client

from lib import config
from pyrotorrent import make_app
from tests import rig, webapp
from tests.webapp import Rows, page_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, 'docs', 'examples')

# The example paths the documented snippets use, and what each stands for here.
DOC_ROOT = '/home/rtorrent/pyrotorrent'
DOC_FCGI_SOCKET = '/tmp/torrent.sock-1'
DOC_RPC_SOCKET = '/home/rtorrent/rtorrentsock/rpc.socket'
DOC_VENV_PYTHON = DOC_ROOT + '/.venv/bin/python'


def read_example(name):
    with open(os.path.join(EXAMPLES, name), encoding='utf-8') as f:
        return f.read()


def substitute(text, replacements):
    """The example text with its example paths replaced; each must really be in it."""
    for old, new in replacements:
        assert old in text, 'the documented example no longer mentions %s' % old
        text = text.replace(old, new)
    return text


def spawn_fcgi_command(fcgi_socket):
    """docs/examples/spawn-fcgi.sh as argv, paths replaced, without -u/-g, with our Python."""
    script = read_example('spawn-fcgi.sh')
    lines = [line for line in script.replace('\\\n', ' ').splitlines()
             if line.strip() and not line.lstrip().startswith('#')]
    assert len(lines) == 1, 'spawn-fcgi.sh should hold one command: %r' % lines
    argv = shlex.split(lines[0])
    assert os.path.basename(argv[0]) == 'spawn-fcgi', argv
    cut = argv.index('--')
    options, program = argv[1:cut], argv[cut + 1:]
    kept = []
    i = 0
    while i < len(options):
        if options[i] in ('-u', '-g'):           # no change of user here (we run as root)
            i += 2
            continue
        kept.append(options[i])
        i += 1
    assert program[0] == DOC_VENV_PYTHON, program
    program = [sys.executable] + program[1:]
    replace = [(DOC_FCGI_SOCKET, fcgi_socket), (DOC_ROOT, ROOT)]
    kept = [substitute_loose(a, replace) for a in kept]
    program = [substitute_loose(a, replace) for a in program]
    assert kept[:2] == ['-s', fcgi_socket], kept
    return kept[2:], program


def substitute_loose(text, replacements):
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def lighttpd_base(workdir, port):
    """The minimal lighttpd.conf around a documented snippet (Debian's has more; none needed)."""
    docroot = os.path.join(workdir, 'docroot')
    os.makedirs(docroot, exist_ok=True)
    return '\n'.join([
        'server.document-root = "%s"' % docroot,
        'server.port = %d' % port,
        'server.bind = "127.0.0.1"',
        'server.errorlog = "%s"' % os.path.join(workdir, 'error.log'),
        'mimetype.assign = ( ".css" => "text/css", ".js" => "text/javascript" )',
        '',
    ])


def write_config(path, **settings):
    with open(path, 'w', encoding='utf-8') as f:
        for key, value in settings.items():
            f.write('%s = %r\n' % (key, value))
    return path


def heading(page):
    """The text of the page's <h1>, entities decoded."""
    class H1(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.text = False, []

        def handle_starttag(self, tag, attrs):
            self.inside = self.inside or tag == 'h1'

        def handle_endtag(self, tag):
            if tag == 'h1':
                self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.text.append(data)
    parser = H1()
    parser.feed(page)
    return ''.join(parser.text).strip()


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.text = body.decode('utf-8', 'replace')

    @property
    def content_type(self):
        return self.headers.get('Content-Type', '')


class Stack:
    """lighttpd + pyroTorrent under spawn-fcgi, as one documented setup."""

    def __init__(self, workdir, snippet_name, targets):
        self.workdir = workdir
        self.port = rig.free_port()
        self.fcgi_socket = os.path.join(workdir, 'torrent.sock-1')
        self.config_path = write_config(os.path.join(workdir, 'config.py'), BASE_URL='/torrent',
                                        STATIC_URL='/static/torrent', REFRESH_SECONDS=0,
                                        targets={name: url if isinstance(url, dict) else {'url': url}
                                                 for name, url in targets.items()})
        snippet = substitute(read_example(snippet_name),
                             [(DOC_FCGI_SOCKET, self.fcgi_socket), (DOC_ROOT, ROOT)])
        self.lighttpd = rig.Lighttpd(workdir, lighttpd_base(workdir, self.port) + snippet)
        self.error_log = os.path.join(workdir, 'error.log')
        self.fcgi_log = os.path.join(workdir, 'spawn-fcgi.log')
        self.fcgi = None

    def start(self):
        options, program = spawn_fcgi_command(self.fcgi_socket)
        env = dict(os.environ, PYROTORRENT_CONFIG=self.config_path)
        # -n (stay in the foreground): the only addition, so the app's output reaches a log
        # (forking, spawn-fcgi sends it to /dev/null).
        self.fcgi = rig.spawn_fcgi(self.fcgi_socket, program, env=env, log_path=self.fcgi_log,
                                   extra_args=options)
        self.lighttpd.start()
        return self

    def stop(self):
        self.lighttpd.stop()
        if self.fcgi is not None:
            self.fcgi.stop()

    def logs(self):
        return ('\n--- lighttpd error log (%s):\n%s\n--- lighttpd output:\n%s\n--- spawn-fcgi/pyroTorrent (%s):\n%s'
                % (self.error_log, rig.log_tail(self.error_log), rig.log_tail(self.lighttpd.log_path),
                   self.fcgi_log, rig.log_tail(self.fcgi_log)))

    def get(self, path, headers=None):
        return self.request('GET', path, headers=headers)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        except OSError as exc:
            raise AssertionError('%s %s failed: %s%s' % (method, path, exc, self.logs())) from None
        finally:
            conn.close()

    def expect(self, path, status=200, content_type='text/html'):
        answer = self.get(path)
        assert answer.status == status and answer.content_type.startswith(content_type), (
            'GET %s: %s %s (wanted %s %s)\n%s%s' % (path, answer.status, answer.content_type, status,
                                                   content_type, answer.text[:800], self.logs()))
        return answer


def start_stack(workdir, snippet_name, swarm, gone_socket):
    stack = Stack(workdir, snippet_name, {
        'seeder': {'url': swarm.seeder.url, 'download_roots': [swarm.data_dir]},   # data it may serve
        'leecher': swarm.leecher.url,
        'gone': 'scgi+unix://' + gone_socket,
    })
    try:
        stack.start()
    except Exception as exc:
        logs = stack.logs()
        stack.stop()
        pytest.fail('the %s stack did not start: %s: %s%s' % (snippet_name, exc.__class__.__name__, exc, logs))
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope='module')
def rewrite_stack(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('rewrite'))
    # The manual: an empty torrent.tfcgi in lighttpd's document root.
    os.makedirs(os.path.join(workdir, 'docroot'))
    open(os.path.join(workdir, 'docroot', 'torrent.tfcgi'), 'w').close()
    stack = start_stack(workdir, 'lighttpd-rewrite.conf', swarm, os.path.join(workdir, 'gone.socket'))
    yield stack
    stack.stop()


@pytest.fixture(scope='module')
def prefix_stack(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('prefix'))
    stack = start_stack(workdir, 'lighttpd-prefix.conf', swarm, os.path.join(workdir, 'gone.socket'))
    yield stack
    stack.stop()


def by_size_desc(swarm):
    return [t['hash'] for t in sorted(swarm.torrents, key=lambda t: t['size'], reverse=True)]


def filter_cases(swarm):
    """(query, names it must list): a name filter in UTF-8, a label full of markup and '&'."""
    cases = []
    unicode_name = next(t['name'] for t in swarm.torrents if '日本' in t['name'])
    cases.append(({'q': '日本'}, [unicode_name]))
    tricky = next(t['label'] for t in swarm.torrents if t['label'] and '&' in t['label'])
    cases.append(({'label': tricky}, sorted(t['name'] for t in swarm.torrents if t['label'] == tricky)))
    return cases


def check_list_pages(stack, swarm):
    """The checks both lighttpd setups must pass: list, sort by query string, static, API."""
    names = sorted(t['name'] for t in swarm.torrents)

    page = stack.expect('/torrent/target/seeder/')
    rows = Rows(page.text)
    assert sorted(rows.names) == names, stack.logs()
    assert {r['hash'] for r in rows.rows} == {t['hash'] for t in swarm.torrents}

    # The query string survives lighttpd (and its rewrite): rows largest first.
    page = stack.expect('/torrent/target/seeder/?sort=size&order=desc')
    assert [r['hash'] for r in Rows(page.text).rows] == by_size_desc(swarm)
    page = stack.expect('/torrent/target/seeder/?sort=size&order=asc')
    assert [r['hash'] for r in Rows(page.text).rows] == by_size_desc(swarm)[::-1]

    # A missing trailing slash is redirected to the right public URL, query string kept.
    answer = stack.get('/torrent/target/seeder?sort=size&order=desc')
    assert answer.status in (301, 308), (answer.status, answer.text[:300], stack.logs())
    assert answer.headers['Location'] == ('http://127.0.0.1:%d/torrent/target/seeder/?sort=size&order=desc'
                                          % stack.port)

    # Percent-encoded UTF-8 and reserved characters in the query string arrive intact.
    for params, expected in filter_cases(swarm):
        page = stack.expect('/torrent/target/seeder/?' + urllib.parse.urlencode(params))
        assert sorted(Rows(page.text).names) == expected, params

    css = stack.expect('/static/torrent/style.css', content_type='text/css')
    with open(os.path.join(ROOT, 'static', 'style.css'), 'rb') as f:
        assert css.body == f.read()
    # static files cached for a year (mod_expire in the example), pages never
    assert 'max-age=31536000' in css.headers['Cache-Control'], css.headers
    assert page.headers['Cache-Control'] == 'no-store', page.headers
    assert '/static/torrent/style.css?v=' in page.text
    js = stack.expect('/static/torrent/live.js', content_type='text/javascript')
    with open(os.path.join(ROOT, 'static', 'live.js'), 'rb') as f:
        assert js.body == f.read()

    api = stack.expect('/torrent/api/target/seeder/torrents', content_type='application/json')
    data = json.loads(api.text)
    assert data['target'] == 'seeder'
    assert data['total'] == len(swarm.torrents)
    assert sorted(t['name'] for t in data['torrents']) == names
    assert {t['hash']: t['size'] for t in data['torrents']} == {t['hash']: t['size'] for t in swarm.torrents}

    api = stack.expect('/torrent/api/target/seeder/torrents?sort=size&order=desc',
                       content_type='application/json')
    data = json.loads(api.text)
    assert (data['sort'], data['order']) == ('size', 'desc')
    assert [t['hash'] for t in data['torrents']] == by_size_desc(swarm)


# ---------------------------------------------------------------- the rewrite setup

def test_rewrite_list_sort_static_and_api(rewrite_stack, swarm):
    check_list_pages(rewrite_stack, swarm)


def test_rewrite_front_page_shows_every_target(rewrite_stack, swarm):
    page = rewrite_stack.expect('/torrent/')
    text = page_text(page.text)
    # every target at a glance, the one that cannot be asked first: each card counts its
    # torrents, and its links lead into its list under the rewrite's prefix
    assert page.text.index('id="card-gone"') < page.text.index('id="card-seeder"') < page.text.index('id="card-leecher"')
    assert "gone: is not reachable" in text
    for name, count in (('seeder', len(swarm.torrents)), ('leecher', len(swarm.downloaded))):
        assert 'href="/torrent/target/%s/"' % name in page.text
        card = re.search(r'id="card-%s".*?all <span class="count">(\d+)</span>' % name, page.text, re.S)
        assert card and int(card.group(1)) == count, rewrite_stack.logs()
        assert 'href="/torrent/target/%s/?state=seeding"' % name in page.text


def test_rewrite_view_page(rewrite_stack, swarm):
    page = rewrite_stack.expect('/torrent/target/seeder/view/seeding/')
    rows = Rows(page.text)
    assert sorted(rows.names) == sorted(t['name'] for t in swarm.torrents)
    assert {row['cells'][3] for row in rows.rows} == {'seeding'}
    assert 'aria-current="page">seeding' in page.text


def test_rewrite_torrent_page(rewrite_stack, swarm):
    for t in swarm.torrents:
        page = rewrite_stack.expect('/torrent/target/seeder/torrent/%s/' % t['hash'])
        assert heading(page.text) == t['name']
        assert t['hash'] in page.text


def test_rewrite_unknown_target_is_a_404_naming_it(rewrite_stack):
    page = rewrite_stack.expect('/torrent/target/nobody/', status=404)
    assert "There is no target named 'nobody'" in page_text(page.text)
    api = rewrite_stack.expect('/torrent/api/target/nobody/torrents', status=404,
                               content_type='application/json')
    assert "'nobody'" in json.loads(api.text)['error']['message']


def test_rewrite_catches_more_than_base_url(rewrite_stack):
    """The rule ^/torrent also catches /torrentfoo: pyroTorrent's plain 404 (setup manual)."""
    answer = rewrite_stack.expect('/torrentfoo', status=404, content_type='text/plain')
    assert answer.text == 'Not under /torrent\n'


def test_rewrite_needs_the_empty_tfcgi_file(rewrite_stack):
    """Troubleshooting in the manual: without torrent.tfcgi in the document root, a 404."""
    path = os.path.join(rewrite_stack.workdir, 'docroot', 'torrent.tfcgi')
    os.unlink(path)
    try:
        # lighttpd caches what it stat()ed for a second or so: wait for it to notice
        answer = rig.wait_for(lambda: _status(rewrite_stack.get('/torrent/target/seeder/'), 404), 10,
                              'lighttpd to answer 404 without torrent.tfcgi')
        assert 'pyroTorrent' not in answer.text          # lighttpd's own 404, not the app's
    finally:
        open(path, 'w').close()
    rig.wait_for(lambda: _status(rewrite_stack.get('/torrent/target/seeder/'), 200), 10,
                 'lighttpd to find torrent.tfcgi again')


def _status(answer, status):
    return answer if answer.status == status else None


def test_fastcgi_process_survives_a_target_error(rewrite_stack):
    pid = rewrite_stack.fcgi.pid
    page = rewrite_stack.expect('/torrent/target/gone/', status=502)
    text = page_text(page.text)
    assert "'gone' is not reachable" in text
    assert 'does not exist' in text                  # the cause: no socket at that path
    api = rewrite_stack.expect('/torrent/api/target/gone/torrents', status=502,
                               content_type='application/json')
    assert json.loads(api.text)['error']['problem'] == 'is not reachable'
    assert rewrite_stack.fcgi.alive() and rewrite_stack.fcgi.pid == pid, rewrite_stack.logs()
    page = rewrite_stack.expect('/torrent/target/seeder/')
    assert len(Rows(page.text).rows) > 0
    assert rewrite_stack.fcgi.alive() and rewrite_stack.fcgi.pid == pid, rewrite_stack.logs()


# ---------------------------------------------------------------- the prefix mount

def check_actions_and_downloads(stack, swarm):
    """A POST through lighttpd and flup: the session cookie, the CSRF token, the redirect
    back under BASE_URL, the effect in rtorrent; then a download with a range, and a zip."""
    torrent = next(t for t in swarm.torrents if t['downloaded'])
    h, seeder = torrent['hash'], swarm.seeder
    page = stack.expect('/torrent/target/seeder/?sort=size&order=desc')
    cookie = page.headers['Set-Cookie'].split(';')[0]
    token = webapp.csrf_token(page.text)
    back = '/torrent/target/seeder/?sort=size&order=desc'
    form = {'csrf_token': token, 'action': 'pause', 'hash': h, 'next': back}
    headers = {'Content-Type': 'application/x-www-form-urlencoded', 'Cookie': cookie}
    try:
        answer = stack.request('POST', '/torrent/target/seeder/action', urllib.parse.urlencode(form), headers)
        assert answer.status == 303 and answer.headers['Location'].endswith(back), (answer.status, answer.text[:300], stack.logs())
        assert seeder.call('d.is_active', h) == 0
        # as a browser does: keep the cookies the answer set (the session that holds the message)
        cookie = '; '.join([cookie] + [c.split(';')[0] for c in answer.headers.get_all('Set-Cookie') or []])
        headers['Cookie'] = cookie
        shown = stack.get(back, headers={'Cookie': cookie})
        assert "Paused '%s'." % seeder.call('d.name', h) in page_text(shown.text)
        refused = stack.request('POST', '/torrent/target/seeder/action',
                                urllib.parse.urlencode(dict(form, action='resume', csrf_token='forged')), headers)
        assert refused.status == 403 and seeder.call('d.is_active', h) == 0
    finally:
        answer = stack.request('POST', '/torrent/target/seeder/action',
                               urllib.parse.urlencode(dict(form, action='resume')), headers)
        assert answer.status == 303 and seeder.call('d.is_active', h) == 1
    # the torrent's data, streamed by flup through lighttpd
    detail = stack.expect('/torrent/api/target/seeder/torrent/%s' % h, content_type='application/json')
    path = json.loads(detail.text)['torrent']['files'][0]['path']
    url = '/torrent/target/seeder/torrent/%s/data/%s' % (h, urllib.parse.quote(path))
    whole = stack.get(url)
    assert whole.status == 200 and len(whole.body) == torrent['size'], (whole.status, whole.text[:300])
    part = stack.get(url, headers={'Range': 'bytes=-10'})
    assert part.status == 206 and part.body == whole.body[-10:]
    archive = stack.get('/torrent/target/seeder/torrent/%s/archive' % h)
    assert archive.status == 200 and archive.content_type == 'application/zip'
    assert zipfile.ZipFile(io.BytesIO(archive.body)).namelist()


def test_rewrite_actions_and_downloads(rewrite_stack, swarm):
    check_actions_and_downloads(rewrite_stack, swarm)


def test_prefix_actions_and_downloads(prefix_stack, swarm):
    check_actions_and_downloads(prefix_stack, swarm)


def test_prefix_list_sort_static_and_api(prefix_stack, swarm):
    check_list_pages(prefix_stack, swarm)


def test_prefix_pages(prefix_stack, swarm):
    page = prefix_stack.expect('/torrent/')
    card = re.search(r'id="card-seeder".*?all <span class="count">(\d+)</span>', page.text, re.S)
    assert card and int(card.group(1)) == len(swarm.torrents)
    assert 'href="/torrent/target/seeder/?state=seeding"' in page.text
    t = swarm.torrents[0]
    page = prefix_stack.expect('/torrent/target/seeder/torrent/%s/' % t['hash'])
    assert t['hash'] in page.text
    page = prefix_stack.expect('/torrent/target/nobody/', status=404)
    assert "There is no target named 'nobody'" in page_text(page.text)
    page = prefix_stack.expect('/torrent/target/gone/', status=502)
    assert "'gone' is not reachable" in page_text(page.text)


# ---------------------------------------------------------------- rTorrent at /RPC2

@pytest.fixture(scope='module')
def rpc2(swarm, tmp_path_factory):
    """lighttpd exposing the seeder's SCGI socket at /RPC2 (lighttpd-rpc2.conf)."""
    workdir = str(tmp_path_factory.mktemp('rpc2'))
    port = rig.free_port()
    snippet = substitute(read_example('lighttpd-rpc2.conf'), [(DOC_RPC_SOCKET, swarm.seeder.socket_path)])
    server = rig.Lighttpd(workdir, lighttpd_base(workdir, port) + snippet)
    server.error_log = os.path.join(workdir, 'error.log')
    try:
        server.start()
    except Exception as exc:
        server.stop()
        pytest.fail('lighttpd with lighttpd-rpc2.conf did not start: %s\n--- error log:\n%s'
                    % (exc, rig.log_tail(server.error_log)))
    yield server
    server.stop()


def legacy_config(port):
    return {'rtorrent_config': {'host': '127.0.0.1', 'port': port, 'url': ''}}


def test_legacy_rtorrent_config_through_rpc2(rpc2, swarm):
    cfg = config.from_dict(dict(legacy_config(rpc2.port), BASE_URL='/torrent', REFRESH_SECONDS=0))
    assert [(t.name, t.url) for t in cfg.targets] == [('default', 'http://127.0.0.1:%d/RPC2' % rpc2.port)]
    web = Client(webapp.from_address(make_app(cfg)))
    response = web.get('/torrent/target/default/')
    page = response.get_data(as_text=True)
    assert response.status_code == 200, '%s\n%s\n%s' % (page[:800], rig.log_tail(rpc2.error_log), rig.log_tail(rpc2.log_path))
    assert sorted(Rows(page).names) == sorted(t['name'] for t in swarm.torrents)
    response = web.get('/torrent/target/default/', query_string={'sort': 'size', 'order': 'desc'})
    assert [r['hash'] for r in Rows(response.get_data(as_text=True)).rows] == by_size_desc(swarm)
    response = web.get('/torrent/api/target/default/torrents')
    assert response.status_code == 200
    assert response.json['total'] == len(swarm.torrents)


def run_test_py(config_path):
    return subprocess.run([sys.executable, os.path.join(ROOT, 'test.py'), config_path],
                          cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def test_test_py_through_rpc2(rpc2, swarm, tmp_path):
    version = swarm.seeder.call('system.library_version')
    assert version == '0.13.8'
    path = write_config(str(tmp_path / 'config.py'), **legacy_config(rpc2.port))
    done = run_test_py(path)
    assert done.returncode == 0, (done.stdout, done.stderr, rig.log_tail(rpc2.error_log))
    assert done.stdout == 'default: libTorrent version: %s\n' % version, done.stderr


@pytest.mark.parametrize('leftover, why', [(False, 'does not exist'), (True, 'connection refused')])
def test_test_py_on_a_dead_socket(tmp_path, leftover, why):
    """No socket file; or one left behind by a stopped rtorrent, nobody listening."""
    dead = str(tmp_path / 'dead.socket')
    if leftover:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(dead)
    path = write_config(str(tmp_path / 'config.py'), targets={'home': {'url': 'scgi+unix://' + dead}})
    done = run_test_py(path)
    assert done.returncode == 1, (done.stdout, done.stderr)      # 1: a target failed (setup manual)
    prefix = 'home: Failed to connect to libTorrent: '
    assert done.stdout.startswith(prefix), done.stdout
    reason = done.stdout[len(prefix):].strip()
    assert dead in reason and why in reason, done.stdout


def test_test_py_on_a_dead_rpc2_port(tmp_path):
    port = rig.free_port()
    path = write_config(str(tmp_path / 'config.py'), **legacy_config(port))
    done = run_test_py(path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    prefix = 'default: Failed to connect to libTorrent: '
    assert done.stdout.startswith(prefix), done.stdout
    assert done.stdout[len(prefix):].strip(), done.stdout


# ---------------------------------------------------------------- pyroTorrent binding its own socket

@pytest.fixture(scope='module', params=['unix', 'tcp'])
def self_bound(request, swarm, tmp_path_factory):
    """`pyrotorrent.py --fcgi SOCKET` and `--fcgi HOST:PORT`, without spawn-fcgi, behind the
    prefix snippet (for TCP its "socket" line becomes "host" and "port")."""
    workdir = str(tmp_path_factory.mktemp('fcgi-' + request.param))
    config_path = write_config(os.path.join(workdir, 'config.py'), BASE_URL='/torrent',
                               STATIC_URL='/static/torrent', targets={'seeder': {'url': swarm.seeder.url}})
    snippet = read_example('lighttpd-prefix.conf').replace(DOC_ROOT, ROOT)
    if request.param == 'unix':
        bind = os.path.join(workdir, 'fcgi.socket')
        snippet = substitute(snippet, [(DOC_FCGI_SOCKET, bind)])
    else:
        port = rig.free_port()
        bind = '127.0.0.1:%d' % port
        snippet = substitute(snippet, [('"socket"      => "%s"' % DOC_FCGI_SOCKET,
                                        '"host" => "127.0.0.1", "port" => %d' % port)])
    log = open(os.path.join(workdir, 'pyrotorrent.log'), 'wb')
    app = subprocess.Popen([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', config_path,
                            '--fcgi', bind], stdout=log, stderr=subprocess.STDOUT)
    lighttpd = rig.Lighttpd(workdir, lighttpd_base(workdir, rig.free_port()) + snippet)
    try:
        if request.param == 'unix':
            rig.wait_for(lambda: os.path.exists(bind), 20, 'pyroTorrent to bind %s' % bind)
        else:
            rig.wait_for(lambda: rig.port_accepts('127.0.0.1', port), 20, 'pyroTorrent to bind %s' % bind)
        lighttpd.start()
        yield lighttpd
    finally:
        lighttpd.stop()
        app.terminate()
        app.wait(10)
        log.close()


def test_fcgi_on_its_own_socket(self_bound, swarm):
    conn = http.client.HTTPConnection('127.0.0.1', self_bound.port, timeout=20)
    try:
        conn.request('GET', '/torrent/target/seeder/?sort=size&order=desc')
        response = conn.getresponse()
        page = response.read().decode('utf-8')
    finally:
        conn.close()
    assert response.status == 200, page[:500]
    assert [r['hash'] for r in Rows(page).rows] == by_size_desc(swarm)


# ---------------------------------------------------------------- the manual's rtorrent.rc lines

def test_documented_rtorrent_rc(tmp_path):
    """An rtorrent whose SCGI socket comes from docs/examples/rtorrent.rc, and test.py on it."""
    daemon = rig.RTorrentDaemon(str(tmp_path / 'rt'))
    daemon.scgi_rc = substitute(read_example('rtorrent.rc'), [(DOC_RPC_SOCKET, daemon.socket_path)])
    daemon.start()
    try:
        payload = rig.make_payload(str(tmp_path / 'data'), 'Ünïcødé — 日本語.txt', 4096)
        torrent = rig.make_torrent(payload, 'http://127.0.0.1:1/announce', str(tmp_path / 'u.torrent'))
        daemon.load(torrent, directory=str(tmp_path / 'data'))
        path = write_config(str(tmp_path / 'config.py'), targets={'home': {'url': daemon.url}})
        done = subprocess.run([sys.executable, os.path.join(ROOT, 'test.py'), path],
                              capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stdout) == (0, 'home: libTorrent version: 0.13.8\n'), done
        web = Client(webapp.from_address(make_app(config.load(path))))
        assert Rows(web.get('/torrent/target/home/').get_data(as_text=True)).names == ['Ünïcødé — 日本語.txt']
    finally:
        daemon.stop()


def test_http_target_behind_basic_auth(swarm, tmp_path):
    """An http:// target with user:password in its URL, for an /RPC2 behind HTTP auth."""
    users = tmp_path / 'users'
    users.write_text('rt:s3cret pass\n')
    port = rig.free_port()
    snippet = substitute(read_example('lighttpd-rpc2.conf'), [(DOC_RPC_SOCKET, swarm.seeder.socket_path)])
    auth = ('server.modules += ( "mod_auth", "mod_authn_file" )\n'
            'auth.backend = "plain"\nauth.backend.plain.userfile = "%s"\n'
            'auth.require = ( "/RPC2" => ( "method" => "basic", "realm" => "rtorrent", "require" => "valid-user" ) )\n'
            % users)
    server = rig.Lighttpd(str(tmp_path), lighttpd_base(str(tmp_path), port) + auth + snippet)
    server.start()
    try:
        good = Client(webapp.from_address(make_app(config.from_dict({'targets': {
            'box': {'url': 'http://rt:s3cret%%20pass@127.0.0.1:%d/RPC2' % port}}, 'BASE_URL': ''}))))
        response = good.get('/target/box/')
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert sorted(Rows(page).names) == sorted(t['name'] for t in swarm.torrents)
        settings = good.get('/target/box/settings').get_data(as_text=True)      # where the address is said
        assert 's3cret' not in page + settings and 'http://rt:***@127.0.0.1:%d/RPC2' % port in page_text(settings)
        bad = Client(webapp.from_address(make_app(config.from_dict({'targets': {
            'box': {'url': 'http://rt:wrong@127.0.0.1:%d/RPC2' % port}}, 'BASE_URL': ''}))))
        response = bad.get('/target/box/')
        assert response.status_code == 502
        page = response.get_data(as_text=True)
        assert 'the web server answered HTTP 401 Unauthorized' in page_text(page)
        assert 'wrong' not in page and 'wrong' not in str(bad.get('/api/target/box/torrents').json)
    finally:
        server.stop()


def test_bad_config_under_spawn_fcgi_answers_with_where_to_look(tmp_path):
    """spawn-fcgi drops the app's stderr: the pages say what to run instead of a bare 503."""
    workdir = str(tmp_path)
    bad = tmp_path / 'config.py'
    bad.write_text("PAGESIZE = 10\ntargets = {'a': {'url': 'scgi://127.0.0.1:1'}}\n")
    fcgi_socket = os.path.join(workdir, 'torrent.sock')
    options, program = spawn_fcgi_command(fcgi_socket)
    app = rig.spawn_fcgi(fcgi_socket, program, env=dict(os.environ, PYROTORRENT_CONFIG=str(bad)),
                         log_path=os.path.join(workdir, 'fcgi.log'), extra_args=options)
    snippet = substitute(read_example('lighttpd-prefix.conf'), [(DOC_FCGI_SOCKET, fcgi_socket), (DOC_ROOT, ROOT)])
    server = rig.Lighttpd(workdir, lighttpd_base(workdir, rig.free_port()) + snippet)
    server.start()
    try:
        conn = http.client.HTTPConnection('127.0.0.1', server.port, timeout=20)
        conn.request('GET', '/torrent/')
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        assert response.status == 503, text
        assert 'configuration file has a mistake' in text and 'python test.py' in text
        assert 'PAGESIZE' not in text                       # the details stay on the server
        assert "unknown setting 'PAGESIZE'" in rig.log_tail(os.path.join(workdir, 'fcgi.log'))
        done = subprocess.run([sys.executable, os.path.join(ROOT, 'test.py')], capture_output=True, text=True,
                              env=dict(os.environ, PYROTORRENT_CONFIG=str(bad)), timeout=30)
        assert done.returncode == 2 and "unknown setting 'PAGESIZE'" in done.stdout
    finally:
        server.stop()
        app.stop()
