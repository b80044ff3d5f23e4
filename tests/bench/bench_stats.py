#!/usr/bin/env python3
"""The statistics at scale: the sampler against a real rtorrent holding 10,000 torrents, a
year of simulated history, the year's page, the worker's memory.

    .venv/bin/python tests/bench/bench_stats.py [--torrents 10000] [--repeat 7] [--active 0.1]
        [--workdir DIR] [--bind ADDRESS] [--worker-seconds 60]

Prints a table (medians of --repeat runs, in milliseconds; ratios to the raw 16-field list
round trip measured in the same run):
  - the raw d.multicall2 of the list's 16 fields for every torrent (what bench_list calls raw),
  - Backend.transfer_totals (the steady tick) and with details (names and trackers: when new
    torrents appear, and once an hour), and a whole sampler tick (round trip + diff + write),
  - the share of rtorrent's time a tick takes at STATS_SECONDS = 60,
  - a year of history for the torrents written into a fresh store (each day a fraction
    --active of the torrents moves data during 4 hours; 20 trackers, 50 labels; retention as
    model.stats.KEEP), its size on disk,
  - GET /target/big/stats/ over that store (every range: hour to year): its first request
    (which sums the settled days of the tracker and label tables once a month) and then
    the median and the best of --repeat, and the API's year,
  - the real `pyrotorrent.py worker` process over --worker-seconds at 10,000 torrents
    (statistics every 10 s, a look for events every 15 s): its peak resident memory
    (VmHWM) and its largest resident memory read each second (VmRSS),
  - the machine's load average, at the start and at the end: this machine is shared.
No timed assertions: figures for docs/performance.rst.
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from lib import xmlrpc  # noqa: E402
from lib.store import Store  # noqa: E402
from model.clients.rtorrent import RTorrent, commands, multicall_body  # noqa: E402
from model.stats import DAY, HOUR, KEEP, MINUTE, Policy, Reader, Sampler, bucket_start, month_start, \
    time_zone  # noqa: E402
from tests import rig  # noqa: E402
from tests.bench.bench_list import LIST_COLUMNS  # noqa: E402
from tests.webapp import client  # noqa: E402
from tests.workers import WorkerProcess, write_config  # noqa: E402
from tests.bench.timing import median_ms  # noqa: E402


def daemon_with(n, workdir, bind=None):
    """A running rtorrent (at bind) holding n torrents: from workdir's saved session, or
    bench_list's saved one copied, or loaded now."""
    saved = os.path.join(workdir, 'session')
    have = len([f for f in os.listdir(saved) if f.endswith('.torrent')]) if os.path.isdir(saved) else 0
    theirs = os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-%d' % n, 'session')
    if have != n and os.path.isdir(theirs) and len([f for f in os.listdir(theirs) if f.endswith('.torrent')]) == n:
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(theirs, saved, ignore=shutil.ignore_patterns('rtorrent.lock'))
        have = n
    daemon = rig.RTorrentDaemon(workdir, bind=bind, timeout=300)
    daemon.start(timeout=300)
    if have != n:
        daemon.load_many(rig.synthetic_torrents(n), batch=200)
    daemon.wait(lambda: daemon.call('view.size', '', 'main') == n, 300, 'rtorrent to list %d torrents' % n)
    return daemon


def memory(pid):
    """(VmHWM, VmRSS) of a process, in KiB."""
    with open('/proc/%d/status' % pid) as f:
        fields = dict(line.split(':', 1) for line in f)
    return int(fields['VmHWM'].split()[0]), int(fields['VmRSS'].split()[0])


