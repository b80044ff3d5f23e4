"""Running `pyrotorrent.py worker` as a real process for the tests, and reading its store."""
import os
import signal
import subprocess
import sys

from lib.store import Store
from tests import rig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_config(path, **settings):
    """A config.py holding these settings (repr of each value)."""
    with open(path, 'w') as f:
        for key, value in settings.items():
            f.write('%s = %r\n' % (key, value))
    return path


class WorkerProcess:
    """pyrotorrent.py worker --config CONFIG, its output in a log file; prefix: a command it
    runs under (its last argument is the worker's command line), e.g. unshare."""

    def __init__(self, config_path, log_path, prefix=()):
        self.config_path, self.log_path = config_path, log_path
        with open(log_path, 'ab') as log:
            self.proc = subprocess.Popen(list(prefix) + [sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), 'worker',
                                          '--config', config_path], cwd=ROOT, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Send sig and wait for the exit code (SIGKILL after timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(5)
        return self.proc.returncode

    def wait_log(self, text, timeout=30):
        def check():
            if not self.alive():
                raise rig.RigError('the worker exited with %s: %s' % (self.proc.returncode, self.log()[-2000:]))
        return rig.wait_for(lambda: text in self.log(), timeout, 'the worker to log %r' % text, check=check)


def heartbeat(store_path):
    return Store.open(store_path).heartbeat('worker')


def open_at_once(url, threads=6):
    """Store.open(url) from `threads` threads at once, each writing one value of its own;
    the exceptions they raised (none when the migrations serialise)."""
    import threading
    errors = []

    def open_it():
        try:
            Store.open(url).put_values('t', 'k', {threading.current_thread().name: 1})
        except Exception as exc:       # noqa: BLE001 - reported to the caller
            errors.append(exc)
    started = [threading.Thread(target=open_it, name='t%d' % i) for i in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors
