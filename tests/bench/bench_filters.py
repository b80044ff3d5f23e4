#!/usr/bin/env python3
"""The list's tracker filter at scale: a real rtorrent with 10,000 torrents of 5 trackers.

    .venv/bin/python tests/bench/bench_filters.py [--torrents 10000] [--repeat 7]

Loads N synthetic torrents (stopped, no data), a fifth each announcing to a different
tracker and a third of them labelled, into a real rtorrent once, keeping its
session folder so the next run restarts from it, then prints a table: the raw 16-field
d.multicall2 round trip (what bench_list.py compares against), the list's first round trip
with and without the trackers' URLs (commands.LIST_TRACKERS, the cost of the counts), and
list pages through the WSGI app with the tracker counts and filters -- the first of a new
process (every tracker asked) and then with the domains known -- each as a ratio to that raw
round trip measured in the same run.  Best of --repeat runs (and the median), ms.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from werkzeug.test import Client  # noqa: E402

from lib import config, xmlrpc  # noqa: E402
from lib.transport import transport_for  # noqa: E402
from model.clients import backend_for  # noqa: E402
from model.clients.types import ListQuery  # noqa: E402
from model.clients.rtorrent import commands  # noqa: E402
from model.clients.rtorrent.rows import NAME_COMMAND  # noqa: E402
from pyrotorrent import make_app  # noqa: E402
from tests import rig  # noqa: E402
from tests.bench.bench_list import LIST_COLUMNS  # noqa: E402
from tests.webapp import from_address  # noqa: E402
from tests.bench.timing import timed  # noqa: E402

TRACKERS = ['http://tracker.alpha.example:6969/announce', 'https://bt.beta.example/announce?passkey=abc',
            'http://tr.gamma.example.org/announce', 'udp://open.delta.example:1337',
            'http://127.0.0.1:1/announce']
PAGES = [
    ('list page, sorted by name, with tracker and label counts', '/target/big/?sort=name'),
    ('list page, tracker filter', '/target/big/?tracker=beta.example'),
    ('list page, tracker + label filter, sorted by size', '/target/big/?tracker=alpha.example&label=music&sort=size'),
    ('list page, tracker + name search "jazz"', '/target/big/?tracker=example.org&q=jazz'),
    ('JSON API, tracker filter', '/api/target/big/torrents?tracker=delta.example'),
]


def daemon_with(n, workdir):
    saved = os.path.join(workdir, 'session')
    have = len([f for f in os.listdir(saved) if f.endswith('.torrent')]) if os.path.isdir(saved) else 0
    daemon = rig.RTorrentDaemon(workdir, timeout=300)
    start = time.monotonic()
    daemon.start(timeout=300)
    if have != n:
        if have:
            daemon.stop()
            subprocess.run(['rm', '-rf', saved])
            os.makedirs(saved)
            daemon.start(timeout=300)
        share = -(-n // len(TRACKERS))
        for i, url in enumerate(TRACKERS):
            torrents = rig.synthetic_torrents(min(share, n - i * share), start=i * share, seed=5, announce_url=url)
            random.Random(i).shuffle(torrents)
            third = len(torrents) // 3
            daemon.load_many(torrents[:third], batch=200, label='music')
            daemon.load_many(torrents[third:], batch=200)
        how = 'loaded %d torrents' % n
    else:
        daemon.wait(lambda: daemon.call('view.size', '', 'main') == n, 300, 'rtorrent to load its session')
        how = 'restarted from the saved session of %d torrents' % n
    print('rtorrent %s in %.1f s' % (how, time.monotonic() - start), file=sys.stderr)
    return daemon


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: /tmp/pyrotorrent-bench-filters-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-filters-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    rows = []
    try:
        transport = transport_for(daemon.url, 300)
        fields = [commands.TORRENT[f] + '=' for f in LIST_COLUMNS]
        raw_body = xmlrpc.dumps('d.multicall2', ['', 'main'] + fields)
        size = len(transport.request(raw_body))
        raw, raw_median = timed(lambda: transport.request(raw_body), args.repeat)
        rows.append(('raw d.multicall2 round trip, %d fields, %.1f MB' % (len(fields), size / 1e6), raw, raw_median, ''))
        keys = commands.packed(('hash', 'label'))
        for what, extra in (('without', []), ('with', [commands.LIST_TRACKERS])):
            body = xmlrpc.dumps('d.multicall2', ['', 'main', NAME_COMMAND, keys] + extra)
            size = len(transport.request(body))
            best, median = timed(lambda: transport.request(body), args.repeat)
            rows.append(("the list's keys (name, hash, label) %s the trackers' URLs, %.1f MB" % (what, size / 1e6),
                         best, median, '%.2fx raw' % (best / raw)))
        body = xmlrpc.dumps('d.multicall2', ['', 'main', NAME_COMMAND, keys, commands.LIST_TRACKERS])
        answer = transport.request(body)
        best, median = timed(lambda: xmlrpc.loads(answer), args.repeat)
        rows.append(('  decoding that answer (lib.xmlrpc)', best, median, '%.2fx raw' % (best / raw)))

        settings = {'targets': {'big': {'url': daemon.url, 'timeout': 300}}, 'BASE_URL': '', 'PAGE_SIZE': 50}
        backend = backend_for(config.from_dict(settings).targets[0])
        for label, query in (('by name, first page', ListQuery()),
                             ('tracker + label filter', ListQuery(tracker='alpha.example', label='music'))):
            backend.torrent_list(query)
            best, median = timed(lambda: backend.torrent_list(query), args.repeat)
            rows.append(('model: torrent_list(), %s, tracker domains known' % label, best, median,
                         '%.2fx raw' % (best / raw)))

            def cold():
                backend._domains = None         # as a new process: every tracker URL asked
                backend.torrent_list(query)
            best, median = timed(cold, args.repeat)
            rows.append(('model: torrent_list(), %s, no tracker known yet' % label, best, median,
                         '%.2fx raw' % (best / raw)))
        cold = []
        for _ in range(args.repeat):
            web = Client(from_address(make_app(config.from_dict(settings))))
            web.get('/target/big/?tracker=nowhere')     # the app asks rtorrent for its methods first
            web.application.pyrotorrent.backends['big']._domains = None      # as a new process
            start = time.perf_counter()
            assert web.get(PAGES[0][1]).status_code == 200
            cold.append((time.perf_counter() - start) * 1000)
        rows.append(('WSGI: %s, no tracker known yet (a new process)' % PAGES[0][0], min(cold),
                     statistics.median(cold), '%.2fx raw' % (min(cold) / raw)))
        web = Client(from_address(make_app(config.from_dict(settings))))
        for label, url in PAGES:
            answer = web.get(url)
            assert answer.status_code == 200, (url, answer.get_data(as_text=True)[:500])
            best, median = timed(lambda: web.get(url), args.repeat)
            rows.append(('WSGI: ' + label, best, median, '%.2fx raw' % (best / raw)))
        counts = web.get('/api/target/big/torrents?per_page=1').json['trackers']
        print('tracker counts: %s' % ', '.join('%s %d' % kv for kv in sorted(counts.items())), file=sys.stderr)
    finally:
        daemon.stop()

    print('\n%d torrents of %d trackers, rtorrent 0.9.8; best (and median) of %d runs\n'
          % (args.torrents, len(TRACKERS), args.repeat))
    width = max(len(r[0]) for r in rows)
    print('| %s | %9s | %9s | %-11s |' % ('what'.ljust(width), 'best ms', 'median ms', ''))
    print('|%s|%s|%s|%s|' % ('-' * (width + 2), '-' * 11, '-' * 11, '-' * 13))
    for what, best, median, note in rows:
        print('| %s | %9.1f | %9.1f | %-11s |' % (what.ljust(width), best, median, note))


if __name__ == '__main__':
    main()
