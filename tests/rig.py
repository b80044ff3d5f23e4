"""A rig of real components for the tests, the demo and the benchmark: no fakes.

    Tracker          opentracker (Debian's build: whitelist only, never as root, chrooted)
    RTorrentDaemon   a headless rtorrent 0.9.x answering XML-RPC over SCGI (unix or tcp)
    TransmissionDaemon  transmission-daemon 3.00 in the foreground, RPC and peers on loopback
    Swarm            a tracker, a seeder and a leecher (each on its own address()) sharing a few
                     real torrents with awkward names; the leecher really downloads some of them
    Lighttpd         lighttpd -D with a config you write, and spawn_fcgi() for a FastCGI app

    make_payload, make_torrent (mktorrent), synthetic_torrents (pure Python, no data on disk),
    free_port, make_workdir, wait_for

Folders made by the rig go to /dev/shm when it is a roomy tmpfs (rtorrent's session
writes are slow on disk here; see _temp_base), or $PYROTORRENT_RIG_TMPDIR.

Cleanup.  Every process the rig starts is registered and ended when the interpreter exits
(atexit; a SIGTERM to the interpreter becomes SystemExit when it had no handler).  Processes
started from the main thread also get a parent-death signal (SIGTERM), and opentracker,
whose setuid to nobody clears that signal, runs under a guard shell that kills it when the
interpreter goes: even a SIGKILL of the interpreter leaks nothing but a fork=True spawn_fcgi
app and what a worker thread started (and zombies, where PID 1 does not reap orphans).
Folders the rig makes itself (workdir=None) are removed at exit, unless PYROTORRENT_RIG_KEEP=1
is set (handy to read the logs of a failure).

Each component writes its output to a log file in its workdir; errors quote its tail.

Plain Python (no pytest); import it as tests.rig with the repository root on sys.path.
Talks to rtorrent with the project's own lib.transport and lib.xmlrpc.

Measured here (2 cores, Debian 12, rtorrent 0.9.8):
    Swarm().start()                 0.6-0.7 s (5 torrents, 23 MB, the leecher fetches 20 MB)
    load_many(10,000 synthetic)     19-22 s; restart on that session 12-14 s (see load_many)
"""
import atexit
import base64
import contextlib
import ctypes
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from lib import bencode  # noqa: E402
from lib import xmlrpc  # noqa: E402
from lib.transport import TransportError, transport_for  # noqa: E402

__all__ = [
    'RigError', 'RigTimeout', 'free_port', 'port_accepts', 'log_tail', 'make_workdir', 'wait_for',
    'make_payload', 'make_torrent', 'synthetic_torrents',
    'Tracker', 'RTorrentDaemon', 'TransmissionDaemon', 'Swarm', 'Lighttpd', 'spawn_fcgi', 'FcgiProcess',
    'stop_all', 'TransportError', 'SWARM_TORRENTS',
]

# The SCGI request body rtorrent accepts is capped at 2,097,152 bytes (RIG-NOTES pitfall 4);
# keep every request comfortably under it.
SCGI_BODY_LIMIT = 2_097_152
_BATCH_BYTES = 1_800_000
_MAX_RAW_TORRENT = 1_500_000


class RigError(RuntimeError):
    """A component of the rig could not be started or did not behave."""


class RigTimeout(RigError):
    """Something the rig waited for did not happen in time."""


# ---------------------------------------------------------------- processes and cleanup

_LIVE = {}                 # id(obj) -> started component; obj._procs(): [(_Proc, signal)]
_TEMP_DIRS = []
_LOCK = threading.Lock()

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the thread that started it dies (Linux)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _popen(argv, log_path, cwd=None, env=None, stdin=subprocess.DEVNULL, die_with_parent=True):
    """Start argv in its own session, stdout+stderr appended to log_path."""
    with open(log_path, 'ab') as log:
        log.write(b'\n=== %s: %s\n' % (time.strftime('%H:%M:%S').encode(),
                                       ' '.join(argv).encode('utf-8', 'replace')))
        log.flush()
        main = die_with_parent and threading.current_thread() is threading.main_thread()
        try:
            return subprocess.Popen(
                argv, stdin=stdin, stdout=log, stderr=subprocess.STDOUT,
                cwd=cwd, env=env, start_new_session=True,
                preexec_fn=_die_with_parent if main else None)
        except FileNotFoundError:
            raise RigError('%s is not installed (apt-get install it)' % argv[0]) from None


def _register(obj):
    with _LOCK:
        _LIVE[id(obj)] = obj
    _exit_on_sigterm()


def _exit_on_sigterm():
    """A SIGTERM to this interpreter (CI, timeout(1)) becomes SystemExit, so atexit runs.

    Only when nobody set a handler before, and only from the main thread (Python's rule)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def on_sigterm(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, on_sigterm)


def _unregister(obj):
    with _LOCK:
        _LIVE.pop(id(obj), None)


def _pid_alive(pid):
    """True while pid runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            state = f.read().rsplit(b')', 1)[1].split()[0]
        return state not in (b'Z', b'X')
    except (OSError, IndexError):
        return True


class _Proc:
    """One process the rig started: a Popen child, or a pid from a pid file."""

    def __init__(self, name, popen=None, pid=None, log_path=None):
        self.name = name
        self.popen = popen
        self.pid = popen.pid if popen is not None else pid
        self.log_path = log_path

    def alive(self):
        if self.popen is not None:
            return self.popen.poll() is None
        return _pid_alive(self.pid)

    def returncode(self):
        return self.popen.poll() if self.popen is not None else None

    def send(self, sig, group=False):
        try:
            if group and self.popen is not None:
                os.killpg(self.pid, sig)   # start_new_session: the pid leads its group
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            pass

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, sig=signal.SIGTERM, grace=10.0):
        """sig, then up to grace seconds, then SIGKILL to the group.  Returns the exit code."""
        if self.alive():
            self.send(sig)
            if not self.wait(grace):
                self.send(signal.SIGKILL, group=True)
                self.send(signal.SIGKILL)
                self.wait(5.0)
        if self.popen is not None:
            try:
                return self.popen.wait(timeout=1)
            except subprocess.TimeoutExpired:
                return None
        return None

    def tail(self, size=1500):
        return log_tail(self.log_path, size)


def log_tail(path, size=2000):
    """The last `size` bytes of a log file as text ('' if there is none)."""
    if not path:
        return ''
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode('utf-8', 'replace').strip()
    except OSError:
        return ''


def _raise(exc):
    raise exc


