"""The demo: a real swarm on loopback that keeps moving, and pyroTorrent serving it.

    sh tests/demo.sh [--port 8080] [--host 127.0.0.1] [--torrents 200] [--workdir DIR] ...

What runs, all on loopback, all ended by Ctrl-C:

    opentracker            the swarm's tracker
    rtorrent "seeder"      seeds a few real torrents, a new "Demo broadcast" each round, and a
                           few hundred synthetic stopped ones (sorting, filtering, pages)
    rtorrent "leecher"     downloads each broadcast from the seeder, held to --rate KiB/s by
                           rtorrent's own download limit, so a transfer lasts about a minute
    pyrotorrent.py worker  settings, statistics (sampled every 10 s), events, the example
                           schedule and the example rule
    pyrotorrent.py --http  the web UI on http://HOST:PORT/
    this process           the traffic: the next broadcast as soon as the last one finished;
                           one torrent that stalls (the tracker knows no seeder of it) and one
                           the tracker refuses (a tracker error); broadcasts older than the last
                           --keep erased with their data through pyroTorrent's own erase, which
                           deletes only inside the demo's folders

The example rule (leecher): each torrent that finishes downloading is labelled "done".
The example schedule (seeder): one profile all week, "demo cap", an upload limit of 1 MiB/s,
above what the leecher takes: it shows a schedule acting and slows nothing.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import requests

from lib import bencode, xmlrpc
from lib import config as configuration
from model.clients import backend_for
from tests import rig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULE = {'name': 'label finished downloads', 'match': {'all': True}, 'when': {'event': 'finished'},
        'do': {'label': 'done'}}
SCHEDULE = {'enabled': True, 'cell_minutes': 60, 'default': 'demo cap', 'windows': [],
            'profiles': {'normal': {'kind': 'own'}, 'demo cap': {'kind': 'limited', 'up_limit': '1 MiB/s'}}}
# seconds: statistics every 10 s so the graphs fill within two minutes; a stall is seen after a minute
CONFIG = '''BASE_URL = ""
STATIC_URL = "/static"
REFRESH_SECONDS = 3
WORKER_TICK_SECONDS = 2
STATS_SECONDS = 10
EVENTS_SECONDS = 5
STALLED_SECONDS = 60
targets = {"seeder": {"url": %r, "add_directories": [%r], "download_roots": [%r]},
           "leecher": {"url": %r, "download_roots": [%r]}}
'''


def arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog='sh tests/demo.sh', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='pyroTorrent on real rtorrent daemons, with traffic that keeps going.',
        epilog=__doc__.split('\n', 3)[3])
    parser.add_argument('--port', type=int, default=8080, help='the web UI\'s port (8080)')
    parser.add_argument('--host', default='127.0.0.1', help='the web UI\'s loopback address (127.0.0.1)')
    parser.add_argument('--torrents', type=int, default=200, help='synthetic stopped torrents on the seeder (200)')
    parser.add_argument('--workdir', help='the demo\'s folder, kept afterwards (default: a new one, removed at the end)')
    parser.add_argument('--seeder-address', default='127.0.0.2', help='the seeder\'s loopback address (127.0.0.2)')
    parser.add_argument('--leecher-address', default='127.0.0.3', help='the leecher\'s loopback address (127.0.0.3)')
    parser.add_argument('--tracker-address', default='127.0.0.1', help='the tracker\'s loopback address (127.0.0.1)')
    parser.add_argument('--rate', type=int, default=256, help='the leecher\'s download limit in KiB/s (256)')
    parser.add_argument('--size', type=int, default=16, help='MiB in each broadcast (16: about a minute at 256 KiB/s)')
    parser.add_argument('--keep', type=int, default=3, help='broadcasts kept; older ones are erased with their data (3)')
    args = parser.parse_args(argv)
    for name in ('host', 'seeder_address', 'leecher_address', 'tracker_address'):
        if not getattr(args, name).startswith('127.'):
            parser.error('--%s must be a loopback address (127.x.x.x): the demo stays on this machine, not %s'
                         % (name.replace('_', '-'), getattr(args, name)))
    if args.rate < 1 or args.size < 1 or args.keep < 1:
        parser.error('--rate, --size and --keep must be 1 or more')
    return args


def metainfo(name, size, announce_url):
    """A .torrent of data nobody has: no payload on disk, nothing to check."""
    piece = 1 << 18
    info = {'length': size, 'name': name, 'piece length': piece, 'pieces': os.urandom(20 * -(-size // piece))}
    return bencode.encode({'announce': announce_url, 'info': info})


class Traffic:
    """One broadcast after another from the seeder to the leecher; the oldest erased."""

    def __init__(self, swarm, backends, fresh_dir, size, keep, rate_kib):
        self.swarm, self.backends, self.fresh_dir = swarm, backends, fresh_dir
        self.size, self.keep = size, keep
        self.patience = max(300.0, 4.0 * size / (rate_kib << 10))    # seconds a round may take
        self.started_at = 0.0
        self.rounds = []               # info hashes of the broadcasts, oldest first
        self.number = 0

    def oddities(self):
        """One torrent that stalls (whitelisted, nobody seeds it), one the tracker refuses."""
        tracker, leecher = self.swarm.tracker, self.swarm.leecher
        stalled = metainfo('Demo stalled (nobody seeds it).iso', 64 << 20, tracker.announce_url)
        tracker.allow([bencode.info_hash(stalled)])
        leecher.load(stalled, directory=leecher.download_dir, label='Demo')
        refused = metainfo('Demo refused by the tracker.iso', 64 << 20, tracker.announce_url)
        leecher.load(refused, directory=leecher.download_dir, label='Demo')

    def next_round(self):
        self.number += 1
        name = 'Demo broadcast %04d.mkv' % self.number
        path = rig.make_payload(self.fresh_dir, name, self.size)
        torrent_path = os.path.join(self.swarm.workdir, 'broadcast.torrent')
        data = rig.make_torrent(path, self.swarm.tracker.announce_url, torrent_path, piece_size_exp=18)
        os.unlink(torrent_path)
        self.rounds.append(bencode.info_hash(data))       # first: erased in its turn even if a step below fails
        self.swarm.seeder.seed(data, self.fresh_dir, self.swarm.tracker, label='Demo')
        self.swarm.leecher.load(data, directory=self.swarm.leecher.download_dir, label='Demo')
        print('demo: %s from the seeder to the leecher' % name, flush=True)

    def step(self):
        """Called every second: the next round once the last one finished (or went, or was
        stopped by a visitor for longer than a round should take); the oldest erased."""
        if self.rounds and time.monotonic() < self.started_at + self.patience:
            try:
                if self.swarm.leecher.call('d.complete', self.rounds[-1]) != 1:
                    return
            except xmlrpc.Fault:        # a visitor removed it: go on with the next one
                pass
        self.next_round()
        self.started_at = time.monotonic()
        while len(self.rounds) > self.keep:
            old = self.rounds.pop(0)
            for name in ('leecher', 'seeder'):
                for result in self.backends[name].erase([old], delete_data=True):
                    if not result.ok:
                        print('demo: could not erase %s on the %s: %s' % (old, name, result.reason), flush=True)


def post_examples(base_url):
    """The example rule and schedule, through pyroTorrent's own API (as a visitor would)."""
    web = requests.Session()
    try:
        token = web.get(base_url + '/api/session', timeout=10).json()['csrf_token']
        answers = [(path, web.post(base_url + path, json=body, headers={'X-CSRF-Token': token}, timeout=10))
                   for path, body in (('/api/target/leecher/rules', {'rules': [RULE]}),
                                      ('/api/target/seeder/schedule', SCHEDULE))]
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise rig.RigError('pyroTorrent at %s did not take the example rule and schedule: %s' % (base_url, exc)) from None
    for path, answer in answers:
        if answer.status_code != 200:
            raise rig.RigError('pyroTorrent refused the example at %s: %s' % (path, answer.text[:300]))


