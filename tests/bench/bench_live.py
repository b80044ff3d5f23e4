#!/usr/bin/env python3
"""Live pages at scale: what refreshes cost rTorrent, with many viewers, behind lighttpd.

    .venv/bin/python tests/bench/bench_live.py [--torrents 10000] [--window 60] [--refresh 2]

A real rtorrent with N torrents (the session folder of tests/bench/bench_list.py, kept
between runs), pyroTorrent under spawn-fcgi (flup FastCGI) behind lighttpd as the setup
manual deploys it, REFRESH_SECONDS = --refresh.  Prints one table, every figure also as a
ratio to the raw d.multicall2 round trip of the 16 list fields measured in the same run
(its best of --repeat):

  - rTorrent's time per refresh: CPU time of the rtorrent process (all threads, from
    /proc/PID/task/*/schedstat: utime + stime in ns), the best and the median of refreshes
    spaced beyond the sharing window, its idle rate (measured once it settled) taken off; for the lists,
    also with the whole list that comes every 30 s spread over its refreshes;
  - what a by-name refresh asks, through the model: torrent_rows of the page's 50 rows,
    each looked up by hash (rows moving data), and kept idle (lib.idle_rows: stopped rows
    seen idle twice; the 'started' and 'hashing' views are asked instead);
  - viewers polling: 1, 4, 8, 16 browsers (threads), each with its own session and the
    known-state header live.js sends, polling every --refresh seconds from a random phase
    for --window seconds: p50 / p95 latency, rTorrent's busy time per second (its idle
    rate measured just before each window taken off; by name also with the whole list
    that comes once every 30 s evened out to window / 30 of them at its measured cost),
    and the round trips pyroTorrent sent it, counted by a relay in front of its SCGI
    socket (CountingRelay);
  - the same viewers doing what the pages did before issue 15 (every refresh a whole list,
    unshared), for comparison;
  - the FastCGI process's peak memory (VmHWM).
"""
import argparse
import html
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from lib import xmlrpc  # noqa: E402
from lib.transport import transport_for  # noqa: E402
from model.clients.types import ListQuery  # noqa: E402
from model.clients.rtorrent import RTorrent, commands  # noqa: E402
from tests import rig  # noqa: E402
from tests.bench.bench_list import LIST_COLUMNS, daemon_with, peak_memory_kib  # noqa: E402
from tests.bench.timing import best_ms  # noqa: E402

KNOWN = re.compile(r'data-live-showing="([^"]*)"')


def cpu_seconds(pid):
    """CPU time of a process, all its threads, in seconds: the first field of each
    /proc/PID/task/TID/schedstat (nanoseconds; utime + stime of /proc/PID/stat counts in
    10 ms ticks, too coarse for one refresh)."""
    total = 0
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass        # a thread that just ended
    return total / 1e9