def _died(proc, what):
    code = proc.returncode()
    msg = '%s exited%s while %s' % (proc.name, '' if code is None else ' with code %s' % code, what)
    tail = proc.tail()
    if tail:
        msg += '; the end of its log %s:\n%s' % (proc.log_path, tail)
    return RigError(msg)


def stop_all(grace=10.0):
    """End every process the rig started: polite signal to all, one shared grace, SIGKILL."""
    with _LOCK:
        objs = list(_LIVE.values())
    procs = []
    for obj in objs:
        for proc, sig in obj._procs():
            if proc is not None and proc.alive():
                if callable(sig):
                    sig(proc)          # a polite way of its own (the tracker's guard)
                else:
                    proc.send(sig)
                procs.append(proc)
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.wait(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.alive():
            proc.send(signal.SIGKILL, group=True)
            proc.send(signal.SIGKILL)
            proc.wait(2.0)
        if proc.popen is not None:
            try:
                proc.popen.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
    with _LOCK:
        for obj in objs:
            _LIVE.pop(id(obj), None)


def _at_exit():
    stop_all()
    if os.environ.get('PYROTORRENT_RIG_KEEP', '') not in ('', '0'):
        if _TEMP_DIRS:
            sys.stderr.write('rig: kept %s\n' % ', '.join(_TEMP_DIRS))
        return
    for path in _TEMP_DIRS:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_at_exit)


def _temp_base():
    """Where make_workdir puts folders: $PYROTORRENT_RIG_TMPDIR, else /dev/shm when it is a
    roomy writable tmpfs, else the usual temp folder.

    Why: rtorrent rewrites three session files per torrent (write + rename); on this
    machine's disk that costs ~2.5 ms a load and ~1 s at SIGTERM even for 500 torrents, on
    tmpfs ~0.2 ms and 0.04 s (load_many of 500: 1.3-1.7 s on disk, 0.1 s on tmpfs).
    Docker's default /dev/shm (64 MB) is too small and is skipped."""
    base = os.environ.get('PYROTORRENT_RIG_TMPDIR')
    if base:
        os.makedirs(base, exist_ok=True)
        return base
    try:
        st = os.statvfs('/dev/shm')
        if st.f_bavail * st.f_frsize >= (2 << 30) and os.access('/dev/shm', os.W_OK | os.X_OK):
            return '/dev/shm'
    except OSError:
        pass
    return tempfile.gettempdir()


def make_workdir(prefix='pyrotorrent-rig-'):
    """A fresh folder (tempfile.mkdtemp under _temp_base()), removed when the interpreter exits."""
    path = tempfile.mkdtemp(prefix=prefix, dir=_temp_base())
    with _LOCK:
        _TEMP_DIRS.append(path)
    return path


def _workdir(workdir, prefix):
    if workdir is None:
        return make_workdir(prefix)
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    return workdir


# ---------------------------------------------------------------- small helpers

_ADDRESSES = itertools.count()


