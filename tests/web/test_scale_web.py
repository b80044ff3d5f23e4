"""Several pyroTorrent processes as docs/scaling.rst sets them up, with real servers: two
FastCGI processes on two addresses (pyrotorrent.py --fcgi HOST:PORT) reading one config.py,
sessions in redis (or memcached) through Beaker's own backends, the store on PostgreSQL,
lighttpd balancing both (docs/examples/lighttpd-balance.conf) and nginx in front of both
(docs/examples/nginx.conf), over a real rtorrent."""
import os
import re
import threading
import time

import pytest
import requests

from lib import auth, shared_counters
from tests import rig
from tests.servers import FcgiTcp, Nginx
from tests.webapp import CSRF_TOKEN, checks_allowed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, 'docs', 'examples')
PASSWORD = 'correct horse battery'
CLIENTS = 20


def write_config(path, **settings):
    with open(path, 'w', encoding='utf-8') as f:
        for key, value in settings.items():
            f.write('%s = %r\n' % (key, value))
    return path


SECRET = 'the same secret on every process of the test'


def session_options(kind, redis_server, memcached_server):
    if kind == 'redis':
        return {'session.type': 'ext:redis', 'session.url': redis_server.url, 'session.secret': SECRET}
    return {'session.type': 'ext:memcached', 'session.url': memcached_server.address, 'session.secret': SECRET}


def balance_conf(workdir, port, processes, direct_ports):
    """docs/examples/lighttpd-balance.conf with these processes' addresses, and one more
    port a process (only it), so a test can choose which one answers."""
    with open(os.path.join(EXAMPLES, 'lighttpd-balance.conf')) as f:
        snippet = f.read().replace('/home/rtorrent/pyrotorrent/static/', os.path.join(ROOT, 'static') + '/')
    for old, fcgi in zip(('"192.168.1.11",\n      "port"        => 9001', '"192.168.1.12",\n      "port"        => 9001'),
                         processes):
        assert old in snippet
        snippet = snippet.replace(old, '"%s",\n      "port"        => %d' % (fcgi.host, fcgi.port))
    docroot = os.path.join(workdir, 'docroot')
    os.makedirs(docroot, exist_ok=True)
    lines = ['server.document-root = "%s"' % docroot, 'server.port = %d' % port, 'server.bind = "127.0.0.1"',
             'server.errorlog = "%s"' % os.path.join(workdir, 'error.log'),
             'server.modules += ( "mod_status" )', 'status.statistics-url = "/server-counters"', snippet]
    for direct, fcgi in zip(direct_ports, processes):
        lines.append('$SERVER["socket"] == "127.0.0.1:%d" {\n  fastcgi.server = ( "/torrent" => ( "only" => '
                     '( "host" => "%s", "port" => %d, "check-local" => "disable" ) ) )\n}' % (direct, fcgi.host, fcgi.port))
    return '\n'.join(lines) + '\n'


class Stack:
    """Two FastCGI processes (A on 127.0.0.1, B on an address() of its own), lighttpd balancing them on
    .url, and .direct[0] / .direct[1] reaching A only / B only."""

    def __init__(self, workdir, daemon, options, store_url, counters_url):
        self.counters_url = counters_url
        self.users = {'alice': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}
        self.config_path = write_config(
            os.path.join(workdir, 'config.py'), targets={'home': {'url': daemon.url}}, users=self.users,
            session_options=options, STORE=store_url, SHARED_COUNTERS=counters_url, REFRESH_SECONDS=0)
        self.processes = [FcgiTcp(self.config_path, '127.0.0.1').start(),
                          FcgiTcp(self.config_path, rig.address()).start()]
        port, direct = rig.free_port(), [rig.free_port(), rig.free_port()]
        self.lighttpd = rig.Lighttpd(workdir, balance_conf(workdir, port, self.processes, direct)).start()
        self.url = self.lighttpd.url
        self.direct = ['http://127.0.0.1:%d' % p for p in direct]

    def counters(self):
        """{backend name: requests lighttpd sent it} from mod_status."""
        text = requests.get(self.url + '/server-counters', timeout=10).text
        found = {}
        for name, count in re.findall(r'^gw\.backend\.(\w+)\.\d+\.connected: (\d+)', text, re.M):
            found[name] = found.get(name, 0) + int(count)
        return found

    def stop(self):
        self.lighttpd.stop()
        for fcgi in self.processes:
            fcgi.stop()


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('scale-rt').daemon


