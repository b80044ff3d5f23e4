"""qbittorrent-nox 4.5.x (WebUI API v2) for the tests, on a loopback address of its own.

    QBittorrentDaemon   qbittorrent-nox --profile=DIR, its WebUI and its peers on one address

Its qBittorrent.conf is written before the first start (else it stops at an interactive legal
notice): the legal notice accepted, the WebUI on its own address and port with a user and a
PBKDF2 password, no UPnP, DHT, local discovery and PeX off, its own profile folder, no
geolocation download.  It logs "Failed to find the configured network address" for an address
lo does not list (127.10.x.x), then listens on it all the same.  Process
handling, workdirs, ports and addresses are tests/rig.py's (the daemon is stopped with the others).
"""
import base64
import hashlib
import json
import os
import signal
import urllib.parse

import requests

from tests import rig

__all__ = ['QBittorrentDaemon', 'password_hash']


def password_hash(password, salt=None):
    """WebUI\\Password_PBKDF2's value: @ByteArray(SALT:KEY), PBKDF2-HMAC-SHA512, 100,000 rounds."""
    salt = os.urandom(16) if salt is None else salt
    key = hashlib.pbkdf2_hmac('sha512', password.encode('utf-8'), salt, 100000, 64)
    return '"@ByteArray(%s:%s)"' % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


