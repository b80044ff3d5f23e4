#!/usr/bin/env python3
"""The torrent list at scale: a real rtorrent with 10,000 torrents, and pyroTorrent's page.

    .venv/bin/python tests/bench/bench_list.py [--torrents 10000] [--repeat 7]

Loads N synthetic torrents (stopped, no data) into a real rtorrent once, keeping its
session folder so the next run restarts from it, then prints a table:
  - the raw d.multicall2 round trip for every list column (what a naive UI does per page),
  - decoding that answer: lib.xmlrpc against xmlrpc.client (and whether they agree),
  - list pages through the WSGI app, as time and as a ratio to the raw round trip,
  - the same pages over HTTP: from `pyrotorrent.py --http`, and from lighttpd with
    pyroTorrent under spawn-fcgi (flup FastCGI) as the setup manual deploys it; and the
    serving process's peak memory.
Names are loaded in shuffled order, as on a real box, so a page's rows sit anywhere in
rtorrent's download list (rtorrent finds a torrent by hash with a linear scan).
Timings are the median of --repeat runs, in milliseconds.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import xmlrpc.client as stdlib_xmlrpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from werkzeug.test import Client  # noqa: E402

from lib import config, xmlrpc  # noqa: E402
from lib.transport import transport_for  # noqa: E402
from model.clients.rtorrent import commands  # noqa: E402
from pyrotorrent import make_app  # noqa: E402
from tests import rig  # noqa: E402
from tests.webapp import from_address, login  # noqa: E402
from tests.bench.timing import median_ms  # noqa: E402

# What a UI that asks for every column of every torrent would fetch: the list's columns
# with the flags behind its state (16 fields).
LIST_COLUMNS = ('hash', 'name', 'size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers', 'seeders',
                'label', 'added', 'message', 'started', 'active', 'hashing', 'complete')

PAGES = [
    ('list page, sorted by name (first page)', '/target/big/?sort=name'),
    ('list page, sorted by size, largest first', '/target/big/?sort=size&order=desc'),
    ('list page, newest first (rows deepest in rtorrent)', '/target/big/?sort=added&order=desc'),
    ('list page, name filter "jazz", sorted by ETA (5 numbers)', '/target/big/?q=jazz&sort=eta'),
    ('list page, sorted by state (4 numbers a torrent)', '/target/big/?sort=state'),
    ('JSON API, sorted by name (first page)', '/api/target/big/torrents?sort=name'),
]


def daemon_with(n, workdir, bind=None):
    """A running rtorrent holding n torrents, from workdir's saved session if it has one."""
    saved = os.path.join(workdir, 'session')
    have = len([f for f in os.listdir(saved) if f.endswith('.torrent')]) if os.path.isdir(saved) else 0
    daemon = rig.RTorrentDaemon(workdir, bind=bind, timeout=300)
    start = time.monotonic()
    daemon.start(timeout=300)
    if have != n:
        if have:
            daemon.stop()
            subprocess.run(['rm', '-rf', saved])
            os.makedirs(saved)
            daemon.start(timeout=300)
        torrents = rig.synthetic_torrents(n)
        random.Random(1).shuffle(torrents)     # load order unrelated to name order
        daemon.load_many(torrents, batch=200)
        how = 'loaded %d torrents' % n
    else:
        daemon.wait(lambda: daemon.call('view.size', '', 'main') == n, 300, 'rtorrent to load its session')
        how = 'restarted from the saved session of %d torrents' % n
    print('rtorrent %s in %.1f s' % (how, time.monotonic() - start), file=sys.stderr)
    return daemon


def write_config(path, url, base_url):
    with open(path, 'w') as f:
        f.write('BASE_URL = %r\nPAGE_SIZE = 50\ntargets = {"big": {"url": %r, "timeout": 300}}\n' % (base_url, url))
    return path