@pytest.fixture(scope='module', params=['redis', 'memcached'])
def stack(request, tmp_path_factory, daemon, postgres, redis_server, memcached_server):
    kind = request.param
    counters = redis_server.url if kind == 'redis' else 'memcached://' + memcached_server.address
    s = Stack(str(tmp_path_factory.mktemp('scale-' + kind)), daemon,
              session_options(kind, redis_server, memcached_server), postgres.database('web_' + kind), counters)
    s.kind = kind
    yield s
    s.stop()


def log_in(base, http=None, name='alice', password=PASSWORD):
    """A requests.Session logged in through `base` (its CSRF token first); (session, answer)."""
    http = http or requests.Session()
    page = http.get(base + '/torrent/login', timeout=30)
    token = CSRF_TOKEN.search(page.text).group(1)
    answer = http.post(base + '/torrent/login', data={'name': name, 'password': password, 'csrf_token': token},
                       allow_redirects=False, timeout=60)
    return http, answer


def who(http, base):
    answer = http.get(base + '/torrent/api/session', timeout=30)
    return answer.json().get('user') if answer.status_code == 200 else answer.status_code


def test_a_login_through_one_process_holds_through_the_other_and_a_logout_ends_it_everywhere(stack):
    a, b = stack.direct
    http, answer = log_in(a)
    assert answer.status_code == 303
    assert who(http, b) == 'alice' and who(http, a) == 'alice'
    page = http.get(b + '/torrent/', timeout=30)
    assert page.status_code == 200 and 'home' in page.text
    kept = dict(http.cookies)
    token = CSRF_TOKEN.search(page.text).group(1)          # the token B shows is the one A made
    assert http.post(a + '/torrent/logout', data={'csrf_token': token}, allow_redirects=False,
                     timeout=30).status_code == 303
    replay = requests.Session()
    replay.cookies.update(kept)                             # the old cookie, kept by an attacker
    assert who(replay, b) == 401 and who(replay, a) == 401


def test_lighttpd_spreads_requests_over_both_processes(stack):
    http, _ = log_in(stack.url)
    before = stack.counters()
    for _ in range(30):
        assert who(http, stack.url) == 'alice'
    after = stack.counters()
    assert {'web1', 'web2'} <= set(after)
    assert after['web1'] > before.get('web1', 0) and after['web2'] > before.get('web2', 0)


def test_forty_guesses_across_both_processes_check_at_most_the_documented_number(stack):
    name = 'guess-%s' % stack.kind
    pages = [requests.get(base + '/torrent/login', timeout=30) for base in stack.direct]
    results, start = [], threading.Barrier(40)

    def guess(i):
        base, page = stack.direct[i % 2], pages[i % 2]
        start.wait(60)
        answer = requests.post(base + '/torrent/login', cookies=page.cookies, allow_redirects=False, timeout=120,
                               data={'name': name, 'password': 'wrong %d' % i,
                                     'csrf_token': CSRF_TOKEN.search(page.text).group(1)})
        results.append(answer.status_code)
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    took = time.monotonic() - began
    assert len(results) == 40 and set(results) <= {401, 429}
    assert 1 <= results.count(401) <= checks_allowed(took), results      # checked; the rest were told to wait
    # the guesses came from 127.0.0.1, as the other tests' logins do: forgive that address
    counters = shared_counters.counters_for(stack.counters_url)
    for address in ('127.0.0.1', stack.processes[1].host):
        for key in auth.LoginThrottle.keys(name, address):
            counters.clear(key)