class QBittorrentDaemon:
    """qbittorrent-nox with its own profile folder (workdir/profile), download/ and log.

    bind: the address of its WebUI and of its peer connections (rig.address() when None).
    Give an existing workdir to start again on its saved state; the addresses, ports and
    credentials are written again, the rest (what the WebUI set) kept.  conf: more
    {'[Section] Key': value} lines, e.g. {'[Preferences] WebUI\\\\MaxAuthenticationFailCount': 2}."""

    def __init__(self, workdir=None, bind=None, webui_port=None, peer_port=None,
                 user='pyro', password='qbit-secret', conf=None):
        self.workdir = rig._workdir(workdir, 'pyrotorrent-rig-qbittorrent-')
        self.bind = bind or rig.address()
        self.webui_port, self.peer_port = webui_port, peer_port
        self.user, self.password = user, password
        self.conf = dict(conf or {})
        self.profile = os.path.join(self.workdir, 'profile')
        self.conf_path = os.path.join(self.profile, 'qBittorrent', 'config', 'qBittorrent.conf')
        self.download_dir = os.path.join(self.workdir, 'download')
        self.log_path = os.path.join(self.workdir, 'qbittorrent.log')
        self.proc = None
        self.session = None

    @property
    def base(self):
        return 'http://%s:%d' % (self.bind, self.webui_port)

    @property
    def url(self):
        """The target URL pyroTorrent is given: the WebUI's, with the credentials in it."""
        return 'http://%s:%s@%s:%d/' % (urllib.parse.quote(self.user, safe=''),
                                        urllib.parse.quote(self.password, safe=''), self.bind, self.webui_port)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def _procs(self):
        return [(self.proc, signal.SIGTERM)]

    def _write_conf(self):
        values = {          # written at every start: where it is and who may log in
            '[LegalNotice] Accepted': 'true',
            '[BitTorrent] Session\\Port': self.peer_port,
            '[BitTorrent] Session\\InterfaceAddress': self.bind,
            '[Preferences] WebUI\\Address': self.bind,
            '[Preferences] WebUI\\Port': self.webui_port,
            '[Preferences] WebUI\\ServerDomains': self.bind,        # its default '*' takes any Host
            '[Preferences] WebUI\\Username': self.user,
            '[Preferences] WebUI\\Password_PBKDF2': password_hash(self.password),
        }
        defaults = {        # the first start's; later what it saved stays (what the WebUI set)
            '[BitTorrent] Session\\DefaultSavePath': self.download_dir,
            '[BitTorrent] Session\\TempPathEnabled': 'false',
            '[BitTorrent] Session\\DHTEnabled': 'false',
            '[BitTorrent] Session\\LSDEnabled': 'false',
            '[BitTorrent] Session\\PeXEnabled': 'false',
            '[BitTorrent] Session\\AnonymousModeEnabled': 'false',
            '[BitTorrent] Session\\QueueingSystemEnabled': 'true',
            '[BitTorrent] Session\\AddTrackersEnabled': 'false',
            '[Preferences] Connection\\UPnP': 'false',
            '[Preferences] Connection\\ResolvePeerCountries': 'false',    # else it fetches a geolocation database
            '[Preferences] General\\Locale': 'en',
            '[Preferences] WebUI\\LocalHostAuth': 'true',
            '[Preferences] WebUI\\CSRFProtection': 'true',
            '[Preferences] WebUI\\HostHeaderValidation': 'true',
            '[Preferences] WebUI\\UseUPnP': 'false',
        }
        kept = dict(defaults)
        if os.path.exists(self.conf_path):          # a restart: what the WebUI set stays
            section = ''
            with open(self.conf_path, encoding='utf-8') as f:
                for line in f:
                    line = line.rstrip('\n')
                    if line.startswith('['):
                        section = line
                    elif '=' in line:
                        key, value = line.split('=', 1)
                        kept['%s %s' % (section, key)] = value
        kept.update(values)
        kept.update(self.conf)
        sections = {}
        for name, value in kept.items():
            section, key = name.split(' ', 1)
            sections.setdefault(section, []).append('%s=%s' % (key, value))
        os.makedirs(os.path.dirname(self.conf_path), exist_ok=True)
        with open(self.conf_path, 'w', encoding='utf-8') as f:
            for section, lines in sections.items():
                f.write('%s\n%s\n\n' % (section, '\n'.join(lines)))

    def start(self, timeout=60.0):
        """Start it and wait until its WebUI takes the rig's login (about 1 s)."""
        if self.proc is not None and self.proc.alive():
            return self
        os.makedirs(self.download_dir, exist_ok=True)
        if self.webui_port is None:
            self.webui_port = rig.free_port(self.bind)
        if self.peer_port is None:
            self.peer_port = rig.free_port(self.bind)
        self._write_conf()
        popen = rig._popen(['qbittorrent-nox', '--profile=' + self.profile], self.log_path, cwd=self.workdir)
        self.proc = rig._Proc('qbittorrent-nox (%s)' % self.workdir, popen, log_path=self.log_path)
        rig._register(self)
        self.session = None
        self.version = self.wait(lambda: self.get('app/version').text, timeout,
                                 'qbittorrent-nox to answer on %s' % self.base)
        return self

    def _check(self):
        if self.proc is None:
            raise rig.RigError('qbittorrent-nox (%s) was never started' % self.workdir)
        if not self.proc.alive():
            raise rig._died(self.proc, 'the rig waited for it')

    def stop(self, timeout=30.0):
        code = None
        if self.proc is not None:
            code = self.proc.stop(signal.SIGTERM, grace=timeout)
        rig._unregister(self)
        self.session = None
        return code

    def wait(self, predicate, timeout=30.0, what='the condition', interval=0.05):
        return rig.wait_for(predicate, timeout, what, interval, check=self._check)

    # -- its WebUI API, logged in as the rig's user

    def _login(self):
        session = requests.Session()
        session.headers['Referer'] = self.base + '/'
        answer = session.post(self.base + '/api/v2/auth/login', timeout=10,
                              data={'username': self.user, 'password': self.password})
        if answer.status_code != 200 or answer.text != 'Ok.':
            raise rig.RigError('qbittorrent-nox refused the rig login: HTTP %d %r'
                               % (answer.status_code, answer.text[:200]))
        self.session = session

    def _call(self, verb, method, **kwargs):
        if self.session is None:
            self._login()
        answer = self.session.request(verb, '%s/api/v2/%s' % (self.base, method), timeout=30, **kwargs)
        if answer.status_code == 403:
            self._login()
            answer = self.session.request(verb, '%s/api/v2/%s' % (self.base, method), timeout=30, **kwargs)
        if answer.status_code != 200:
            raise rig.RigError('qbittorrent-nox answered HTTP %d to %s: %r'
                               % (answer.status_code, method, answer.text[:300]))
        return answer

    def get(self, method, **params):
        return self._call('GET', method, params=params)

    def post(self, method, files=None, **data):
        return self._call('POST', method, data=data, files=files)

    def json(self, method, **params):
        return json.loads(self.get(method, **params).text)

    def torrents(self, hashes=None, **params):
        """torrents/info: one dict a torrent (hashes: a list, lower case or upper)."""
        if hashes is not None:
            params['hashes'] = '|'.join(h.lower() for h in hashes)
        return self.json('torrents/info', **params)

    def torrent(self, info_hash):
        found = self.torrents([info_hash])
        return found[0] if found else None

    def add(self, torrent_bytes, directory=None, paused=False, category=None, tags=None, skip_checking=False):
        """torrents/add of a .torrent's bytes; returns its info hash (upper case) once listed."""
        data = {'paused': 'true' if paused else 'false', 'skip_checking': 'true' if skip_checking else 'false'}
        if directory is not None:
            data['savepath'] = os.path.abspath(directory)
        if category is not None:
            data['category'] = category
        if tags:
            data['tags'] = ','.join(tags)
        answer = self.post('torrents/add', files={'torrents': ('x.torrent', bytes(torrent_bytes),
                                                               'application/x-bittorrent')}, **data)
        if answer.text.strip() != 'Ok.':
            raise rig.RigError('qbittorrent-nox did not take the torrent: %r' % answer.text[:200])
        h = rig.bencode.info_hash(bytes(torrent_bytes)).upper()
        self.wait(lambda: self.torrent(h), 10, 'qbittorrent-nox to list %s' % h)
        return h

    def __repr__(self):
        return '<QBittorrentDaemon %s on %s:%s>' % (self.workdir, self.bind, self.webui_port)
