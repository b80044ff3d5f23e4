#!/usr/bin/env python3
"""The torrent list at scale on Transmission: a real transmission-daemon 3.00 with 10,000
torrents, pyroTorrent's page, and what else could have asked it.

    .venv/bin/python tests/bench/bench_transmission.py [--torrents 10000] [--repeat 5]

The N synthetic .torrent files (tests/rig.py's synthetic_torrents, no data) are written
into the daemon's config folder (config/torrents/) before it starts: Transmission 3.00
loads every one of them at start-up, far faster than N torrent-add calls.  The folder is
kept ($PYROTORRENT_BENCH_DIR, else the temp folder) so the next run only restarts it.

It prints, in milliseconds (the best and the median of --repeat rounds, every case once a
round, interleaved):
  - a raw torrent-get of every torrent with the fields pyroTorrent's list shows (ROW_FIELDS,
    format "table" and objects): what a page would cost if it fetched every row;
  - what Transmission's own web UI asks for its list (3.00, web/javascript: id plus
    Torrent.Fields.Metadata and .Stats, 28 fields, objects), and its refresh
    (ids "recently-active", the Stats fields);
  - pyroTorrent's model call and its whole list page through the WSGI app (4 calls: two
    for the header, the keys of every torrent, the rows of one page), as a ratio to the
    raw torrent-get of the same fields;
  - the transmission-rpc library (PyPI), if installed: Client() (it asks the daemon in
    its constructor), get_torrents() with every field, and with the list's fields.
Ratios, not timed assertions.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from werkzeug.test import Client  # noqa: E402

from lib import bencode, config  # noqa: E402
from model.clients.types import ListQuery  # noqa: E402
from model.clients.transmission import Transmission  # noqa: E402
from model.clients.transmission.rows import ROW_FIELDS  # noqa: E402
from pyrotorrent import make_app  # noqa: E402
from tests import rig  # noqa: E402
from tests.webapp import from_address  # noqa: E402

WEB_UI_METADATA = ['addedDate', 'name', 'totalSize']
WEB_UI_STATS = ['error', 'errorString', 'eta', 'isFinished', 'isStalled', 'leftUntilDone',
                'metadataPercentComplete', 'peersConnected', 'peersGettingFromUs', 'peersSendingToUs',
                'percentDone', 'queuePosition', 'rateDownload', 'rateUpload', 'recheckProgress',
                'seedRatioMode', 'seedRatioLimit', 'sizeWhenDone', 'status', 'trackers', 'downloadDir',
                'uploadedEver', 'uploadRatio', 'webseedsSendingToUs']
SIX = ['id', 'name', 'status', 'percentDone', 'rateDownload', 'rateUpload']


def timed(cases, repeat):
    """{title: [ms, ...]}: every case once a round, round after round, so a busy machine
    (2 cores shared) slows them alike; the table shows the best and the median."""
    times = {title: [] for title, _, _ in cases}
    for _ in range(repeat):
        for title, fn, _ in cases:
            start = time.perf_counter()
            fn()
            times[title].append((time.perf_counter() - start) * 1000)
    return times


def daemon_with(n):
    base = os.environ.get('PYROTORRENT_BENCH_DIR') or tempfile.gettempdir()
    workdir = os.path.join(base, 'pyrotorrent-bench-transmission-%d' % n)
    torrents = os.path.join(workdir, 'config', 'torrents')
    bind = rig.address()
    daemon = rig.TransmissionDaemon(workdir, bind=bind, rpc_port=rig.free_port(bind),
                                    settings={'start-added-torrents': False})
    fresh = not os.path.isdir(torrents) or len(os.listdir(torrents)) < n
    if fresh:
        os.makedirs(torrents, exist_ok=True)
        t0 = time.monotonic()
        for body in rig.synthetic_torrents(n, seed=14):
            with open(os.path.join(torrents, bencode.info_hash(body).lower()[:16] + '.torrent'), 'wb') as f:
                f.write(body)
        print('wrote %d .torrent files in %.1f s' % (n, time.monotonic() - t0))
    t0 = time.monotonic()
    daemon.start(timeout=600)
    daemon.wait(lambda: daemon.call('session-stats')['torrentCount'] >= n, 600, 'it to load %d torrents' % n)
    print('transmission-daemon %s answered with %d torrents after %.1f s (%s)'
          % (daemon.version, n, time.monotonic() - t0, 'first start' if fresh else 'restart on a kept folder'))
    return daemon


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    daemon = daemon_with(args.torrents)
    try:
        run(daemon, args)
    finally:
        daemon.stop()


def run(daemon, args):
    backend = Transmission(daemon.url, name='big')
    app = from_address(make_app(config.from_dict({
        'targets': {'big': {'url': daemon.url, 'client': 'transmission'}}, 'REFRESH_SECONDS': 0, 'BASE_URL': ''})))
    web = Client(app)
    def raw(fields, **more):
        return lambda: backend.call('torrent-get', fields=fields, **more)
    size = lambda fields, **more: len(backend.transport.request(  # noqa: E731
        __import__('simplejson').dumps({'method': 'torrent-get', 'arguments': dict(more, fields=fields)}).encode()))

    def page(path):
        assert web.get(path).status_code == 200, path
        return lambda: web.get(path).get_data()
    from model.clients.transmission.rows import KEY_FIELDS
    ui = ['id'] + WEB_UI_METADATA + WEB_UI_STATS
    cases = [
        ("raw torrent-get, the list's %d fields, table" % len(ROW_FIELDS), raw(ROW_FIELDS, format='table'),
         size(ROW_FIELDS, format='table')),
        ("raw torrent-get, the list's fields, objects", raw(ROW_FIELDS), size(ROW_FIELDS)),
        ("Transmission's web UI, its list (%d fields, objects)" % len(ui), raw(ui), size(ui)),
        ("Transmission's web UI, its refresh (recently-active)", raw(['id'] + WEB_UI_STATS, ids='recently-active'),
         size(['id'] + WEB_UI_STATS, ids='recently-active')),
        ('raw torrent-get, 6 fields, objects', raw(SIX), size(SIX)),
        ("raw torrent-get, the list's keys (%d fields), table" % len(KEY_FIELDS), raw(KEY_FIELDS, format='table'),
         size(KEY_FIELDS, format='table')),
        ('pyroTorrent model: torrent_list(), by name', lambda: backend.torrent_list(ListQuery()), None),
        ('pyroTorrent list page, by name', page('/target/big/'), None),
        ('pyroTorrent list page, by size, largest first', page('/target/big/?sort=size&order=desc'), None),
        ('pyroTorrent list page, filter "jazz", by ETA', page('/target/big/?q=jazz&sort=eta'), None),
        ('pyroTorrent list page, view "stopped", by ratio', page('/target/big/view/stopped/?sort=ratio'), None),
        ('pyroTorrent JSON API, by name', page('/api/target/big/torrents'), None),
    ]
    try:
        import transmission_rpc
    except ImportError:
        transmission_rpc = None
    if transmission_rpc is not None:
        kwargs = dict(host=daemon.bind, port=daemon.rpc_port, path='/transmission/rpc', timeout=120)
        client = transmission_rpc.Client(**kwargs)
        cases += [
            ('transmission-rpc: Client() (asks in its constructor)', lambda: transmission_rpc.Client(**kwargs), None),
            ('transmission-rpc: get_torrents(), every field', lambda: client.get_torrents(), None),
            ("transmission-rpc: get_torrents(), the list's fields",
             lambda: client.get_torrents(arguments=ROW_FIELDS), None),
            ('transmission-rpc: get_torrents(), 6 fields', lambda: client.get_torrents(arguments=SIX), None),
        ]
    times = timed(cases, args.repeat)
    base = min(times[cases[0][0]])
    base_median = statistics.median(times[cases[0][0]])
    rows = [(title, min(times[title]), statistics.median(times[title]), answer) for title, _, answer in cases]
    print('\n%d torrents in Transmission; %d rounds' % (args.torrents, args.repeat))
    print('%-56s %9s %7s %9s %7s %12s' % ('', 'best ms', 'ratio', 'median', 'ratio', 'answer bytes'))
    for title, best, median, answer in rows:
        print('%-56s %9.1f %6.2fx %9.1f %6.2fx %12s' % (title, best, best / base, median, median / base_median,
                                                       '{:,}'.format(answer) if answer else ''))
    print('ratio: to the raw torrent-get of the list\'s fields (table) for every torrent')


if __name__ == '__main__':
    main()