def test_one_process_killed_under_load_loses_no_session(stack):
    """With either shared session store (each stack), the sessions outlive the process killed."""
    logins = [log_in(stack.url) for _ in range(CLIENTS)]
    assert [answer.status_code for _, answer in logins] == [303] * CLIENTS   # every client is logged in
    sessions = [http for http, _ in logins]
    killed = threading.Event()
    done = [0] * CLIENTS
    after_kill = [0] * CLIENTS
    outcomes = []                  # (client, started, ended, status or exception name)
    killed_at = [None]

    def client(i):
        http = sessions[i]
        for _ in range(400):       # bounded: stops by itself
            started = time.monotonic()
            try:
                answer = http.get(stack.url + '/torrent/api/session', timeout=60)
                outcome = answer.json().get('user') if answer.status_code == 200 else answer.status_code
            except (requests.RequestException, ValueError) as exc:
                outcome = exc.__class__.__name__
            outcomes.append((i, started, time.monotonic(), outcome))
            done[i] += 1
            if killed.is_set():
                after_kill[i] += 1
                if after_kill[i] >= 10:
                    return
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    rig.wait_for(lambda: min(done) >= 5, 120, 'every client to make 5 requests')
    stack.processes[0].kill()
    killed_at[0] = time.monotonic()
    killed.set()
    for t in threads:
        t.join(240)
    assert min(after_kill) >= 10
    failed = [o for o in outcomes if o[3] != 'alice']
    in_flight = [o for o in failed if o[1] < killed_at[0]]
    assert failed == in_flight, 'requests that began after the kill failed: %r' % (failed[:5],)
    assert len(failed) <= CLIENTS                           # at most one in flight a client
    assert all(who(http, stack.url) == 'alice' for http in sessions)   # no session lost
    assert all(who(http, stack.direct[1]) == 'alice' for http in sessions)


def test_nginx_in_front_of_both_processes(stack, tmp_path):
    with open(os.path.join(EXAMPLES, 'nginx.conf')) as f:
        snippet = f.read()
    live = [p for p in stack.processes if p.alive()]
    servers = ''.join('    server %s:%d;\n' % (p.host, p.port) for p in live)
    snippet = re.sub(r'(upstream pyrotorrent \{\n)(    server .*\n)+', lambda m: m.group(1) + servers, snippet)
    snippet = snippet.replace('listen 80;', 'listen 127.0.0.1:{port};').replace(
        '/home/rtorrent/pyrotorrent/static/', os.path.join(ROOT, 'static') + '/')
    user = 'user root root;\n' if os.geteuid() == 0 else ''
    conf = (user + 'worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n'
            'events { worker_connections 256; }\nhttp {\n  include /etc/nginx/mime.types;\n'
            '  access_log {prefix}/logs/access.log;\n  client_body_temp_path {prefix}/body;\n'
            '  fastcgi_temp_path {prefix}/fastcgi;\n  proxy_temp_path {prefix}/proxy;\n'
            '  uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n'
            + snippet.replace('include fastcgi_params;', 'include /etc/nginx/fastcgi_params;') + '}\n')
    nginx = Nginx(conf).start()
    try:
        http, answer = log_in(nginx.url)
        assert answer.status_code == 303 and answer.headers['Location'].endswith('/torrent/')
        assert who(http, nginx.url) == 'alice'
        assert who(http, stack.direct[1]) == 'alice'          # the same session behind lighttpd
        page = http.get(nginx.url + '/torrent/?sort=name', timeout=30)
        assert page.status_code == 200 and 'home' in page.text
        css = http.get(nginx.url + '/static/torrent/style.css', timeout=30)
        assert css.status_code == 200 and css.headers['Content-Type'].startswith('text/css')
        token = CSRF_TOKEN.search(page.text).group(1)
        assert http.post(nginx.url + '/torrent/logout', data={'csrf_token': token}, allow_redirects=False,
                         timeout=30).status_code == 303
        assert who(http, nginx.url) == 401
    finally:
        nginx.stop()