def peak_memory_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs '
                        '(default: /tmp/pyrotorrent-bench-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    rows = []
    try:
        transport = transport_for(daemon.url, 300)
        fields = [commands.TORRENT[f] + '=' for f in LIST_COLUMNS]
        body = xmlrpc.dumps('d.multicall2', ['', 'main'] + fields)
        answer = transport.request(body)
        raw = median_ms(lambda: transport.request(body), args.repeat)
        rows.append(('raw d.multicall2 round trip, %d fields, %.1f MB' % (len(fields), len(answer) / 1e6), raw, ''))
        ours = median_ms(lambda: xmlrpc.loads(answer), args.repeat)
        theirs = median_ms(lambda: stdlib_xmlrpc.loads(answer), args.repeat)
        same = xmlrpc.loads(answer) == stdlib_xmlrpc.loads(answer)[0][0]
        rows.append(('decode with xmlrpc.client', theirs, ''))
        rows.append(('decode with lib.xmlrpc (identical result: %s)' % ('yes' if same else 'NO'), ours,
                     '%.1fx faster' % (theirs / ours)))

        settings = {'targets': {'big': {'url': daemon.url, 'timeout': 300}}, 'BASE_URL': '', 'PAGE_SIZE': 50}
        cold = []
        for _ in range(args.repeat):
            web = Client(from_address(make_app(config.from_dict(settings))))
            start = time.perf_counter()
            assert web.get(PAGES[0][1]).status_code == 200
            cold.append((time.perf_counter() - start) * 1000)
        rows.append(('%s, new app (asks rtorrent for its methods first)' % PAGES[0][0],
                     statistics.median(cold), '%.2fx raw' % (statistics.median(cold) / raw)))
        web = Client(from_address(make_app(config.from_dict(settings))))
        for label, url in PAGES:
            assert web.get(url).status_code == 200, url
            ms = median_ms(lambda: web.get(url), args.repeat)
            rows.append(('WSGI: ' + label, ms, '%.2fx raw' % (ms / raw)))
        # the same first page for a logged-in user: the session comes from Beaker's file store
        from lib import auth
        users = {'bench': {'password': auth.hash_password('bench-password'), 'role': 'user'}}
        web = Client(from_address(make_app(config.from_dict(dict(settings, users=users)))))
        assert login(web, 'bench', 'bench-password').status_code == 303
        assert web.get(PAGES[0][1]).status_code == 200
        ms = median_ms(lambda: web.get(PAGES[0][1]), args.repeat)
        rows.append(('WSGI: %s, logged in (session, CSRF form, bulk boxes)' % PAGES[0][0], ms, '%.2fx raw' % (ms / raw)))

        def over_http(what, port, prefix, pid):
            for label, url in PAGES:
                def fetch():
                    with urllib.request.urlopen('http://127.0.0.1:%d%s%s' % (port, prefix, url), timeout=300) as r:
                        r.read()
                fetch()
                ms = median_ms(fetch, args.repeat)
                rows.append(('%s: %s' % (what, label), ms, '%.2fx raw' % (ms / raw)))
            rows.append(('%s: peak memory of the pyroTorrent process (VmHWM)' % what, None,
                         '%.1f MB' % (peak_memory_kib(pid) / 1024)))

        # The development server, in a process of its own.
        port = rig.free_port()
        cfg = write_config(os.path.join(workdir, 'bench-http.py'), daemon.url, '')
        server = subprocess.Popen([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', cfg,
                                   '--http', '127.0.0.1:%d' % port], stderr=subprocess.DEVNULL)
        try:
            rig.wait_for(lambda: rig.port_accepts('127.0.0.1', port), 30, 'the HTTP server')
            over_http('HTTP, pyrotorrent.py --http', port, '', server.pid)
        finally:
            server.terminate()
            server.wait()

        # Production: lighttpd (docs/examples/lighttpd-prefix.conf) and flup under spawn-fcgi.
        fcgi_dir = tempfile.mkdtemp(prefix='pyrotorrent-bench-fcgi-')
        socket_path = os.path.join(fcgi_dir, 'torrent.sock')
        cfg = write_config(os.path.join(fcgi_dir, 'config.py'), daemon.url, '/torrent')
        with open(os.path.join(ROOT, 'docs', 'examples', 'lighttpd-prefix.conf')) as f:
            snippet = f.read().replace('/tmp/torrent.sock-1', socket_path).replace('/home/rtorrent/pyrotorrent', ROOT)
        port = rig.free_port()
        lighttpd = rig.Lighttpd(fcgi_dir, 'server.document-root = "%s"\nserver.port = %d\nserver.bind = "127.0.0.1"\n'
                                'server.errorlog = "%s/error.log"\n%s' % (fcgi_dir, port, fcgi_dir, snippet))
        app = rig.spawn_fcgi(socket_path, [sys.executable, os.path.join(ROOT, 'pyrotorrent.py')],
                             env=dict(os.environ, PYROTORRENT_CONFIG=cfg))
        try:
            lighttpd.start()
            over_http('lighttpd + flup FastCGI', port, '/torrent', app.pid)
        finally:
            lighttpd.stop()
            app.stop()
    finally:
        daemon.stop()

    print('\n%d torrents, rtorrent 0.9.8, median of %d runs\n' % (args.torrents, args.repeat))
    width = max(len(r[0]) for r in rows)
    print('| %s | %9s | %-14s |' % ('what'.ljust(width), 'ms', ''))
    print('|%s|%s|%s|' % ('-' * (width + 2), '-' * 11, '-' * 16))
    for what, ms, note in rows:
        print('| %s | %9s | %-14s |' % (what.ljust(width), '' if ms is None else '%.1f' % ms, note))


if __name__ == '__main__':
    main()