def simulate_year(path, n, active, zone, seed=1):
    """A store holding what a year of sampling n torrents leaves, after retention."""
    rng = random.Random(seed)
    store = Store.open(path)
    now = time.time()
    trackers = ['tracker%02d.example.org' % i for i in range(20)]
    labels = ['label %02d' % i for i in range(50)]
    series = [(1, 'big', 'target', '')] + [(2 + i, 'big', 'tracker', t) for i, t in enumerate(trackers)]
    series += [(22 + i, 'big', 'label', label) for i, label in enumerate(labels)]
    first_torrent = len(series) + 1
    series += [(first_torrent + i, 'big', 'torrent', '%040X' % i) for i in range(n)]
    store.run([('INSERT INTO stats_series (id, target, kind, key, name, first_at) VALUES (?, ?, ?, ?, ?, ?)',
                [(i, t, k, key, '', now - 365 * DAY) for i, t, k, key in series])])
    group = list(range(1, first_torrent))        # target, trackers, labels
    for day in range(365, -1, -1):
        day_at = bucket_start(now - day * DAY, DAY, zone)
        rows = {}
        for torrent in rng.sample(range(n), int(n * active)):
            sid = first_torrent + torrent
            tracker, label = 2 + torrent % 20, 22 + torrent % 50
            first_hour = rng.randrange(20)
            for h in range(4):
                hour_at = day_at + (first_hour + h) * HOUR
                up, down = rng.randrange(1 << 26), rng.randrange(1 << 27)
                for s in (sid, 1, tracker, label):
                    for resolution, start in ((HOUR, hour_at), (DAY, day_at)):
                        r = rows.setdefault((s, resolution, start), [0, 0])
                        r[0] += up
                        r[1] += down
                    if s != sid and day * DAY < KEEP[MINUTE]:
                        for m in range(60):
                            r = rows.setdefault((s, MINUTE, hour_at + m * MINUTE), [0, 0])
                            r[0] += up // 60
                            r[1] += down // 60
        keep = [(s, res, start, u, d) for (s, res, start), (u, d) in rows.items()
                if KEEP[res] is None or start >= now - KEEP[res]]
        store.run([('INSERT INTO stats_bucket (series, resolution, start, up, down) VALUES (?, ?, ?, ?, ?)', keep)])
    count = store.run([('SELECT COUNT(*) FROM stats_bucket', ())], write=False)[0][0]
    store.run([('INSERT INTO stats_target (target, instance, sampled_at, details_at, pruned_at) VALUES (?, ?, ?, ?, ?)',
                ('big', '1', now, now, now))])
    store._db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    store._db.execute('VACUUM')
    store.close()
    return count, os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torrents', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--active', type=float, default=0.1, help='share of torrents moving data on a day')
    parser.add_argument('--workdir', help='rtorrent folder kept between runs')
    parser.add_argument('--bind', help="rtorrent's own loopback address (default: rig.address())")
    parser.add_argument('--worker-seconds', type=float, default=60, help='how long the worker process runs')
    args = parser.parse_args()
    n = args.torrents
    workdir = args.workdir or os.path.join(tempfile.gettempdir(), 'pyrotorrent-bench-stats-%d' % n)
    os.makedirs(workdir, exist_ok=True)
    scratch = rig.make_workdir('pyrotorrent-bench-stats-')
    daemon = daemon_with(n, workdir, args.bind)
    rows = []
    load_before = os.getloadavg()
    try:
        backend = RTorrent(daemon.url, name='big', timeout=300)
        raw_calls = [commands.TORRENT[f] + '=' for f in LIST_COLUMNS]
        raw = median_ms(lambda: backend.call(backend.view_multicall(), '', 'main', *raw_calls), args.repeat)
        rows.append(('raw d.multicall2, 16 list fields', raw, 1.0))
        cheap = median_ms(lambda: backend.transfer_totals(), args.repeat)
        rows.append(('transfer_totals() (the steady tick)', cheap, cheap / raw))
        full = median_ms(lambda: backend.transfer_totals(details=True), args.repeat)
        rows.append(('transfer_totals(details=True) (new torrents, hourly)', full, full / raw))
        steady_body = multicall_body([(commands.SETTINGS['pid'], []), (backend.view_multicall(), [
            '', 'main', commands.packed(commands.TOTALS_FIELDS)])])
        raw_body = xmlrpc.dumps(backend.view_multicall(), ['', 'main'] + raw_calls)
        cheap_rt = median_ms(lambda: backend.transport.request(steady_body), args.repeat)
        raw_rt = median_ms(lambda: backend.transport.request(raw_body), args.repeat)
        rows.append(('  its round trip alone (rtorrent + socket), steady', cheap_rt, cheap_rt / raw_rt))
        rows.append(('  raw 16-field round trip alone', raw_rt, 1.0))
        store = Store.open(os.path.join(scratch, 'tick.sqlite3'))
        sampler = Sampler(store, Policy(seconds=60, zone=time_zone('UTC')))
        t0 = time.perf_counter()
        sampler.sample(backend, now=time.time())
        first = (time.perf_counter() - t0) * 1000
        rows.append(('first sample (baseline of every torrent, details)', first, first / raw))
        clock = [time.time()]

        def tick():
            clock[0] += 60
            sampler.sample(backend, now=clock[0])
        steady = median_ms(tick, args.repeat)
        rows.append(('a steady sampler tick (round trip + diff + write)', steady, steady / raw))
        rows.append(('  share of rtorrent time at STATS_SECONDS = 60 (%)', cheap_rt / 600, None))

        year_path = os.path.join(scratch, 'year.sqlite3')
        t0 = time.perf_counter()
        count, size = simulate_year(year_path, n, args.active, time_zone('UTC'))
        rows.append(('a year of history: %d buckets, MB on disk (%.0f s to write)'
                     % (count, time.perf_counter() - t0), size / 1e6, None))
        web = client({'big': daemon.url}, STORE=year_path, TIME_ZONE='UTC')
        page = '/target/big/stats/'
        t0 = time.perf_counter()
        assert web.get(page).status_code == 200
        rows.append(('GET /target/big/stats/, its first request (settled days summed)',
                     (time.perf_counter() - t0) * 1000, None))
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            web.get(page)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append(('GET /target/big/stats/ (hour to year, tables), median', statistics.median(times), None))
        rows.append(('GET /target/big/stats/ (hour to year, tables), best', min(times), None))
        fresh, month = Reader(Store.open(year_path), time_zone('UTC')), month_start(time.time(), time_zone('UTC'))
        t0 = time.perf_counter()
        for kind in ('tracker', 'label'):
            fresh.by_key_since(['big'], kind, month)
        rows.append(("  the tables' settled days, summed (a fresh Reader; once a month)",
                     (time.perf_counter() - t0) * 1000, None))
        api = '/api/target/big/stats?range=year&by=label'
        assert web.get(api).status_code == 200
        rows.append(('GET /api/target/big/stats?range=year&by=label', median_ms(lambda: web.get(api), args.repeat), None))

        cfg = write_config(os.path.join(scratch, 'config.py'), targets={'big': {'url': daemon.url, 'timeout': 300}},
                           STORE=os.path.join(scratch, 'worker.sqlite3'), WORKER_TICK_SECONDS=1, STATS_SECONDS=10)
        worker = WorkerProcess(cfg, os.path.join(scratch, 'worker.log'))
        try:
            worker.wait_log('statistics begin', 120)
            largest, began = 0, time.monotonic()
            while time.monotonic() - began < args.worker_seconds:
                time.sleep(1)
                peak, resident = memory(worker.pid)
                largest = max(largest, resident)
        finally:
            worker.stop()
        samples = 1 + int(args.worker_seconds // 10)
        rows.append(('worker process peak memory (VmHWM, MB), %d samples of %d' % (samples, n), peak / 1024, None))
        rows.append(('  its largest resident memory read each second (VmRSS, MB)', largest / 1024, None))
    finally:
        daemon.stop()
    print('\nload average (1, 5, 15 min): %.2f %.2f %.2f before, %.2f %.2f %.2f after'
          % (load_before + os.getloadavg()))
    print('%-66s %10s %8s' % ('statistics, %d torrents' % n, 'ms / MB', 'ratio'))
    for what, value, ratio in rows:
        print('%-66s %10.1f %8s' % (what, value, '' if ratio is None else '%.2f×' % ratio))


if __name__ == '__main__':
    main()