def settle(pid, limit=0.02, timeout=300):
    """Waits until rtorrent uses under `limit` of a core over 3 s (after a restart it
    rewrites its session a while); returns its idle rate over 10 s then, in CPU s/s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = cpu_seconds(pid)
        time.sleep(3)
        if (cpu_seconds(pid) - start) / 3 < limit:
            break
    start, began = cpu_seconds(pid), time.monotonic()
    time.sleep(10)
    return (cpu_seconds(pid) - start) / (time.monotonic() - began)


def _unix(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(300)
    sock.connect(path)
    return sock


class CountingRelay:
    """A TCP relay in front of rtorrent's SCGI port that counts connections: pyroTorrent
    opens one a round trip, so these are the times it asked rTorrent (exact, where
    rTorrent's CPU time per second carries the noise of its own idle work)."""

    def __init__(self, daemon):
        if daemon.scgi == 'unix':
            self.connect = lambda: _unix(daemon.socket_path)
        else:
            self.connect = lambda: socket.create_connection(('127.0.0.1', daemon.scgi_port), timeout=300)
        self.count, self.lock = 0, threading.Lock()
        self.on_connect = None          # tests: called with the count before each is relayed
        self.server = socket.create_server(('127.0.0.1', 0), backlog=128)
        self.url = 'scgi://127.0.0.1:%d' % self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
                count = self.count
            if self.on_connect is not None:
                self.on_connect(count)
            try:
                upstream = self.connect()
            except OSError:             # rtorrent not answering: this request fails, not the relay
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.server.close()


class Site:
    def __init__(self, base):
        self.base = base

    def get(self, path, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=300) as r:
            return r.read().decode('utf-8')

    def known(self, path):
        page = self.get(path)
        return ' '.join(html.unescape(k) for k in KNOWN.findall(page) if k)

    def refresh(self, path, known):
        headers = {'X-Requested-With': 'refresh'}
        if known:
            headers['X-Live-Showing'] = known
        return self.get(path, headers)


def rtorrent_time_per(pid, action, count, spacing, idle_rate):
    """rTorrent's CPU seconds per action(), the actions `spacing` seconds apart."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    for _ in range(count):
        action()
        time.sleep(spacing)
    busy = cpu_seconds(pid) - start_cpu - idle_rate * (time.monotonic() - start)
    return max(0.0, busy) / count


def rtorrent_times(pid, action, count, spacing, idle_rate):
    """rTorrent's CPU seconds of each action(), the actions `spacing` seconds apart, its idle
    rate over each action's own duration taken off."""
    times = []
    for _ in range(count):
        start_cpu, start = cpu_seconds(pid), time.monotonic()
        action()
        times.append(max(0.0, cpu_seconds(pid) - start_cpu - idle_rate * (time.monotonic() - start)))
        time.sleep(spacing)
    return times


def viewers(site, pid, path, count, seconds, window, idle_rate, live=True, relay=None):
    """count viewers polling path every `seconds` for `window` seconds: (latencies in s,
    rTorrent busy seconds per second, its idle rate taken off, how many whole lists were
    fetched: answers without data-live-keep, one fetch shared by those within a refresh,
    round trips to rTorrent per second through the relay)."""
    known = site.known(path) if live else None
    latencies, wholes, lock, stop = [], [], threading.Lock(), time.monotonic() + window
    rng = random.Random(count)

    def viewer(phase):
        time.sleep(phase)
        while time.monotonic() < stop:
            began = time.monotonic()
            if live:
                whole = 'data-live-keep' not in site.refresh(path, known)
            else:
                whole = bool(site.get(path))      # before issue 15: every refresh a whole, unshared list
            took = time.monotonic() - began
            with lock:
                latencies.append(took)
                if whole:
                    wholes.append(began)
            time.sleep(max(0.0, seconds - took))
    threads = [threading.Thread(target=viewer, args=(rng.uniform(0, seconds),)) for _ in range(count)]
    asked, start_cpu, start = relay.count, cpu_seconds(pid), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    wholes.sort()
    fetched = sum(1 for i, t in enumerate(wholes) if i == 0 or t - wholes[i - 1] > 0.9 * seconds)
    return (latencies, max(0.0, (cpu_seconds(pid) - start_cpu) / took - idle_rate),
            fetched if live else len(wholes), (relay.count - asked) / took)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--window', type=float, default=60.0, help='seconds each viewer count polls')
    parser.add_argument('--refresh', type=int, default=2, help='REFRESH_SECONDS of the served pyroTorrent')
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--workdir', help='rtorrent folder kept between runs (default: /tmp/pyrotorrent-bench-N)')
    args = parser.parse_args()
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % args.torrents)
    os.makedirs(workdir, exist_ok=True)
    daemon = daemon_with(args.torrents, workdir)
    pid = daemon.pid
    rows = []

    def row(what, value, unit, raw=None):
        note = '' if raw is None else ('%.3f raw/s' if unit == 'ms/s' else '%.3f× raw') % (value / raw)
        rows.append((what, value, unit, note))

    fcgi_dir = tempfile.mkdtemp(prefix='pyrotorrent-bench-live-')
    try:
        transport = transport_for(daemon.url, 300)
        body = xmlrpc.dumps('d.multicall2', ['', 'main'] + [commands.TORRENT[f] + '=' for f in LIST_COLUMNS])
        transport.request(body)
        raw = best_ms(lambda: transport.request(body), args.repeat)
        idle_rate = settle(pid)
        raw_cpu = rtorrent_time_per(pid, lambda: transport.request(body), args.repeat, 0.2, idle_rate) * 1000
        row('raw d.multicall2 round trip, %d fields (wall time, best of %d)' % (len(LIST_COLUMNS), args.repeat),
            raw, 'ms', raw)
        row('… rTorrent CPU time of that round trip', raw_cpu, 'ms', raw)
        row('rTorrent idle CPU (10,000 stopped torrents; taken off below)', idle_rate * 1000, 'ms/s')
        # What a by-name refresh asks, through the model: the page's 50 rows looked up by hash
        # (rows moving data; a row's first looks) or kept idle (stopped at two looks: lib.idle_rows)
        backend = RTorrent(daemon.url, timeout=300)
        listing = backend.torrent_list(ListQuery(per_page=50))
        page, views = [t.hash for t in listing.torrents], listing.header.views
        for what, idle in (('each looked up by hash', ()), ('kept idle: the started and hashing views instead', page)):
            times = rtorrent_times(pid, lambda: backend.torrent_rows(page, views, idle), args.repeat, 0.2, idle_rate)
            row('torrent_rows of the 50 rows by name, %s, best of %d' % (what, args.repeat), min(times) * 1000, 'ms', raw)
            row('… median', statistics.median(times) * 1000, 'ms', raw)

        relay = CountingRelay(daemon)     # pyroTorrent asks through it
        socket_path = os.path.join(fcgi_dir, 'torrent.sock')
        cfg = os.path.join(fcgi_dir, 'config.py')
        with open(cfg, 'w') as f:
            f.write('BASE_URL = "/torrent"\nPAGE_SIZE = 50\nREFRESH_SECONDS = %d\n'
                    'targets = {"big": {"url": %r, "timeout": 300}}\n' % (args.refresh, relay.url))
        with open(os.path.join(ROOT, 'docs', 'examples', 'lighttpd-prefix.conf')) as f:
            snippet = f.read().replace('/tmp/torrent.sock-1', socket_path).replace('/home/rtorrent/pyrotorrent', ROOT)
        port = rig.free_port()
        lighttpd = rig.Lighttpd(fcgi_dir, 'server.document-root = "%s"\nserver.port = %d\nserver.bind = "127.0.0.1"\n'
                                'server.errorlog = "%s/error.log"\n%s' % (fcgi_dir, port, fcgi_dir, snippet))
        app = rig.spawn_fcgi(socket_path, [sys.executable, os.path.join(ROOT, 'pyrotorrent.py')],
                             env=dict(os.environ, PYROTORRENT_CONFIG=cfg))
        try:
            lighttpd.start()
            site = Site('http://127.0.0.1:%d/torrent' % port)
            site.get('/target/big/')
            spacing = args.refresh + 0.2          # beyond the sharing window: each one asks rtorrent
            whole = {}
            for what, path in (('page load, by name', '/target/big/'),
                               ('page load, newest first', '/target/big/?sort=added&order=desc')):
                ms = rtorrent_time_per(pid, lambda: site.get(path), args.repeat, 0.2, idle_rate) * 1000
                row('rTorrent time per %s' % what, ms, 'ms', raw)
                whole[path] = ms                # what the whole list of a refresh costs too
            # Each refresh alone: a series may hold the whole list that comes every
            # LIVE_FULL_SECONDS (30 s), which the "… with" rows add to the best, spread over 30 s.
            per_full = 30.0 / args.refresh
            for what, path in (('refresh, by name (torrent_rows)', '/target/big/'),
                               ('refresh, newest first (one pass, no lookups)', '/target/big/?sort=added&order=desc'),
                               ('refresh, by ↓ rate (whole list)', '/target/big/?sort=down&order=desc'),
                               ('refresh of the front page', '/'),
                               ('refresh of a torrent page', None)):
                if path is None:
                    first = re.search(r'data-hash="([0-9A-F]{40})"', site.get('/target/big/')).group(1)
                    path = '/target/big/torrent/%s/' % first
                known = site.known(path)
                times = rtorrent_times(pid, lambda: site.refresh(path, known), args.repeat, spacing, idle_rate)
                ms = min(times) * 1000
                row('rTorrent time per %s, best of %d' % (what, args.repeat), ms, 'ms', raw)
                row('… median', statistics.median(times) * 1000, 'ms', raw)
                if path in whole:
                    row('… with the whole list every 30 s, per refresh every %d s' % args.refresh,
                        ms + whole[path] / per_full, 'ms', raw)

            busy, memory = {}, None
            for live, path, counts, what in ((True, '/target/big/', (1, 4, 8, 16), 'polling, by name'),
                                             (True, '/target/big/?sort=down&order=desc', (1, 8), 'polling, by ↓ rate'),
                                             (False, '/target/big/', (1, 8), 'reloading the list, as before issue 15')):
                if not live and memory is None:        # the old way's peak apart
                    memory = peak_memory_kib(app.pid) / 1024
                for n in counts:
                    # rTorrent's own idle work (10,000 torrents) moves by a few ms/s from minute to
                    # minute: measured again just before each window, and that is taken off
                    idle_now = settle(pid)
                    latencies, per_second, fetched, trips = viewers(site, pid, path, n, args.refresh,
                                                                    args.window, idle_now, live, relay)
                    label = '%d viewer%s %s every %d s' % (n, '' if n == 1 else 's', what, args.refresh)
                    row(label + ': p50', percentile(latencies, 50) * 1000, 'ms', raw)
                    row(label + ': p95', percentile(latencies, 95) * 1000, 'ms', raw)
                    row(label + ': rTorrent busy', per_second * 1000, 'ms/s', raw)
                    row('… its idle CPU just before, taken off', idle_now * 1000, 'ms/s')
                    rows.append(('… round trips to rTorrent a second', trips, '/s', None))
                    busy[(live, path, n)] = per_second
                    busy[('trips' if live else 'trips before', path, n)] = trips
                    if live and path in whole:
                        # The whole list comes once every 30 s: by phase alone a window holds one
                        # more or one fewer than window / 30; evened out at its own measured cost
                        even = per_second - (fetched - args.window / 30.0) * whole[path] / 1000 / args.window
                        rows.append(('… whole lists fetched in the window', fetched, '', None))
                        row('… busy with the whole lists evened out to one per 30 s', even * 1000, 'ms/s', raw)
                        busy[('even', path, n)] = even
            for kind, what in ((True, 'busy time'), ('even', 'busy time, the whole lists evened out,'),
                               ('trips', 'round trips to rTorrent')):
                one = busy[(kind, '/target/big/', 1)]
                for n in (4, 16):
                    rows.append(('%s at %d viewers vs 1 viewer, by name' % (what, n), None, '',
                                 '%+.0f %%' % ((busy[(kind, '/target/big/', n)] / one - 1) * 100)))
            rows.append(('FastCGI process peak memory (VmHWM), live pages only', memory, 'MB', None))
            rows.append(('… after 8 viewers reloading whole lists as before', peak_memory_kib(app.pid) / 1024, 'MB', None))
        finally:
            lighttpd.stop()
            app.stop()
            relay.close()
    finally:
        daemon.stop()

    print('\n%d torrents, rtorrent 0.9.8, lighttpd + flup under spawn-fcgi, REFRESH_SECONDS = %d, '
          '%g s a viewer count\n' % (args.torrents, args.refresh, args.window))
    width = max(len(r[0]) for r in rows)
    print('| %s | %9s | %-5s | %-12s |' % ('what'.ljust(width), 'value', 'unit', 'vs. raw'))
    print('|%s|%s|%s|%s|' % ('-' * (width + 2), '-' * 11, '-' * 7, '-' * 14))
    for what, value, unit, note in rows:
        print('| %s | %9s | %-5s | %-12s |' % (what.ljust(width), '' if value is None else '%.1f' % value if value >= 10 or unit != '/s' else '%.2f' % value, unit, note or ''))


if __name__ == '__main__':
    main()
