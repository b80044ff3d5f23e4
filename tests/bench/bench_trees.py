#!/usr/bin/env python3
"""The list page of two pyroTorrent trees against one real rtorrent, asked in turn.

    .venv/bin/python tests/bench/bench_trees.py --before DIR [--after DIR] [--rounds 3] [--torrents 10000]

DIR is a checkout of another commit (git worktree add --detach DIR COMMIT).  One rtorrent
with N torrents (bench_list.py's saved session) serves both; each round starts one process
a tree, so neither shares the other's imports or caches, and prints a table: per page, the
median of 5 loads through the WSGI app in ms, a column a round.  Machine noise shows as the
spread between rounds of one tree.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ('/target/big/?sort=name', '/target/big/?sort=state', '/api/target/big/torrents?sort=name')


def pages(root, url):
    """In a process of its own: time PAGES in the tree at root."""
    sys.path.insert(0, root)
    os.chdir(root)
    from werkzeug.test import Client
    from lib import config
    from pyrotorrent import make_app
    web = Client(make_app(config.from_dict({'targets': {'big': {'url': url, 'timeout': 300}},
                                            'PAGE_SIZE': 50, 'BASE_URL': ''})))
    local = {'REMOTE_ADDR': '127.0.0.1'}
    web.get(PAGES[0], environ_base=local)
    for path in PAGES:
        times = []
        for _ in range(5):
            began = time.perf_counter()
            status = web.get(path, environ_base=local).status_code
            times.append((time.perf_counter() - began) * 1000)
            if status != 200:
                raise SystemExit('%s answered %d' % (path, status))
        print('%s\t%.1f' % (path, statistics.median(times)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--before', help='the tree to compare with (a checkout of another commit)')
    parser.add_argument('--after', default=ROOT)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: bench_list.py\'s)')
    parser.add_argument('--pages', nargs=2, metavar=('ROOT', 'URL'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages:
        return pages(*args.pages)
    if not args.before:
        parser.error('say which tree to compare with: --before DIR')
    sys.path.insert(0, ROOT)
    import tempfile
    from tests.bench.bench_list import daemon_with
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % args.torrents)
    daemon = daemon_with(args.torrents, workdir)
    found = {}
    try:
        for _ in range(args.rounds):
            for tree in (args.before, args.after):
                out = subprocess.run([sys.executable, os.path.abspath(__file__), '--pages', tree, daemon.url],
                                     capture_output=True, text=True, check=True).stdout
                for line in out.splitlines():
                    path, ms = line.split('\t')
                    found.setdefault((tree, path), []).append(ms)
    finally:
        daemon.stop()
    print('| page | before (%s) | after (%s) |' % (args.before, args.after))
    print('|---|---|---|')
    for path in PAGES:
        print('| %s | %s | %s |' % (path, ' / '.join(found[(args.before, path)]), ' / '.join(found[(args.after, path)])))


if __name__ == '__main__':
    sys.exit(main())
