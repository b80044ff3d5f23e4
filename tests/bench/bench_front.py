#!/usr/bin/env python3
"""The front page (the overview) at scale: a real rtorrent with 10,000 torrents.

    .venv/bin/python tests/bench/bench_front.py [--torrents 10000] [--repeat 9]

Uses bench_list.py's setup (N synthetic stopped torrents, loaded once and kept in a session
folder of this bench's own) and prints a table of best and median times in
milliseconds, each as a ratio to the raw round trip of the list's 16 fields measured in the
same run:
  - the raw d.multicall2 of 16 fields (what a naive UI asks for every torrent),
  - the overview's view multicalls: 'started', 'stopped' (3 fields) and 'hashing', packed,
  - for comparison, OVERVIEW_FIELDS over every torrent ('main'),
  - RTorrent.overview() (header, counts by state, active now),
  - the second round trip when torrents are active: ROW, name and label of the 10 torrents
    deepest in rtorrent's list (what ACTIVE_ROWS costs at worst),
  - the front page and the first list page through the WSGI app.
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from werkzeug.test import Client  # noqa: E402

from lib import config, xmlrpc  # noqa: E402
from lib.transport import transport_for  # noqa: E402
from model.clients.rtorrent import RTorrent, commands  # noqa: E402
from lib.pages.lists import ACTIVE_ROWS  # noqa: E402
from pyrotorrent import make_app  # noqa: E402
from bench_list import LIST_COLUMNS, daemon_with  # noqa: E402  (beside this script)
from tests.bench.timing import timed  # noqa: E402
from tests.webapp import from_address  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=9)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: /tmp/pyrotorrent-bench-front-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-front-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    rows = []
    try:
        transport = transport_for(daemon.url, 300)
        body = xmlrpc.dumps('d.multicall2', ['', 'main'] + [commands.TORRENT[f] + '=' for f in LIST_COLUMNS])
        answer = transport.request(body)
        raw = timed(lambda: transport.request(body), args.repeat)
        rows.append(('raw d.multicall2 round trip, %d fields, %.1f MB' % (len(LIST_COLUMNS), len(answer) / 1e6), raw))
        fields = (commands.OVERVIEW_FIELDS, commands.OVERVIEW_STOPPED_FIELDS, commands.OVERVIEW_FIELDS)
        views = xmlrpc.dumps('system.multicall', [[
            {'methodName': 'd.multicall2', 'params': ['', view, commands.packed(f)]}
            for view, f in zip(commands.OVERVIEW_VIEWS, fields)]])
        answer = transport.request(views)
        rows.append(("raw overview multicalls over 'started', 'stopped' (%d fields), 'hashing', %.1f MB"
                     % (len(commands.OVERVIEW_STOPPED_FIELDS), len(answer) / 1e6),
                     timed(lambda: transport.request(views), args.repeat)))
        every = xmlrpc.dumps('d.multicall2', ['', 'main', commands.packed(commands.OVERVIEW_FIELDS)])
        answer = transport.request(every)
        rows.append(("for comparison: %d fields packed over 'main', %.1f MB"
                     % (len(commands.OVERVIEW_FIELDS), len(answer) / 1e6),
                     timed(lambda: transport.request(every), args.repeat)))
        backend = RTorrent(daemon.url, name='big', timeout=300)
        overview = backend.overview(ACTIVE_ROWS)
        assert overview.total == args.torrents, overview.total
        rows.append(('RTorrent.overview(): header, counts, active now (%d active)' % overview.active_total,
                     timed(lambda: backend.overview(ACTIVE_ROWS), args.repeat)))
        deepest = [h for h, in daemon.rows(['d.hash'])][-ACTIVE_ROWS:]
        branch, condition, row = commands.ROW
        calls = [c for h in deepest for c in ((branch, [h, condition, row, '']), (commands.TORRENT['name'], [h]),
                                               (commands.TORRENT['label'], [h]))]
        rows.append(('its 2nd round trip when %d are active (the deepest in the list)' % ACTIVE_ROWS,
                     timed(lambda: backend.multicall(calls), args.repeat)))
        settings = {'targets': {'big': {'url': daemon.url, 'timeout': 300}}, 'BASE_URL': '', 'PAGE_SIZE': 50}
        web = Client(from_address(make_app(config.from_dict(settings))))
        for label, url in (('WSGI: the front page', '/'), ('WSGI: the list page, sorted by name', '/target/big/')):
            assert web.get(url).status_code == 200, url
            rows.append((label, timed(lambda: web.get(url), args.repeat)))
    finally:
        daemon.stop()

    print('\n%d torrents, rtorrent 0.9.8, best and median of %d runs; ratios to the raw 16-field round trip\n'
          % (args.torrents, args.repeat))
    width = max(len(r[0]) for r in rows)
    print('| %s | %8s | %8s | %9s | %11s |' % ('what'.ljust(width), 'best ms', 'median', 'best/raw', 'median/raw'))
    print('|%s|%s|%s|%s|%s|' % ('-' * (width + 2), '-' * 10, '-' * 10, '-' * 11, '-' * 13))
    for what, (best, median) in rows:
        print('| %s | %8.1f | %8.1f | %8.2fx | %10.2fx |' % (what.ljust(width), best, median, best / raw[0],
                                                            median / raw[1]))


if __name__ == '__main__':
    main()
