#!/usr/bin/env python3
"""The worker's tick at scale: what it costs a real rtorrent holding 10,000 torrents when
nothing needs re-applying, beside a raw round trip measured in the same run.

    .venv/bin/python tests/bench/bench_worker.py [--torrents 10000] [--repeat 50]

Uses bench_list's rtorrent (its session folder is kept between runs).  Prints a table of
medians in milliseconds; the tick is model.tasks.tick() for one target whose settings are
kept and were applied to this very rtorrent instance (the common case).
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from lib.store import Store  # noqa: E402
from model import settings, tasks  # noqa: E402
from model.clients.rtorrent import RTorrent  # noqa: E402
from tests.bench.bench_list import daemon_with, median_ms  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=50)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: /tmp/pyrotorrent-bench-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    try:
        backend = RTorrent(daemon.url, name='big', timeout=300)
        store = Store.open(os.path.join(tempfile.mkdtemp(prefix='pyrotorrent-bench-store-'), 'store.sqlite3'))
        clean, _ = settings.validate({'down_limit': '5M', 'up_limit': '1M', 'max_peers': 80, 'encryption': 'allowed',
                                      'groups': {'slow': {'down_limit': '100k', 'up_limit': '50k'}}})
        settings.apply(store, backend, clean, 'bench', everything=True)
        tasks.tick(store, backend)            # notes the instance: later ticks find nothing to do
        median_ms(lambda: daemon.call('system.client_version'), args.repeat)     # warm up after the restart
        rows = [
            ('raw round trip: system.client_version', median_ms(lambda: daemon.call('system.client_version'), args.repeat)),
            ('what a tick asks rtorrent: system.pid', median_ms(backend.instance, args.repeat)),
            ('the whole tick, nothing to re-apply (system.pid + store)', median_ms(lambda: tasks.tick(store, backend), args.repeat)),
            ('the settings page read (one round trip)', median_ms(lambda: settings.view(store, backend), args.repeat)),
            ('re-applying everything (after a restart)',
             median_ms(lambda: settings.apply(store, backend, {}, 'bench', everything=True), max(5, args.repeat // 5))),
            ('raw round trip: d.multicall2 of d.hash over all torrents',
             median_ms(lambda: daemon.rows(['d.hash']), max(5, args.repeat // 5))),
        ]
        raw = rows[0][1]
        print('\n%d torrents, median of %d runs' % (args.torrents, args.repeat))
        print('%-58s %9s %9s' % ('', 'ms', 'x raw'))
        for name, ms in rows:
            print('%-58s %9.2f %9.1f' % (name, ms, ms / raw))
    finally:
        daemon.stop()


if __name__ == '__main__':
    main()
