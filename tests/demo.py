"""The demo: a real swarm on loopback and pyroTorrent serving it over HTTP.

    sh tests/demo.sh [--port 8080] [--torrents 200]

Starts opentracker, a seeder rtorrent and a leecher rtorrent that downloads some of the
seeder's torrents for real, adds a few hundred synthetic (stopped) torrents to the seeder
so sorting, filtering and pages have something to show, then serves pyroTorrent on
http://127.0.0.1:PORT/ until Ctrl-C, which stops everything.
"""
import argparse
import os
import subprocess
import sys
import tempfile

from tests import rig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description='pyroTorrent demo on real rtorrent daemons')
    parser.add_argument('--port', type=int, default=8080)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--torrents', type=int, default=200, help='synthetic torrents to add to the seeder')
    args = parser.parse_args()

    print('Starting a tracker and two rtorrent daemons with real torrents...', flush=True)
    swarm = rig.Swarm().start()
    labels = ['Linux ISOs', 'Music', 'Films', '']
    for i, label in enumerate(labels):
        chunk = rig.synthetic_torrents(args.torrents // len(labels), start=i * args.torrents, seed='demo')
        if chunk:
            swarm.seeder.load_many(chunk, label=label or None)

    config_path = os.path.join(tempfile.mkdtemp(prefix='pyrotorrent-demo-'), 'config.py')
    with open(config_path, 'w') as f:
        f.write('BASE_URL = ""\nSTATIC_URL = "/static"\nREFRESH_SECONDS = 3\n'
                'WORKER_TICK_SECONDS = 2\n'
                'targets = {"seeder": {"url": %r, "add_directories": [%r]},\n'
                '           "leecher": {"url": %r, "download_roots": [%r]}}\n'
                % (swarm.seeder.url, swarm.data_dir, swarm.leecher.url, swarm.leecher.download_dir))
    print('pyroTorrent: http://%s:%d/  (config %s; Ctrl-C stops the demo)' % (args.host, args.port, config_path),
          flush=True)
    # the worker re-applies the settings made on the settings pages when a daemon restarts
    worker = subprocess.Popen([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), 'worker', '--config', config_path])
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', config_path,
                        '--http', '%s:%d' % (args.host, args.port)])
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(10)
        swarm.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
