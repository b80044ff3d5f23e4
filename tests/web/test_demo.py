"""The demo as README starts it: within three minutes bytes recorded, every kind of event it
promises, the rule acting, a torrent moving on the list; then Ctrl-C ends every process."""
import os
import re
import signal
import subprocess
import sys
import time

import requests

from tests import rig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what the demo promises (tests/demo.py's docstring): per target, the kinds of event
PROMISED = {'leecher': {'added', 'finished', 'stalled', 'tracker_error', 'rule', 'removed'},
            'seeder': {'added', 'schedule'}}


def descendants(pid):
    """Every process under pid, read from /proc (the rig's daemons sit in sessions of their own)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry, 'rb') as f:
                    ppid = int(f.read().rsplit(b')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_lines_holding(text):
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and rig._pid_alive(int(entry)):
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    line = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
            except OSError:
                continue
            if text in line:
                found.append('%s: %s' % (entry, line))
    return found


class Watch:
    """What the demo showed so far, asked of its pages and API like a visitor would."""

    def __init__(self, base, workdir):
        self.base, self.workdir, self.web = base, workdir, requests.Session()
        self.up_at = time.monotonic()
        self.kinds = {name: set() for name in PROMISED}
        self.moving = self.labelled = self.erased = None
        self.bytes = {}

    def get(self, path):
        answer = self.web.get(self.base + path, timeout=20)
        answer.raise_for_status()
        return answer

    def look(self):
        for name in PROMISED:
            found = self.get('/api/target/%s/events?limit=1000' % name).json()['events']
            self.kinds[name] |= {e['kind'] for e in found}
            if name == 'leecher':
                self.check_rule_and_erase(found)
        for name, direction in (('leecher', 'down'), ('seeder', 'up')):
            stats = self.get('/api/target/%s/stats?range=hour' % name).json()
            index = 0 if direction == 'up' else 1
            self.bytes[name] = (stats['summary']['today'][index],
                                sum(1 for s in stats['slots'] if s[direction] > 0))
        # rTorrent's rates are moving averages (RIG-NOTES pitfall 6): the swarm's first transfer,
        # done before the demo was up, still shows for a while; a minute on, only new traffic does
        if time.monotonic() - self.up_at >= 60:
            page = self.get('/target/leecher/').text
            rates = [r for r in re.findall(r'<td class="num rate col-down">([^<]*)</td>', page) if r != '–']
            if rates and self.moving is None:
                self.moving = rates
        return self.done()

    def check_rule_and_erase(self, found):
        for e in found:
            if e['kind'] == 'rule' and e['detail']['done'] and self.labelled is None:
                info_hash = e['detail']['done'][0]
                answer = self.web.get(self.base + '/api/target/leecher/torrent/' + info_hash, timeout=20)
                if answer.status_code == 200:
                    self.labelled = answer.json()['torrent']['torrent']['label']
            if e['kind'] == 'removed' and e['detail']['name'].startswith('Demo broadcast') and self.erased is None:
                name = e['detail']['name']
                self.erased = [folder for folder in (os.path.join(self.workdir, 'broadcasts'),
                                                     os.path.join(self.workdir, 'swarm', 'leecher', 'download'))
                               if name in os.listdir(folder)]

    def done(self):
        return (all(self.kinds[n] >= PROMISED[n] for n in PROMISED) and self.labelled is not None
                and self.erased is not None and self.moving is not None
                and all(total > 0 and slots >= 2 for total, slots in self.bytes.values()))

    def __repr__(self):
        return ('missing events %s; rule labelled %r; erased broadcast still in %r; moving %r; bytes, minutes %r'
                % ({n: sorted(PROMISED[n] - self.kinds[n]) for n in PROMISED}, self.labelled, self.erased,
                   self.moving, self.bytes))


def test_the_demo_keeps_moving_and_ctrl_c_ends_every_process_it_started():
    workdir = rig.make_workdir('pyrotorrent-demo-test-')
    host = rig.address()
    port = rig.free_port(host)
    # what tests/demo.sh runs, on addresses of this test run; 8 MiB broadcasts and two kept, so
    # that a third one (and the erase of the first) comes within the three minutes
    argv = [sys.executable, '-m', 'tests.demo', '--host', host, '--port', str(port), '--workdir', workdir,
            '--seeder-address', rig.address(), '--leecher-address', rig.address(),
            '--tracker-address', rig.address(), '--size', '8', '--keep', '2']
    log_path = os.path.join(workdir, 'demo.log')
    began = time.monotonic()
    with open(log_path, 'wb') as log:
        demo = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True,     # its own group: Ctrl-C goes to it as from a terminal
                                preexec_fn=rig._die_with_parent)     # and SIGTERM (its cleanup) should this test die
    watch = Watch('http://%s:%d' % (host, port), workdir)
    started = []
    try:
        def up():
            assert demo.poll() is None, 'the demo exited early: %s' % rig.log_tail(log_path)
            return 'up in' in rig.log_tail(log_path, 100000)
        rig.wait_for(up, 60, 'the demo to say it is up')
        print('demo up after %.1f s' % (time.monotonic() - began))
        watch.up_at = time.monotonic()

        def shown():
            assert demo.poll() is None, 'the demo exited early: %s' % rig.log_tail(log_path)
            return watch.look()
        try:
            rig.wait_for(shown, 180 - (time.monotonic() - began), 'the demo to show it is alive', interval=3)
        except rig.RigTimeout:
            raise AssertionError('within three minutes: %r\n%s' % (watch, rig.log_tail(log_path))) from None
        assert watch.labelled == 'done', watch
        assert watch.erased == [], watch
        started = descendants(demo.pid)
        assert len(started) >= 6, started      # tracker guard and tracker, 2 rtorrent, worker, web
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGINT)
        try:
            code = demo.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            raise AssertionError('the demo did not stop within 90 s of Ctrl-C: %s' % rig.log_tail(log_path))
    assert code == 0, rig.log_tail(log_path)
    assert 'demo: stopping' in rig.log_tail(log_path)
    left = [pid for pid in started if rig._pid_alive(pid)]
    assert left == [], command_lines_holding(workdir)
    assert command_lines_holding(workdir) == []


def test_help_says_what_runs_without_installing_anything():
    done = subprocess.run(['sh', 'tests/demo.sh', '--help'], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60)
    text = done.stdout.decode()
    assert done.returncode == 0, text
    for what in ('opentracker', 'rtorrent "seeder"', 'rtorrent "leecher"', 'pyrotorrent.py worker',
                 'pyrotorrent.py --http', 'Ctrl-C', 'rule', 'schedule'):
        assert what in text
    assert 'Installing' not in text
