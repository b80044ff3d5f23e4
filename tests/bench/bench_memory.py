#!/usr/bin/env python3
"""Peak memory of the FastCGI process under many users loading a big list (issue 21, item 6).

    .venv/bin/python tests/bench/bench_memory.py [--torrents 10000] [--users 20] [--window 60]
                                                 [--root DIR]

A real rtorrent with N torrents (tests/bench/bench_list.py's session folder, kept between
runs), pyroTorrent (the tree at --root, default this one) under spawn-fcgi behind lighttpd
as the setup manual deploys it, and --users threads each loading list pages for --window
seconds: half the list sorted by name, half by size (two different whole lists), each user
starting again as soon as its page came.  Prints one table: the process's resident memory
sampled every 0.2 s (its peak, its median over the last third: flat or growing), VmHWM,
pages served and round trips rTorrent got (counted by a relay, bench_live.CountingRelay).
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests import rig  # noqa: E402
from tests.bench.bench_list import daemon_with, peak_memory_kib  # noqa: E402
from tests.bench.bench_live import CountingRelay  # noqa: E402

PATHS = ('/target/big/?sort=name', '/target/big/?sort=size&order=desc')


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--users', type=int, default=20)
    parser.add_argument('--window', type=float, default=60)
    parser.add_argument('--root', default=ROOT, help='the pyroTorrent tree to serve (e.g. a copy of an older commit)')
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: /tmp/pyrotorrent-bench-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    fcgi_dir = tempfile.mkdtemp(prefix='pyrotorrent-bench-memory-')
    relay = CountingRelay(daemon)
    socket_path = os.path.join(fcgi_dir, 'torrent.sock')
    cfg = os.path.join(fcgi_dir, 'config.py')
    with open(cfg, 'w') as f:
        f.write('BASE_URL = "/torrent"\nPAGE_SIZE = 50\nREFRESH_SECONDS = 0\n'
                'targets = {"big": {"url": %r, "timeout": 300}}\n' % relay.url)
    with open(os.path.join(ROOT, 'docs', 'examples', 'lighttpd-prefix.conf')) as f:
        snippet = f.read().replace('/tmp/torrent.sock-1', socket_path).replace('/home/rtorrent/pyrotorrent', args.root)
    port = rig.free_port()
    lighttpd = rig.Lighttpd(fcgi_dir, 'server.document-root = "%s"\nserver.port = %d\nserver.bind = "127.0.0.1"\n'
                            'server.errorlog = "%s/error.log"\n%s' % (fcgi_dir, port, fcgi_dir, snippet))
    app = rig.spawn_fcgi(socket_path, [sys.executable, os.path.join(args.root, 'pyrotorrent.py')],
                         env=dict(os.environ, PYROTORRENT_CONFIG=cfg), cwd=args.root)
    try:
        lighttpd.start()
        base = 'http://127.0.0.1:%d/torrent' % port
        for path in PATHS:
            urllib.request.urlopen(base + path, timeout=300).read()
        idle = rss_kib(app.pid)
        trips_before, pages, errors, stop = relay.count, [0], [0], time.monotonic() + args.window
        lock, first_error = threading.Lock(), []

        def user(i):
            while time.monotonic() < stop:
                try:
                    urllib.request.urlopen(base + PATHS[i % len(PATHS)], timeout=300).read()
                    with lock:
                        pages[0] += 1
                except OSError as exc:
                    with lock:
                        errors[0] += 1
                        first_error.append(getattr(exc, 'code', None) or str(exc))
        users = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for t in users:
            t.start()
        samples = []
        while any(t.is_alive() for t in users):
            samples.append(rss_kib(app.pid))
            time.sleep(0.2)
        last = samples[len(samples) * 2 // 3:]
        rows = [('resident memory before the users (MB)', idle / 1024),
                ('peak resident memory under them (MB, sampled every 0.2 s)', max(samples) / 1024),
                ('median over the last third of the window (MB)', statistics.median(last) / 1024),
                ('VmHWM, the kernel\'s peak (MB)', peak_memory_kib(app.pid) / 1024),
                ('pages served', pages[0]), ('failed pages' + (' (%s)' % ', '.join(sorted(set(map(str, first_error)))) if first_error else ''), errors[0]),
                ('round trips rTorrent got', relay.count - trips_before)]
        print('%d torrents, %d users loading %s for %g s, tree %s' % (args.torrents, args.users,
                                                                     ' / '.join(PATHS), args.window, args.root))
        for what, value in rows:
            print('| %-62s | %8s |' % (what, ('%.1f' % value) if isinstance(value, float) else value))
    finally:
        app.stop()
        lighttpd.stop()
        relay.close()
        daemon.stop()


if __name__ == '__main__':
    main()