def address():
    """A loopback address (127.A.B.C) no other daemon of this test run has been given.

    Why: libtorrent keeps one peer per IP (RIG-NOTES pitfall 1), so every daemon that may meet
    another needs its own address; the second octet is the pytest-xdist worker's (gw0 -> 11,
    none -> 10), so parallel workers never hand out the same one."""
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')
    second = 11 + int(worker[2:]) if worker.startswith('gw') and worker[2:].isdigit() else 10
    with _LOCK:
        n = next(_ADDRESSES)
    if n >= 254 * 254:
        raise RigError('ran out of loopback addresses for this test process')
    return '127.%d.%d.%d' % (second, n // 254, n % 254 + 1)


def free_port(host='127.0.0.1', udp=False):
    """A port nobody listens on at host now (TCP; and UDP too when udp=True)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if not udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
            return port
        except OSError:
            continue
    raise RigError('found no free port on %s' % host)


def wait_for(predicate, timeout=30.0, what='the condition', interval=0.05, check=None):
    """Call predicate() until it returns something true, and return that.

    Exceptions from predicate count as "not yet" (the last one is quoted on timeout).
    check(), when given, is called each round and may raise to give up early (a process died).
    """
    deadline = time.monotonic() + timeout
    last_error = None
    last_value = None
    while True:
        if check is not None:
            check()
        try:
            last_value = predicate()
            if last_value:
                return last_value
            last_error = None
        except (RigError, AssertionError):
            raise
        except Exception as exc:  # not there yet: refused connection, fault, ...
            last_error = exc
        if time.monotonic() >= deadline:
            if last_error is not None:
                detail = 'last error: %s: %s' % (last_error.__class__.__name__, last_error)
            else:
                detail = 'last value: %r' % (last_value,)
            raise RigTimeout('waited %g s for %s; %s' % (timeout, what, detail))
        time.sleep(interval)


def port_accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _rc_quote(text):
    """A value for rtorrent's command syntax: quoted, with " and \\ escaped."""
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


# ---------------------------------------------------------------- payloads and torrents

def make_payload(directory, name, size_bytes, files=1):
    """Random data to share, under directory; returns its path.

    files=1 makes the single file directory/name.  An int > 1, or a list of relative paths
    (subfolders allowed), makes a folder directory/name holding that many files, the size
    split between them."""
    if '/' in name or name in ('', '.', '..'):
        raise ValueError('payload name %r cannot be a file name (rtorrent also rejects a torrent '
                         'name holding "/")' % name)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    if files == 1:
        _write_random(path, size_bytes)
        return path
    if isinstance(files, int):
        files = ['file-%02d.bin' % (i + 1) for i in range(files)]
    files = list(files)
    if not files:
        raise ValueError('files must name at least one file')
    share, rest = divmod(size_bytes, len(files))
    for i, rel in enumerate(files):
        if os.path.isabs(rel) or '..' in rel.split('/'):
            raise ValueError('payload file %r must be a relative path inside the folder' % rel)
        target = os.path.join(path, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _write_random(target, share + (rest if i == len(files) - 1 else 0))
    return path


def _write_random(path, size):
    with open(path, 'wb') as f:
        left = size
        while left > 0:
            chunk = min(left, 4 << 20)
            f.write(os.urandom(chunk))
            left -= chunk


def make_torrent(path, announce_url, out_path, piece_size_exp=None, private=False, comment=None):
    """A .torrent for the file or folder at path, made by mktorrent; returns its bytes."""
    out_path = os.path.abspath(out_path)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    if os.path.exists(out_path):
        os.unlink(out_path)        # mktorrent refuses to overwrite
    argv = ['mktorrent', '-a', announce_url, '-o', out_path]
    if piece_size_exp is not None:
        argv += ['-l', str(piece_size_exp)]
    if private:
        argv.append('-p')
    if comment:
        argv += ['-c', comment]
    argv.append(os.path.abspath(path))
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
    except FileNotFoundError:
        raise RigError('mktorrent is not installed (apt-get install mktorrent)') from None
    if done.returncode != 0:
        raise RigError('mktorrent failed for %s: %s' % (path, done.stdout.decode('utf-8', 'replace').strip()))
    with open(out_path, 'rb') as f:
        return f.read()


_WORDS = ('Ubuntu', 'Debian', 'Live', 'Concert', 'Lecture', 'Podcast', 'Archive', 'Dataset',
          'Holiday', 'Photos', 'Documentary', 'Album', 'Mix', 'Backup', 'Season', 'Episode',
          'Open', 'Source', 'Movie', 'Tutorial', 'Collection', 'Remastered', 'Night', 'Sky',
          'Ocean', 'Mountain', 'City', 'Jazz', 'Symphony', 'Atlas', 'Café', 'Noël', 'Straße')
_EXTS = ('.iso', '.mkv', '.flac', '.zip', '.tar.gz', '.pdf', '.mp3', '.img', '')


def synthetic_torrents(n, start=0, seed=0, announce_url='http://127.0.0.1:1/announce'):
    """n small valid single-file .torrent metainfos (list of bytes), made in pure Python.

    No data on disk behind them: load them stopped.  Names are unique, like
    'synthetic-00042 Jazz Ocean 1997.flac'; sizes range from 1 KB to about 8 GB (log-uniform).
    The same (start, seed) always gives the same torrents, hence the same info hashes."""
    out = []
    for index in range(start, start + n):
        rng = random.Random('%s/%d' % (seed, index))
        words = ' '.join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
        name = 'synthetic-%05d %s %d%s' % (index, words, rng.randint(1970, 2025), rng.choice(_EXTS))
        size = int(10 ** rng.uniform(3, 9.9))
        piece = 1 << 14
        while size > piece * 256 and piece < (1 << 24):   # at most ~256 pieces: small metainfo
            piece <<= 1
        pieces = -(-size // piece)
        meta = {
            'announce': announce_url,
            'created by': 'pyroTorrent test rig',
            'creation date': 1_600_000_000 + index,
            'info': {
                'length': size,
                'name': name,
                'piece length': piece,
                'pieces': rng.randbytes(20 * pieces),
            },
        }
        out.append(bencode.encode(meta))
    return out


def _torrent_name(torrent_bytes):
    try:
        return bencode.decode(torrent_bytes)[b'info'][b'name'].decode('utf-8', 'replace')
    except (ValueError, KeyError, TypeError, AttributeError):
        return '?'


# ---------------------------------------------------------------- opentracker

class Tracker:
    """opentracker on host:port with a whitelist.

    Debian's build only accepts whitelisted info hashes (access.whitelist: lowercase hex,
    one a line, SIGHUP reloads), refuses to run as root (tracker.user nobody) and chroots
    into tracker.rootdir: the workdir is that root, so it and the whitelist get read
    permission for everyone, and the config names the whitelist as /whitelist.txt.
    It keeps no state: stop() kills it outright."""

    def __init__(self, workdir=None, host='127.0.0.1', port=None):
        self.workdir = _workdir(workdir, 'pyrotorrent-rig-tracker-')
        self.host = host
        self.port = port
        self.whitelist_path = os.path.join(self.workdir, 'whitelist.txt')
        self.config_path = os.path.join(self.workdir, 'opentracker.conf')
        self.log_path = os.path.join(self.workdir, 'opentracker.log')
        self.proc = None
        self._guard = None
        self._allowed = set()

    @property
    def announce_url(self):
        return 'http://%s:%d/announce' % (self.host, self.port)

    def _procs(self):
        # the guard first: it kills and reaps opentracker (left unreaped, a zombie stays)
        return [(self._guard, self._release_guard), (self.proc, signal.SIGKILL)]

    def start(self, timeout=10.0):
        if self.proc is not None and self.proc.alive():
            return self
        if self.port is None:
            self.port = free_port(self.host, udp=True)
        os.chmod(self.workdir, 0o755)          # 'nobody' must traverse its chroot
        if os.path.exists(self.whitelist_path):
            with open(self.whitelist_path) as f:
                self._allowed = {line.strip().lower() for line in f if line.strip()}
        else:
            open(self.whitelist_path, 'w').close()
        os.chmod(self.whitelist_path, 0o644)
        with open(self.config_path, 'w') as f:
            f.write('listen.tcp_udp %s:%d\n' % (self.host, self.port))
            f.write('access.whitelist /whitelist.txt\n')   # read after the chroot
            f.write('tracker.rootdir %s\n' % self.workdir)
            f.write('tracker.user nobody\n')
        # opentracker's setuid to nobody clears the parent-death signal, so a guard shell
        # starts it and kills it when its stdin (a pipe only we hold) reaches end of file:
        # when this interpreter dies, even by SIGKILL.
        pid_path = os.path.join(self.workdir, 'opentracker.pid')
        if os.path.exists(pid_path):
            os.unlink(pid_path)
        guard = _popen(['sh', '-c', 'opentracker -f "$1" </dev/null & pid=$!; echo $pid > "$2"; '
                        'read _eof; kill -9 $pid 2>/dev/null; wait $pid', 'opentracker-guard',
                        self.config_path, pid_path],
                       self.log_path, cwd=self.workdir, stdin=subprocess.PIPE,
                       die_with_parent=False)      # a SIGTERM would end it before its kill
        self._guard = _Proc('opentracker guard', guard, log_path=self.log_path)
        _register(self)

        def read_pid():
            with open(pid_path) as f:
                return int(f.read().strip())
        pid = wait_for(read_pid, timeout, 'the opentracker guard to start it',
                       check=lambda: self._guard.alive() or _raise(_died(self._guard, 'starting opentracker')))
        self.proc = _Proc('opentracker', pid=pid, log_path=self.log_path)
        wait_for(lambda: port_accepts(self.host, self.port), timeout,
                 'opentracker to listen on %s:%d' % (self.host, self.port), check=self._check)
        return self

    def _check(self):
        if self.proc is None or not self.proc.alive():
            raise _died(self.proc, 'the rig waited for it')

    def allow(self, info_hashes, timeout=10.0):
        """Whitelist these info hashes (hex, any case); returns once the tracker accepts them."""
        if isinstance(info_hashes, str):
            info_hashes = [info_hashes]
        wanted = []
        for h in info_hashes:
            h = h.strip().lower()
            if not re.fullmatch('[0-9a-f]{40}', h):
                raise ValueError('%r is not a 40-hex info hash' % h)
            wanted.append(h)
        new = [h for h in dict.fromkeys(wanted) if h not in self._allowed]
        if new:
            with open(self.whitelist_path, 'a') as f:
                f.write(''.join(h + '\n' for h in new))
            self._allowed.update(new)
        if self.proc is None:
            return   # not started: start() reads the file
        self._check()
        pending = list(dict.fromkeys(wanted))
        last_hup = [0.0]

        def all_accepted():
            # SIGHUP again every 0.3 s while waiting: a reload is cheap, and a lost or early
            # signal must not cost the whole timeout.
            if time.monotonic() - last_hup[0] > 0.3:
                self.proc.send(signal.SIGHUP)
                last_hup[0] = time.monotonic()
                time.sleep(0.01)
            while pending and self._accepts(pending[0]):
                pending.pop(0)
            return not pending
        wait_for(all_accepted, timeout, 'opentracker to accept the whitelisted hashes', check=self._check)

    def _announce(self, info_hash_hex, peer_id, event=None):
        query = {'info_hash': bytes.fromhex(info_hash_hex), 'peer_id': peer_id, 'port': 1,
                 'uploaded': 0, 'downloaded': 0, 'left': 0, 'compact': 1, 'numwant': 0}
        if event:
            query['event'] = event
        conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            # quote, not quote_plus: opentracker does not read '+' as a space, so a hash
            # holding byte 0x20 would be probed as another hash (~7% of random hashes)
            conn.request('GET', '/announce?' + urllib.parse.urlencode(query, quote_via=urllib.parse.quote))
            return conn.getresponse().read()
        finally:
            conn.close()

    def _accepts(self, info_hash_hex):
        """Probe with an announce from a fake peer (port 1), removed again at once."""
        peer_id = b'-RIG000-' + os.urandom(6).hex().encode()
        answer = self._announce(info_hash_hex, peer_id)
        if b'failure reason' in answer:
            return False
        self._announce(info_hash_hex, peer_id, event='stopped')
        return True

    def _release_guard(self, _sig=None):
        """End of file on the guard's stdin: it kills opentracker, reaps it and exits."""
        try:
            self._guard.popen.stdin.close()
        except (OSError, AttributeError):
            pass

    def stop(self):
        """Kill it (it keeps no state) through its guard, which also reaps it."""
        if self._guard is not None:
            self._release_guard()
            self._guard.stop(signal.SIGKILL, grace=5.0)
        if self.proc is not None and self.proc.alive():
            self.proc.stop(signal.SIGKILL, grace=5.0)
        _unregister(self)

    def __repr__(self):
        return '<Tracker %s>' % (self.announce_url if self.port else self.workdir)


# ---------------------------------------------------------------- rtorrent

class RTorrentDaemon:
    """A headless rtorrent with its own workdir, bind address and SCGI socket.

    workdir holds rtorrent.rc, session/, download/, rpc.socket (scgi='unix'), rtorrent.log
    and rtorrent.pid.  Give an existing workdir to start again from its saved session (the
    rc file is rewritten, the session kept); start()/stop()/start() works on one object too.
    Each instance gets its own loopback bind address (address() unless bind= says otherwise),
    so that any two can find each other (RIG-NOTES pitfall 1); .bind is the one it got."""

    def __init__(self, workdir=None, bind=None, peer_port=None, scgi='unix',
                 scgi_port=None, timeout=30.0, extra_rc='', scgi_rc=None):
        """scgi_rc: rc text to open the unix socket (at .socket_path) instead of the rig's
        own network.scgi.open_local line, e.g. the setup manual's snippet."""
        if scgi not in ('unix', 'tcp'):
            raise ValueError("scgi must be 'unix' or 'tcp', not %r" % (scgi,))
        self.workdir = _workdir(workdir, 'pyrotorrent-rig-rtorrent-')
        self.bind = bind or address()
        self.peer_port = peer_port
        self.scgi = scgi
        self.scgi_port = scgi_port
        self.timeout = timeout
        self.extra_rc = extra_rc
        self.scgi_rc = scgi_rc
        self.session_dir = os.path.join(self.workdir, 'session')
        self.download_dir = os.path.join(self.workdir, 'download')
        self.rc_path = os.path.join(self.workdir, 'rtorrent.rc')
        self.log_path = os.path.join(self.workdir, 'rtorrent.log')
        self.pid_path = os.path.join(self.workdir, 'rtorrent.pid')
        self.messages_path = os.path.join(self.workdir, 'rtorrent.messages.log')
        self.socket_path = os.path.join(self.workdir, 'rpc.socket')
        if scgi == 'unix' and len(self.socket_path.encode()) > 107:
            raise RigError('the unix socket path %s is longer than the 107 bytes a socket '
                           'address holds: use a shorter workdir' % self.socket_path)
        self.proc = None

    @property
    def url(self):
        if self.scgi == 'unix':
            return 'scgi+unix://' + urllib.parse.quote(self.socket_path)
        return 'scgi://127.0.0.1:%d' % self.scgi_port

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def _write_rc(self):
        lines = [
            'system.daemon.set = true',
            'session.path.set = %s' % _rc_quote(self.session_dir + '/'),
            'directory.default.set = %s' % _rc_quote(self.download_dir + '/'),
            self.scgi_rc if self.scgi_rc is not None
            else ('network.scgi.open_local = %s' % _rc_quote(self.socket_path)) if self.scgi == 'unix'
            else 'network.scgi.open_port = 127.0.0.1:%d' % self.scgi_port,
            'network.port_range.set = %d-%d' % (self.peer_port, self.peer_port),
            'network.port_random.set = no',
            'network.bind_address.set = %s' % self.bind,
            'network.local_address.set = %s' % self.bind,
            'dht.mode.set = disable',
            'protocol.pex.set = no',
            'trackers.use_udp.set = no',
            'throttle.min_peers.seed.set = 1',
            # the XML-RPC limit defaults to 512 KiB; raised, only the SCGI cap (2 MiB) remains
            'network.xmlrpc.size_limit.set = 4194304',
            # rtorrent's own messages (a rejected torrent, a failed announce...): no console here
            'log.open_file = "rig", %s' % _rc_quote(self.messages_path),
            'log.add_output = "info", "rig"',
        ]
        with open(self.rc_path, 'w') as f:
            f.write('\n'.join(lines) + '\n' + self.extra_rc + '\n')

    def start(self, timeout=120.0):
        """Start it and wait until the socket answers system.client_version.

        The timeout is generous: restarting on a session of 10,000 torrents takes ~16 s."""
        if self.proc is not None and self.proc.alive():
            return self
        os.makedirs(self.session_dir, exist_ok=True)
        os.makedirs(self.download_dir, exist_ok=True)
        if self.peer_port is None:
            self.peer_port = free_port(self.bind)
        if self.scgi == 'tcp' and self.scgi_port is None:
            self.scgi_port = free_port('127.0.0.1')
        if self.scgi == 'unix' and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)      # a stale socket from a killed run
        self._write_rc()
        popen = _popen(['rtorrent', '-n', '-o', 'import=' + self.rc_path], self.log_path,
                       cwd=self.workdir)
        self.proc = _Proc('rtorrent (%s)' % self.workdir, popen, log_path=self.log_path)
        _register(self)
        with open(self.pid_path, 'w') as f:
            f.write('%d\n' % popen.pid)
        self.version = self.wait(lambda: self.call('system.client_version', timeout=5.0), timeout,
                                 'rtorrent to answer system.client_version on ' + self.url)
        return self

    def _check(self):
        if self.proc is None:
            raise RigError('rtorrent (%s) was never started' % self.workdir)
        if not self.proc.alive():
            raise _died(self.proc, 'the rig waited for it')

    def stop(self, timeout=60.0):
        """SIGTERM (rtorrent saves its session; ~5 s with 10,000 torrents), SIGKILL after timeout."""
        code = None
        if self.proc is not None:
            code = self.proc.stop(signal.SIGTERM, grace=timeout)
        _unregister(self)
        if self.scgi == 'unix' and os.path.exists(self.socket_path):
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass
        return code

    # -- XML-RPC

    def call(self, method, *params, timeout=None):
        """One XML-RPC call; returns the decoded result, raises xmlrpc.Fault or TransportError."""
        body = xmlrpc.dumps(method, params)
        answer = transport_for(self.url, timeout or self.timeout).request(body)
        return xmlrpc.loads(answer)

    def multicall(self, calls, timeout=None):
        """system.multicall over [(method, params), ...]; returns the list of results.

        Raises xmlrpc.Fault (naming the method and its index) if any call failed."""
        calls = [(m, list(p)) for m, p in calls]
        if not calls:
            return []
        results = self.call('system.multicall',
                            [{'methodName': m, 'params': p} for m, p in calls], timeout=timeout)
        out = []
        for i, ((method, _), result) in enumerate(zip(calls, results)):
            if isinstance(result, dict):
                raise xmlrpc.Fault(result.get('faultCode'), 'call %d (%s): %s'
                                   % (i, method, result.get('faultString')))
            out.append(result[0])
        return out

    def rows(self, fields, view='main'):
        """d.multicall2 over a view: one list per torrent, e.g. rows(['d.hash', 'd.name'])."""
        fields = [f if f.endswith('=') else f + '=' for f in fields]
        return self.call('d.multicall2', '', view, *fields)

    def hashes(self, view='main'):
        return self.call('download_list', '', view)

    def wait(self, predicate, timeout=30.0, what='the condition', interval=0.05):
        """wait_for(), giving up at once (with its log) if this rtorrent died."""
        return wait_for(predicate, timeout, what, interval, check=self._check)

    # -- loading torrents

    @staticmethod
    def _load_params(torrent_bytes, directory, label, commands):
        if len(torrent_bytes) > _MAX_RAW_TORRENT:
            raise ValueError('a .torrent of %d bytes is too big to send with load.raw: the SCGI '
                             'request is capped at %d bytes (RIG-NOTES pitfall 4)'
                             % (len(torrent_bytes), SCGI_BODY_LIMIT))
        params = ['', xmlrpc.Binary(bytes(torrent_bytes))]   # '': the target
        if directory is not None:
            params.append('d.directory.set=' + _rc_quote(os.path.abspath(directory)))
        if label is not None:
            params.append('d.custom1.set=' + _rc_quote(label))
        params.extend(commands)
        return params

    def load(self, torrent_bytes, directory=None, start=True, label=None, commands=()):
        """load.raw_start / load.raw; returns the info hash once rtorrent knows it.

        directory: where the data is or goes (for a multi-file torrent, the folder that holds
        the torrent's own folder); label: d.custom1; commands: more 'd.x.set=...' strings."""
        params = self._load_params(torrent_bytes, directory, label, commands)
        self.call('load.raw_start' if start else 'load.raw', *params)
        h = bencode.info_hash(torrent_bytes)
        try:   # load.raw* is synchronous: a miss is a rejection, give it only a moment
            self.wait(lambda: self.call('d.hash', h) == h, 1.5, 'rtorrent to list torrent %s' % h)
        except RigTimeout:
            raise RigError('rtorrent did not take torrent %s (%r): load.raw* answers 0 even for '
                           'a torrent it rejects, e.g. a name with "/" or ".."'
                           % (h, _torrent_name(torrent_bytes))) from None
        return h

    def seed(self, torrent_bytes, directory, tracker, label=None, timeout=30.0):
        """load() a torrent whose data is in `directory`, let `tracker` (an OpenTracker)
        allow it, and wait until this daemon has checked the data and announced it: a peer
        that loads it then finds a seeder.  Returns the info hash."""
        h = self.load(torrent_bytes, directory=directory, label=label)
        tracker.allow([h])
        self.wait(lambda: self.call('d.complete', h) == 1
                  and self.call('t.multicall', h, '', 't.success_counter=')[0][0] >= 1,
                  timeout, 'the seeder to check its data and announce %s' % h)
        return h

    def load_many(self, torrents, batch=200, start=False, directory=None, label=None):
        """Load many .torrent bodies with system.multicall batches; returns their info hashes.

        A batch holds at most `batch` torrents and stays under ~1.8 MB of request body (the
        SCGI cap is 2,097,152 bytes; the rc raises network.xmlrpc.size_limit, whose 512 KiB
        default refuses a batch of 200 synthetic torrents with Fault -503).

        Measured here (2 cores, rtorrent 0.9.8, synthetic_torrents, start=False):
            500 torrents       ~0.15 s
            10,000 torrents    19-22 s, with batch=200 as with batch=1000, session on disk or
                               tmpfs alike: rtorrent's cost per load grows with the number it
                               holds (0.27 s for the first 1,000, 3.5 s for the tenth 1,000).
                               It then uses ~210 MB resident; SIGTERM stops it in 1-3 s and a
                               restart on that session folder answers after 12-14 s.
        Generating the 10,000 (synthetic_torrents) takes 0.2 s: load once per session, or
        keep the folder and restart rtorrent on it.
        """
        method = 'load.raw_start' if start else 'load.raw'
        hashes = []
        pending, pending_size = [], 0
        for data in torrents:
            params = self._load_params(data, directory, label, ())
            hashes.append(bencode.info_hash(data))
            size = len(data) * 4 // 3 + 400       # base64 and the XML around it
            if pending and (len(pending) >= batch or pending_size + size > _BATCH_BYTES):
                self.multicall(pending)
                pending, pending_size = [], 0
            pending.append((method, params))
            pending_size += size
        if pending:
            self.multicall(pending)
        if hashes:
            missing = set(hashes)

            def all_listed():
                missing.difference_update(self.hashes())
                return not missing
            self.wait(all_listed, 30, 'rtorrent to list all %d loaded torrents' % len(hashes))
        return hashes

    def __repr__(self):
        return '<RTorrentDaemon %s on %s>' % (self.workdir, self.bind)


# ---------------------------------------------------------------- transmission-daemon

class TransmissionDaemon:
    """transmission-daemon -f -g CONFIG_DIR, its RPC and its peers on one loopback address.

    workdir holds config/ (settings.json, torrents/, resume/), download/ and
    transmission.log.  DHT, LPD, PEX, uTP and port forwarding are off; the RPC whitelist
    is loopback only.  Give an existing workdir to start again on its saved state (the
    settings are rewritten with the same ports).  user/password: RPC authentication.
    It accepts incoming peers on 127.x but never connects out to them (RIG-NOTES)."""

    def __init__(self, workdir=None, bind=None, rpc_port=None, peer_port=None,
                 user=None, password=None, settings=None):
        self.workdir = _workdir(workdir, 'pyrotorrent-rig-transmission-')
        self.bind = bind or address()       # RPC and peers, like an rtorrent's: one address each
        self.rpc_port = rpc_port
        self.peer_port = peer_port
        self.user, self.password = user, password
        self.settings = dict(settings or {})
        self.config_dir = os.path.join(self.workdir, 'config')
        self.download_dir = os.path.join(self.workdir, 'download')
        self.log_path = os.path.join(self.workdir, 'transmission.log')
        self.proc = None
        self._session_id = ''

    @property
    def url(self):
        """The RPC URL, with the credentials in it when authentication is on."""
        auth = ''
        if self.user is not None:
            auth = '%s:%s@' % (urllib.parse.quote(self.user, safe=''),
                               urllib.parse.quote(self.password or '', safe=''))
        return 'http://%s%s:%d/transmission/rpc' % (auth, self.bind, self.rpc_port)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def _write_settings(self, keep=False):
        path = os.path.join(self.config_dir, 'settings.json')
        values = {
            'rpc-enabled': True, 'rpc-bind-address': self.bind, 'rpc-port': self.rpc_port,
            'rpc-whitelist-enabled': True, 'rpc-whitelist': '127.*.*.*',
            'rpc-host-whitelist-enabled': False,
            'rpc-authentication-required': self.user is not None,
            'rpc-username': self.user or '', 'rpc-password': self.password or '',
            'bind-address-ipv4': self.bind, 'bind-address-ipv6': '::1',
            'peer-port': self.peer_port, 'peer-port-random-on-start': False,
            'port-forwarding-enabled': False, 'dht-enabled': False, 'lpd-enabled': False,
            'pex-enabled': False, 'utp-enabled': False, 'blocklist-enabled': False,
            'download-dir': self.download_dir, 'incomplete-dir-enabled': False,
            'watch-dir-enabled': False, 'start-added-torrents': True, 'message-level': 2,
            'ratio-limit-enabled': False, 'idle-seeding-limit-enabled': False,
            'download-queue-enabled': True, 'download-queue-size': 5, 'cache-size-mb': 4,
            'encryption': 1, 'umask': 18,
        }
        values.update(self.settings)
        if keep and os.path.exists(path):       # what it saved, only the addresses and ports the rig's
            with open(path) as f:
                saved = json.load(f)
            saved.update({k: v for k, v in values.items() if k.startswith(('rpc-', 'bind-', 'peer-port'))})
            values = saved
        with open(path, 'w') as f:
            json.dump(values, f, indent=1)

    def start(self, timeout=120.0, keep_settings=False):
        """Start it and wait until its RPC answers session-get (about 1 s; longer with
        thousands of torrents to load).  keep_settings: start on the settings.json it saved
        (what session-set gave it), only its addresses and ports rewritten."""
        if self.proc is not None and self.proc.alive():
            return self
        os.makedirs(self.config_dir, exist_ok=True)
        os.makedirs(self.download_dir, exist_ok=True)
        if self.rpc_port is None:
            self.rpc_port = free_port(self.bind)
        if self.peer_port is None:
            self.peer_port = free_port(self.bind)
        self._write_settings(keep_settings)
        popen = _popen(['transmission-daemon', '-f', '-g', self.config_dir], self.log_path,
                       cwd=self.workdir)
        self.proc = _Proc('transmission-daemon (%s)' % self.workdir, popen, log_path=self.log_path)
        _register(self)
        self.version = self.wait(lambda: self.call('session-get', fields=['version'])['version'],
                                 timeout, 'transmission-daemon to answer session-get on %s:%d'
                                 % (self.bind, self.rpc_port))
        return self

    def _check(self):
        if self.proc is None:
            raise RigError('transmission-daemon (%s) was never started' % self.workdir)
        if not self.proc.alive():
            raise _died(self.proc, 'the rig waited for it')

    def stop(self, timeout=60.0):
        """SIGTERM and wait (it takes over 2 s: it says goodbye to trackers)."""
        code = None
        if self.proc is not None:
            code = self.proc.stop(signal.SIGTERM, grace=timeout)
        _unregister(self)
        return code

    def wait(self, predicate, timeout=30.0, what='the condition', interval=0.05):
        return wait_for(predicate, timeout, what, interval, check=self._check)

    def call(self, method, timeout=30.0, **arguments):
        """One RPC call (the 409 session-id handshake included); its arguments, or RigError
        with Transmission's result text."""
        body = json.dumps({'method': method, 'arguments': arguments}).encode()
        headers = {'Content-Type': 'application/json'}
        if self.user is not None:
            headers['Authorization'] = 'Basic ' + base64.b64encode(
                ('%s:%s' % (self.user, self.password or '')).encode()).decode()
        for _ in range(3):
            conn = http.client.HTTPConnection(self.bind, self.rpc_port, timeout=timeout)
            try:
                conn.request('POST', '/transmission/rpc', body,
                             dict(headers, **{'X-Transmission-Session-Id': self._session_id}))
                response = conn.getresponse()
                data = response.read()
            finally:
                conn.close()
            if response.status == 409:
                self._session_id = response.getheader('X-Transmission-Session-Id', '')
                continue
            if response.status != 200:
                raise RigError('transmission-daemon answered HTTP %d to %s' % (response.status, method))
            answer = json.loads(data)
            if answer.get('result') != 'success':
                raise RigError('transmission-daemon refused %s: %s' % (method, answer.get('result')))
            return answer.get('arguments', {})
        raise RigError('transmission-daemon kept answering 409 to %s' % method)

    def add(self, torrent_bytes, directory=None, paused=False, **more):
        """torrent-add of a .torrent's bytes; returns its info hash (lower case, as
        Transmission says it)."""
        arguments = dict(more, metainfo=base64.b64encode(bytes(torrent_bytes)).decode(), paused=paused)
        if directory is not None:
            arguments['download-dir'] = os.path.abspath(directory)
        answer = self.call('torrent-add', **arguments)
        return (answer.get('torrent-added') or answer.get('torrent-duplicate'))['hashString']

    def torrents(self, fields, ids=None):
        """torrent-get: one dict a torrent."""
        arguments = {'fields': list(fields)}
        if ids is not None:
            arguments['ids'] = list(ids)
        return self.call('torrent-get', **arguments)['torrents']

    def __repr__(self):
        return '<TransmissionDaemon %s on %s:%s>' % (self.workdir, self.bind, self.rpc_port)


# ---------------------------------------------------------------- a real swarm

# name, size, files (1 = single file), label, leecher downloads it
SWARM_TORRENTS = [
    # rtorrent rejects a name holding "/" (it is a path element): no "</b>" in a name; the
    # label, a free string, carries it.
    ('<b>Bold<\\b> & "Quotes" \'n\' stuff', 48 * 1024, 1, '<b>Bold</b> & "Quotes", \'n\' stuff', True),
    ('日本語 Ünïcødé', 300 * 1024, 1, '日本語', False),
    ('Multi-file album (2024)', 2 * 1024 * 1024,
     ['01 - Intro.flac', '02 - Theme & Variations.flac', 'Extras/cover art.jpg', 'Extras/notes.txt'],
     'Music', False),
    ('plain-small.txt', 4 * 1024, 1, None, False),
    ('plain-large.iso', 20 * 1024 * 1024, 1, 'Linux ISOs', True),
]


@contextlib.contextmanager
def seeder_and_leecher(workdir, seeder_bind=None, leecher_bind=None, down_kib=None):
    """(seeder, leecher), two rtorrent daemons started in workdir/seeder and workdir/leecher
    (each on its own address() unless given one), the leecher's downloads throttled to
    down_kib KiB/s (so a transfer lasts long enough to be watched); both stopped afterwards."""
    seeder = RTorrentDaemon(os.path.join(workdir, 'seeder'), bind=seeder_bind)
    leecher = RTorrentDaemon(os.path.join(workdir, 'leecher'), bind=leecher_bind,
                             extra_rc='' if down_kib is None
                             else 'throttle.global_down.max_rate.set_kb = %d' % down_kib)
    try:
        seeder.start()
        leecher.start()
        yield seeder, leecher
    finally:
        leecher.stop()
        seeder.stop()


class Swarm:
    """A tracker, a seeder and a leecher (each on its own address()), sharing real torrents.

    The seeder seeds every torrent of SWARM_TORRENTS (awkward names, labels on some, a
    multi-file one, 4 KB to 20 MB); once its first announce succeeded, the leecher loads the
    ones marked to download and fetches them completely through the tracker.

    .torrents: list of dicts with name, hash, label, size, files, downloaded (bool),
    torrent (bytes), torrent_path, data_path.  .timings: seconds per step of start()."""

    def __init__(self, workdir=None, specs=None, seeder_bind=None, leecher_bind=None,
                 scgi='unix', tracker_host='127.0.0.1'):
        self.workdir = _workdir(workdir, 'pyrotorrent-rig-swarm-')
        self.specs = list(specs if specs is not None else SWARM_TORRENTS)
        self.tracker = Tracker(os.path.join(self.workdir, 'tracker'), host=tracker_host)
        self.seeder = RTorrentDaemon(os.path.join(self.workdir, 'seeder'), bind=seeder_bind, scgi=scgi)
        self.leecher = RTorrentDaemon(os.path.join(self.workdir, 'leecher'), bind=leecher_bind, scgi=scgi)
        self.data_dir = os.path.join(self.workdir, 'data')
        self.torrents = []
        self.timings = {}

    @property
    def downloaded(self):
        return [t for t in self.torrents if t['downloaded']]

    def start(self, timeout=60.0):
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _step(self, name, t0):
        now = time.monotonic()
        self.timings[name] = round(now - t0, 3)
        return now

    def _start(self, timeout):
        t_begin = t0 = time.monotonic()
        self.tracker.start()
        self.seeder.start()
        self.leecher.start()
        t0 = self._step('daemons', t0)

        for name, size, files, label, download in self.specs:
            path = make_payload(self.data_dir, name, size, files)
            torrent_path = os.path.join(self.workdir, 'torrents', 'torrent-%d.torrent' % len(self.torrents))
            data = make_torrent(path, self.tracker.announce_url, torrent_path,
                                piece_size_exp=15 if size < 1 << 20 else 18)
            self.torrents.append({
                'name': name, 'hash': bencode.info_hash(data), 'label': label, 'size': size,
                'files': 1 if files == 1 else len(files) if not isinstance(files, int) else files,
                'downloaded': bool(download), 'torrent': data, 'torrent_path': torrent_path,
                'data_path': path,
            })
        t0 = self._step('payloads', t0)

        self.tracker.allow([t['hash'] for t in self.torrents])
        t0 = self._step('whitelist', t0)

        for t in self.torrents:
            self.seeder.load(t['torrent'], directory=self.data_dir, start=True, label=t['label'])
        wanted = {t['hash'] for t in self.torrents}

        def seeding_and_announced():
            complete = {h for h, c in self.seeder.rows(['d.hash', 'd.complete']) if c == 1}
            if not wanted <= complete:
                return False
            for h in wanted:
                counters = self.seeder.call('t.multicall', h, '', 't.success_counter=')
                if not counters or counters[0][0] < 1:
                    return False
            return True
        self.seeder.wait(seeding_and_announced, timeout,
                         'the seeder to check its data and announce every torrent to the tracker')
        t0 = self._step('seeder', t0)

        fetch = [t for t in self.torrents if t['downloaded']]
        for t in fetch:
            self.leecher.load(t['torrent'], directory=self.leecher.download_dir, start=True,
                              label=t['label'])
        fetch_hashes = {t['hash'] for t in fetch}

        def leecher_done():
            return fetch_hashes <= {h for h, c in self.leecher.rows(['d.hash', 'd.complete']) if c == 1}
        self.leecher.wait(leecher_done, timeout, 'the leecher to download %s from the seeder'
                          % ', '.join(repr(t['name']) for t in fetch))
        self._step('leecher', t0)
        self.timings['total'] = round(time.monotonic() - t_begin, 3)

    def stop(self):
        """Stop all three (in parallel: one shared grace period)."""
        for d in (self.leecher, self.seeder):
            if d.proc is not None and d.proc.alive():
                d.proc.send(signal.SIGTERM)
        self.tracker.stop()
        self.leecher.stop()
        self.seeder.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- web front ends

class Lighttpd:
    """lighttpd -D -f workdir/lighttpd.conf, with the config text you give.

    The port and address are read from server.port / server.bind in the text (or given).
    Keep the log folder writable by the user lighttpd runs as: without server.username
    (as here) that is the user running the tests.  The config is checked with -tt first."""

    def __init__(self, workdir, config_text, port=None, host=None):
        self.workdir = _workdir(workdir, 'pyrotorrent-rig-lighttpd-')
        self.config_text = config_text
        self.config_path = os.path.join(self.workdir, 'lighttpd.conf')
        self.log_path = os.path.join(self.workdir, 'lighttpd.out')
        if port is None:
            m = re.search(r'^\s*server\.port\s*=\s*(\d+)', config_text, re.M)
            if not m:
                raise ValueError('the lighttpd config sets no server.port (or pass port=)')
            port = int(m.group(1))
        if host is None:
            m = re.search(r'^\s*server\.bind\s*=\s*"([^"]+)"', config_text, re.M)
            host = m.group(1) if m and m.group(1) not in ('0.0.0.0', '::') else '127.0.0.1'
        self.port = port
        self.host = host
        self.proc = None

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def start(self, timeout=10.0):
        if self.proc is not None and self.proc.alive():
            return self
        with open(self.config_path, 'w') as f:
            f.write(self.config_text)
        try:
            check = subprocess.run(['lighttpd', '-tt', '-f', self.config_path], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        except FileNotFoundError:
            raise RigError('lighttpd is not installed (apt-get install lighttpd)') from None
        if check.returncode != 0:
            raise RigError('lighttpd refuses %s: %s' % (self.config_path,
                                                       check.stdout.decode('utf-8', 'replace').strip()))
        popen = _popen(['lighttpd', '-D', '-f', self.config_path], self.log_path, cwd=self.workdir)
        self.proc = _Proc('lighttpd', popen, log_path=self.log_path)
        _register(self)
        wait_for(lambda: port_accepts(self.host, self.port), timeout,
                 'lighttpd to listen on %s:%d' % (self.host, self.port), check=self._check)
        return self

    def _check(self):
        if not self.proc.alive():
            raise _died(self.proc, 'the rig waited for it to listen')

    def stop(self):
        if self.proc is not None:
            self.proc.stop(signal.SIGTERM, grace=5.0)
        _unregister(self)


class FcgiProcess:
    """A FastCGI application started by spawn_fcgi(); .pid, .socket_path, .stop()."""

    def __init__(self, proc, socket_path):
        self.proc = proc
        self.socket_path = socket_path

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.alive()

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def stop(self, grace=5.0):
        self.proc.stop(signal.SIGTERM, grace=grace)
        _unregister(self)
        if os.path.exists(self.socket_path):
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass


def spawn_fcgi(socket_path, argv, cwd=None, env=None, fork=False, log_path=None, extra_args=()):
    """Run argv as a FastCGI app on the unix socket socket_path through spawn-fcgi.

    fork=False: `spawn-fcgi -s SOCK -n -- argv...`, spawn-fcgi execs the app in place (our
    child, output to log_path).  fork=True: spawn-fcgi forks it and exits; the app's pid comes
    from `-P pidfile`.  Either way the app is registered for cleanup.  Run it as the user
    running the tests (RIG-NOTES pitfall 7: another user may not be able to run our python)."""
    socket_path = os.path.abspath(socket_path)
    log_path = log_path or socket_path + '.log'
    base = ['spawn-fcgi', '-s', socket_path] + list(extra_args)
    if not fork:
        popen = _popen(base + ['-n', '--'] + list(argv), log_path, cwd=cwd, env=env)
        proc = _Proc('spawn-fcgi %s' % os.path.basename(argv[0]), popen, log_path=log_path)
        handle = FcgiProcess(proc, socket_path)
        _register(handle)
        def check():
            if not proc.alive():
                raise _died(proc, 'starting the FastCGI app')
        wait_for(lambda: os.path.exists(socket_path), 10, 'spawn-fcgi to create ' + socket_path,
                 check=check)
        return handle
    pid_file = socket_path + '.pid'
    if os.path.exists(pid_file):
        os.unlink(pid_file)
    with open(log_path, 'ab') as log:
        try:
            done = subprocess.run(base + ['-P', pid_file, '--'] + list(argv), cwd=cwd, env=env,
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  timeout=30)
        except FileNotFoundError:
            raise RigError('spawn-fcgi is not installed (apt-get install spawn-fcgi)') from None
    if done.returncode != 0:
        raise RigError('spawn-fcgi failed (code %d): %s' % (done.returncode, log_tail(log_path)))
    with open(pid_file) as f:
        pid = int(f.read().strip())
    handle = FcgiProcess(_Proc('fastcgi app %s' % os.path.basename(argv[0]), pid=pid,
                               log_path=log_path), socket_path)
    _register(handle)
    return handle