def start_python(argv):
    """A pyroTorrent process: it gets Ctrl-C with us, and SIGTERM should we die first."""
    return subprocess.Popen([sys.executable, os.path.join(ROOT, 'pyrotorrent.py')] + argv,
                            preexec_fn=rig._die_with_parent)


def main(argv=None):
    args = arguments(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)     # Ctrl-C stops us even if started with it ignored
    began = time.monotonic()
    workdir = os.path.abspath(args.workdir) if args.workdir else rig.make_workdir('pyrotorrent-demo-')
    os.makedirs(workdir, exist_ok=True)
    fresh_dir = os.path.join(workdir, 'broadcasts')
    os.makedirs(fresh_dir, exist_ok=True)
    swarm, processes = None, []
    try:
        print('Starting a tracker and two rtorrent daemons with real torrents...', flush=True)
        swarm = rig.Swarm(os.path.join(workdir, 'swarm'), seeder_bind=args.seeder_address,
                          leecher_bind=args.leecher_address, tracker_host=args.tracker_address).start()
        labels = ['Linux ISOs', 'Music', 'Films', '']
        for i, label in enumerate(labels):
            chunk = rig.synthetic_torrents(args.torrents // len(labels), start=i * args.torrents, seed='demo')
            if chunk:
                swarm.seeder.load_many(chunk, label=label or None)
        # rtorrent's own limit (a setting of the daemon, not pyroTorrent's): each broadcast lasts
        swarm.leecher.call('throttle.global_down.max_rate.set_kb', '', args.rate)

        config_path = os.path.join(workdir, 'config.py')
        with open(config_path, 'w') as f:
            f.write(CONFIG % (swarm.seeder.url, swarm.data_dir, fresh_dir, swarm.leecher.url,
                              swarm.leecher.download_dir))
        base_url = 'http://%s:%d' % (args.host, args.port)
        processes.append(start_python(['worker', '--config', config_path]))
        processes.append(start_python(['--config', config_path, '--http', '%s:%d' % (args.host, args.port)]))

        def alive():
            for p in processes:
                if p.poll() is not None:
                    raise rig.RigError('%s exited with code %s' % (' '.join(p.args[1:3]), p.returncode))
        rig.wait_for(lambda: rig.port_accepts(args.host, args.port), 30, 'pyroTorrent to serve ' + base_url,
                     check=alive)
        post_examples(base_url)
        print('pyroTorrent: %s/  (up in %.1f s; workdir %s; Ctrl-C stops the demo)'
              % (base_url, time.monotonic() - began, workdir), flush=True)

        cfg = configuration.load(config_path)
        traffic = Traffic(swarm, {t.name: backend_for(t) for t in cfg.targets}, fresh_dir, args.size << 20, args.keep,
                          args.rate)
        # the worker's first look only learns what is there: what comes after it is 'added'
        time.sleep(2 * cfg.WORKER_TICK_SECONDS + cfg.EVENTS_SECONDS)
        traffic.oddities()
        while True:
            alive()
            try:
                traffic.step()
            except (rig.RigError, rig.TransportError, xmlrpc.Fault) as exc:    # said, tried again next second
                print('demo: the next broadcast failed: %s' % exc, file=sys.stderr, flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print('\ndemo: stopping', flush=True)
    except rig.RigError as exc:
        print('demo: %s' % exc, file=sys.stderr, flush=True)
        return 1
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if swarm is not None:
            swarm.stop()
        rig.stop_all()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
