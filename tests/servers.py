"""The servers of a scaled-out pyroTorrent, from Debian's archive, for the tests: PostgreSQL
(initdb + pg_ctl in a temporary folder, as the `postgres` user when the tests run as root:
it refuses root), redis-server, memcached, nginx, and pyroTorrent's own FastCGI processes
on TCP addresses.  Each listens on loopback only (a free port or a unix socket) and is
stopped at exit by tests/rig.py like every other daemon it started.

    pg = Postgres().start();  url = pg.database('test1')   # postgresql://...?host=SOCKETDIR
    redis = Redis().start();  redis.url                     # redis://127.0.0.1:PORT/0
    mc = Memcached().start(); mc.address                    # 127.0.0.1:PORT
    fcgi = FcgiTcp(config_path).start()                     # pyrotorrent.py --fcgi 127.0.0.1:PORT
    hook = Receiver();        hook.url                      # keeps what a webhook POSTs to it
    QuietHandler                                            # http.server's file handler, no log
"""
import http.server
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from tests import rig
from tests.rig import RigError, _Proc, _popen, _register, _unregister, free_port, port_accepts, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = '/usr/lib/postgresql/15/bin'


def _pg_bin(name):
    for folder in sorted((os.path.join('/usr/lib/postgresql', v, 'bin') for v in os.listdir('/usr/lib/postgresql')),
                         reverse=True) if os.path.isdir('/usr/lib/postgresql') else ():
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise RigError('PostgreSQL is not installed (apt-get install postgresql)')


def _shared_dir(prefix, owner=None):
    """A temporary folder another user (`owner`) may own: under /tmp, not the rig's private one."""
    path = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    rig._TEMP_DIRS.append(path)
    return path


