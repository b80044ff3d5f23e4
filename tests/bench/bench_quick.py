#!/usr/bin/env python3
"""What a paused or seed-only profile costs rtorrent each worker tick at 10,000 torrents:
the small question between the looks at every torrent (the 'started' / 'leeching' view's
hashes, model.schedule.quick_tick) beside the raw 16-field d.multicall2 over every torrent
and a raw tiny round trip, measured in the same run.

    .venv/bin/python tests/bench/bench_quick.py [--torrents 10000] [--repeat 30]

Its own rtorrent (session kept in /tmp/pyrotorrent-bench-quick-N between
runs; bench_list's torrents, all stopped).  Prints best-of-N milliseconds and each row as
a ratio to the 16-field round trip and to the tiny one.
"""
import argparse
import datetime
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from lib.store import Store  # noqa: E402
from model import schedule, tasks  # noqa: E402
from model.clients.rtorrent import RTorrent  # noqa: E402
from model.clients.rtorrent import commands  # noqa: E402
from tests.bench.bench_list import LIST_COLUMNS, daemon_with  # noqa: E402
from tests.bench.timing import best_ms  # noqa: E402

UTC = datetime.timezone.utc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=30)
    parser.add_argument('--started', type=int, default=10, help='torrents started "from outside" for one row')
    args = parser.parse_args()
    workdir = os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-quick-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    try:
        backend = RTorrent(daemon.url, name='big', timeout=300)
        store = Store.open(os.path.join(tempfile.mkdtemp(prefix='pyrotorrent-bench-store-'), 'store.sqlite3'))
        schedule.save(store, 'big', schedule.validate({'cells': ['paused'] * 168}), 'bench')
        hashes = [h for (h,) in daemon.call('d.multicall2', '', 'main', 'd.hash=')]
        tasks.tick(store, backend, tz=UTC)            # applies paused (nothing runs): later ticks are quick
        sixteen = [commands.TORRENT[f] + '=' for f in LIST_COLUMNS]
        best_ms(lambda: daemon.call('system.client_version'), args.repeat)            # warm up
        rows = [
            ('raw round trip: system.client_version', best_ms(lambda: daemon.call('system.client_version'), args.repeat)),
            ('raw round trip: d.multicall2 main, 16 fields',
             best_ms(lambda: daemon.call('d.multicall2', '', 'main', *sixteen), max(5, args.repeat // 3))),
            ('full look (Backend.snapshot), as every EVENTS_SECONDS', best_ms(backend.snapshot, max(5, args.repeat // 3))),
            ('paused, nothing started: started view (started_hashes)', best_ms(backend.started_hashes, args.repeat)),
            ('seed only, nothing leeching: leeching view',
             best_ms(lambda: backend.started_hashes(incomplete=True), args.repeat)),
            ('paused: the whole quick tick (pid + store + started view)',
             best_ms(lambda: tasks.tick(store, backend, tz=UTC, automate_now=False), args.repeat)),
        ]
        some = hashes[:args.started]
        daemon.multicall([(c, [h]) for h in some for c in ('d.open', 'd.start')])     # started from outside
        rows.append(('paused, %d started from outside: started view' % args.started,
                     best_ms(backend.started_hashes, args.repeat)))
        daemon.multicall([('d.stop', [h]) for h in some])
        tiny, sixteen_ms = rows[0][1], rows[1][1]
        print('\n%d torrents, best of %d runs (the 16-field and full rows: of %d)'
              % (args.torrents, args.repeat, max(5, args.repeat // 3)))
        print('%-60s %9s %11s %9s' % ('', 'ms', 'x 16 fields', 'x tiny'))
        for name, ms in rows:
            print('%-60s %9.2f %11.4f %9.1f' % (name, ms, ms / sixteen_ms, ms / tiny))
    finally:
        daemon.stop()


if __name__ == '__main__':
    main()
