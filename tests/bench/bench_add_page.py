#!/usr/bin/env python3
"""The add page's label suggestions at scale: what asking a target's labels costs.

    .venv/bin/python tests/bench/bench_add_page.py [--torrents 10000] [--labels 20] [--repeat 9]

Loads N synthetic torrents (stopped, no data) into a real rtorrent, spread over --labels
labels, then times, best of --repeat, in milliseconds and as a ratio to the raw round trip
measured in the same run:
  - raw: one d.multicall2 of d.hash and d.custom1 for every torrent (the least any label
    list costs over XML-RPC),
  - Adding.labels(): RTorrent.labels(), one d.multicall2 of d.custom1 for every torrent,
  - the list page's own query (its first round trip and a one-row second), which the add
    page asked before Backend.labels, for comparison,
  - GET /target/big/add through the WSGI app (the whole page, with its datalist),
  - GET /target/big/ (the list page's first page), for comparison.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from werkzeug.test import Client  # noqa: E402

from lib import config, xmlrpc  # noqa: E402
from lib.transport import transport_for  # noqa: E402
from model.clients.types import ListQuery  # noqa: E402
from model.clients.rtorrent import RTorrent  # noqa: E402
from lib.pages.adding import Adding  # noqa: E402
from pyrotorrent import make_app  # noqa: E402
from tests import rig  # noqa: E402
from tests.webapp import from_address  # noqa: E402
from tests.bench.timing import best_ms  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--labels', type=int, default=20)
    parser.add_argument('--repeat', type=int, default=9)
    args = parser.parse_args()
    daemon = rig.RTorrentDaemon(timeout=300).start()
    try:
        bodies = rig.synthetic_torrents(args.torrents, seed='bench-add')
        share = -(-len(bodies) // args.labels)
        for i in range(args.labels):
            daemon.load_many(bodies[i * share:(i + 1) * share], label='label %02d' % i)
        transport = transport_for(daemon.url, 300)
        body = xmlrpc.dumps('d.multicall2', ['', 'main', 'd.hash=', 'd.custom1='])
        answer = transport.request(body)
        backend = RTorrent(daemon.url)
        labels = Adding.labels(backend)
        assert len(labels) == args.labels, labels
        web = Client(from_address(make_app(config.from_dict({'targets': {'big': {'url': daemon.url}}, 'BASE_URL': '/'}))))
        page = web.get('/target/big/add')
        assert page.status_code == 200 and page.get_data(as_text=True).count('<option value="label ') == args.labels
        raw = best_ms(lambda: transport.request(body), args.repeat)
        rows = [('raw d.multicall2 of d.hash, d.custom1 (%.2f MB)' % (len(answer) / 1e6), raw),
                ('Adding.labels(): one field a torrent', best_ms(lambda: Adding.labels(backend), args.repeat)),
                ('the list query, one row (what it asked before)',
                 best_ms(lambda: backend.torrent_list(ListQuery(per_page=1)), args.repeat)),
                ('WSGI: GET the add page (with the datalist)', best_ms(lambda: web.get('/target/big/add'), args.repeat)),
                ('WSGI: GET the list page (first page, by name)', best_ms(lambda: web.get('/target/big/'), args.repeat))]
        print('%d torrents, %d labels, rtorrent %s, best of %d' % (args.torrents, args.labels, daemon.version, args.repeat))
        print('  %-52s %9s %9s' % ('', 'ms', 'x raw'))
        for label, ms in rows:
            print('  %-52s %9.1f %8.2fx' % (label, ms, ms / raw))
    finally:
        daemon.stop()


if __name__ == '__main__':
    main()