class Postgres:
    """A PostgreSQL cluster of its own: initdb in a temporary folder, `postgres` listening on a
    unix socket there and on 127.0.0.1:port, trust authentication for the superuser
    `pyrotorrent`.  Run as the `postgres` user (runuser) when the tests run as root."""

    USER = 'pyrotorrent'

    def __init__(self):
        self.as_user = None
        if os.geteuid() == 0:
            try:
                self.as_user = pwd.getpwnam('postgres')
            except KeyError:
                raise RigError('the tests run as root, and PostgreSQL refuses root: there is no '
                               '"postgres" user (apt-get install postgresql makes it)') from None
        self.workdir = _shared_dir('pyrotorrent-pg-', self.as_user)
        self.data = os.path.join(self.workdir, 'data')
        self.socket_dir = self.workdir
        self.log_path = os.path.join(self.workdir, 'postgres.log')
        self.port = free_port()
        self.proc = None

    def _run(self, argv, timeout=120):
        if self.as_user is not None:
            argv = ['runuser', '-u', self.as_user.pw_name, '--'] + argv
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=self.workdir, timeout=timeout)
        if done.returncode != 0:
            raise RigError('%s failed (code %d): %s' % (' '.join(argv), done.returncode,
                                                       done.stdout.decode('utf-8', 'replace')[-2000:]))
        return done.stdout.decode('utf-8', 'replace')

    def _procs(self):
        return [(self.proc, signal.SIGINT)]      # SIGINT: PostgreSQL's fast shutdown

    def start(self):
        self._run([_pg_bin('initdb'), '-D', self.data, '-U', self.USER, '--auth=trust', '-E', 'UTF8',
                   '--no-sync', '--locale=C.UTF-8'])
        options = "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='%s' -c fsync=off " \
                  "-c max_connections=100 -c shared_buffers=32MB" % (self.port, self.socket_dir)
        self._run([_pg_bin('pg_ctl'), '-D', self.data, '-l', self.log_path, '-w', '-t', '60', '-o', options, 'start'])
        with open(os.path.join(self.data, 'postmaster.pid')) as f:
            self.proc = _Proc('postgres', pid=int(f.readline()), log_path=self.log_path)
        _register(self)
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.stop(signal.SIGINT, grace=30.0)
        _unregister(self)

    def url(self, database='postgres'):
        return 'postgresql://%s@/%s?host=%s&port=%d' % (self.USER, database, self.socket_dir, self.port)

    def tcp_url(self, database='postgres'):
        return 'postgresql://%s@127.0.0.1:%d/%s' % (self.USER, self.port, database)

    def database(self, name):
        """A new, empty database `name`; its URL (over the unix socket)."""
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute('DROP DATABASE IF EXISTS "%s"' % name)
            db.execute('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def query(self, database, sql, params=()):
        import psycopg
        with psycopg.connect(self.url(database), autocommit=True) as db:
            cursor = db.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


class _Daemon:
    """One foreground daemon on 127.0.0.1:port, its output in a log file."""
    name = ''

    def __init__(self):
        self.workdir = rig.make_workdir('pyrotorrent-%s-' % self.name)
        self.log_path = os.path.join(self.workdir, '%s.log' % self.name)
        self.port = free_port()
        self.proc = None

    def argv(self):
        raise NotImplementedError

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def start(self, timeout=20.0):
        if shutil.which(self.argv()[0]) is None:
            raise RigError('%s is not installed (apt-get install %s)' % (self.argv()[0], self.package))
        self.proc = _Proc(self.name, _popen(self.argv(), self.log_path, cwd=self.workdir), log_path=self.log_path)
        _register(self)

        def check():
            if not self.proc.alive():
                raise rig._died(self.proc, 'the rig waited for it to listen')
        wait_for(lambda: port_accepts(getattr(self, 'host', '127.0.0.1'), self.port), timeout,
                 '%s to listen' % self.name, check=check)
        return self

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def stop(self):
        if self.proc is not None:
            self.proc.stop(signal.SIGTERM, grace=5.0)
        _unregister(self)


class Redis(_Daemon):
    name, package = 'redis', 'redis-server'

    def argv(self):
        return ['redis-server', '--bind', '127.0.0.1', '--port', str(self.port), '--save', '',
                '--appendonly', 'no', '--dir', self.workdir, '--protected-mode', 'yes']

    @property
    def url(self):
        return 'redis://127.0.0.1:%d/0' % self.port


class Memcached(_Daemon):
    name, package = 'memcached', 'memcached'

    def argv(self):
        user = ['-u', 'nobody'] if os.geteuid() == 0 else []     # it refuses root without -u
        return ['memcached', '-l', '127.0.0.1', '-p', str(self.port), '-U', '0', '-m', '64'] + user

    @property
    def address(self):
        return '127.0.0.1:%d' % self.port


class Nginx(_Daemon):
    """nginx -p WORKDIR -c nginx.conf -g 'daemon off;' with the config text you give (its
    'listen' is {port}, its prefix {prefix}); checked with -t first."""
    name, package = 'nginx', 'nginx'

    def __init__(self, config_text):
        super().__init__()
        self.config_path = os.path.join(self.workdir, 'nginx.conf')
        self.config_text = config_text.replace('{port}', str(self.port)).replace('{prefix}', self.workdir)

    def argv(self):
        return ['nginx', '-p', self.workdir + '/', '-c', self.config_path, '-g', 'daemon off;']

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self, timeout=20.0):
        os.makedirs(os.path.join(self.workdir, 'logs'), exist_ok=True)
        with open(self.config_path, 'w') as f:
            f.write(self.config_text)
        if shutil.which('nginx') is None:
            raise RigError('nginx is not installed (apt-get install nginx)')
        check = subprocess.run(['nginx', '-t'] + self.argv()[1:5], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if check.returncode != 0:
            raise RigError('nginx refuses %s: %s' % (self.config_path, check.stdout.decode('utf-8', 'replace')))
        return super().start(timeout)


class FcgiTcp(_Daemon):
    """pyrotorrent.py --fcgi 127.0.0.1:PORT --config CONFIG: one FastCGI process of pyroTorrent."""
    name, package = 'pyrotorrent-fcgi', 'python3'

    def __init__(self, config_path, host='127.0.0.1'):
        super().__init__()
        self.config_path, self.host = config_path, host
        self.port = free_port(host)

    def argv(self):
        return [sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', self.config_path,
                '--fcgi', '%s:%d' % (self.host, self.port)]

    @property
    def pid(self):
        return self.proc.pid

    def kill(self):
        self.proc.send(signal.SIGKILL)
        self.proc.wait(5.0)


class Receiver(http.server.ThreadingHTTPServer):
    """Keeps what it is POSTed; answers with `status` (a list: one a request, the last repeated)."""

    def __init__(self, statuses=(204,)):
        self.bodies, self.statuses = [], list(statuses)
        super().__init__(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d/hook' % self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):
    """Receiver's handler: keeps each POST's content type and JSON body, answers the next status."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.bodies.append((self.headers['Content-Type'], json.loads(body)))
        status = self.server.statuses.pop(0) if len(self.server.statuses) > 1 else self.server.statuses[0]
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder's files (functools.partial(QuietHandler, directory=...)), logging nothing."""

    def log_message(self, *args):
        pass
