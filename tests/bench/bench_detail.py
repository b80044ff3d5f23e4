#!/usr/bin/env python3
"""The torrent page at scale: RTorrent.torrent_detail against a naive one-command-a-field query.

    .venv/bin/python tests/bench/bench_detail.py [--torrents 10000] [--repeat 15]

Loads N synthetic torrents (stopped, no data) into a real rtorrent, then times, for the
torrent loaded last (deepest in rtorrent's list: rtorrent finds a torrent by hash with a
linear scan, so every command naming it pays the whole scan):
  - torrent_detail(): one round trip, the numbers packed in one command (9 lookups),
  - the same fields asked one command each, in one system.multicall (31 lookups),
  - one batched action (stop) on 1 and on 50 torrents.
Timings are the median of --repeat runs, in milliseconds.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from model.clients.rtorrent import commands  # noqa: E402
from model.clients.rtorrent import RTorrent  # noqa: E402
from tests import rig  # noqa: E402
from bench_list import median_ms  # noqa: E402  (beside this script)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=15)
    args = parser.parse_args()

    daemon = rig.RTorrentDaemon().start()
    try:
        hashes = daemon.load_many(rig.synthetic_torrents(args.torrents))
        backend = RTorrent(daemon.url)
        last = hashes[-1]
        first = hashes[0]
        fields = [c for name, c in commands.TORRENT.items()
                  if name in commands.DETAIL_FIELDS or name in commands.DETAIL_TEXTS]
        naive = [(c, [last]) for c in fields]
        for table, name in ((commands.FILE, 'files'), (commands.PEER, 'peers'), (commands.TRACKER, 'trackers')):
            naive.append((commands.MULTICALL[name], [last, ''] + [c + '=' for c in table.values()]))
        rows = [
            ('torrent_detail, torrent loaded first', lambda: backend.torrent_detail(first)),
            ('torrent_detail, torrent loaded last', lambda: backend.torrent_detail(last)),
            ('one command a field (%d lookups), loaded last' % len(naive), lambda: backend.multicall(naive)),
            ('stop 1 torrent (1 command)', lambda: backend.act('stop', [last])),
            ('start 1 torrent (3 commands)', lambda: backend.act('start', [last])),
            ('stop 50 torrents, one batch', lambda: backend.act('stop', hashes[-50:])),
        ]
        print('%d torrents, rtorrent %s, median of %d, ms' % (len(hashes), daemon.version, args.repeat))
        for label, fn in rows:
            print('  %-52s %8.1f' % (label, median_ms(fn, args.repeat)))
    finally:
        daemon.stop()


if __name__ == '__main__':
    main()
