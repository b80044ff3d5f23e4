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
  - viewers polling: 1, 4, 8, 16 browsers (threads), each with its own session and the
    known-state header live.js sends, polling every --refresh seconds from a random phase
    for --window seconds: p50 / p95 latency, and rTorrent's busy time per second;
  - the same viewers doing what the pages did before issue 15 (every refresh a whole list,
    unshared), for comparison;
  - the FastCGI process's peak memory (VmHWM).
"""
import argparse
import html
import os
import random
import re
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
from model.rtorrent import commands  # noqa: E402
from tests import rig  # noqa: E402
from tests.bench.bench_list import LIST_COLUMNS, daemon_with, peak_memory_kib  # noqa: E402
from tests.bench.timing import best_ms  # noqa: E402

KNOWN = re.compile(r'data-live-known="([^"]*)"')


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
            headers['X-Live-Known'] = known
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


def viewers(site, pid, path, count, seconds, window, idle_rate, live=True):
    """count viewers polling path every `seconds` for `window` seconds: (latencies in s,
    rTorrent busy seconds per second, its idle rate taken off)."""
    known = site.known(path) if live else None
    latencies, lock, stop = [], threading.Lock(), time.monotonic() + window
    rng = random.Random(count)

    def viewer(phase):
        time.sleep(phase)
        while time.monotonic() < stop:
            began = time.monotonic()
            if live:
                site.refresh(path, known)
            else:
                site.get(path)          # before issue 15: every refresh was a whole, unshared list
            took = time.monotonic() - began
            with lock:
                latencies.append(took)
            time.sleep(max(0.0, seconds - took))
    threads = [threading.Thread(target=viewer, args=(rng.uniform(0, seconds),)) for _ in range(count)]
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, max(0.0, (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start) - idle_rate)


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

        socket_path = os.path.join(fcgi_dir, 'torrent.sock')
        cfg = os.path.join(fcgi_dir, 'config.py')
        with open(cfg, 'w') as f:
            f.write('BASE_URL = "/torrent"\nPAGE_SIZE = 50\nREFRESH_SECONDS = %d\n'
                    'targets = {"big": {"url": %r, "timeout": 300}}\n' % (args.refresh, daemon.url))
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
                    latencies, per_second = viewers(site, pid, path, n, args.refresh, args.window, idle_rate, live)
                    label = '%d viewer%s %s every %d s' % (n, '' if n == 1 else 's', what, args.refresh)
                    row(label + ': p50', percentile(latencies, 50) * 1000, 'ms', raw)
                    row(label + ': p95', percentile(latencies, 95) * 1000, 'ms', raw)
                    row(label + ': rTorrent busy', per_second * 1000, 'ms/s', raw)
                    busy[(live, path, n)] = per_second
            one = busy[(True, '/target/big/', 1)]
            for n in (4, 16):
                rows.append(('busy time at %d viewers vs 1 viewer, by name' % n, None, '',
                             '%+.0f %%' % ((busy[(True, '/target/big/', n)] / one - 1) * 100)))
            rows.append(('FastCGI process peak memory (VmHWM), live pages only', memory, 'MB', None))
            rows.append(('… after 8 viewers reloading whole lists as before', peak_memory_kib(app.pid) / 1024, 'MB', None))
        finally:
            lighttpd.stop()
            app.stop()
    finally:
        daemon.stop()

    print('\n%d torrents, rtorrent 0.9.8, lighttpd + flup under spawn-fcgi, REFRESH_SECONDS = %d, '
          '%g s a viewer count\n' % (args.torrents, args.refresh, args.window))
    width = max(len(r[0]) for r in rows)
    print('| %s | %9s | %-5s | %-12s |' % ('what'.ljust(width), 'value', 'unit', 'vs. raw'))
    print('|%s|%s|%s|%s|' % ('-' * (width + 2), '-' * 11, '-' * 7, '-' * 14))
    for what, value, unit, note in rows:
        print('| %s | %9s | %-5s | %-12s |' % (what.ljust(width), '' if value is None else '%.1f' % value, unit, note))


if __name__ == '__main__':
    main()
