"""Reading config.py: a Python module, as in the setup manual, checked key by key.

A mistake stops start-up with one line that names the key and what is wrong with it
(ConfigError); the settings come back as a Config with every default filled in.
"""
import dataclasses
import difflib
import importlib.machinery
import importlib.util
import ipaddress
import os
import re
import types
import urllib.parse
import zoneinfo

from lib import sessions
from lib.auth import NOBODY, ROLES, User, is_password_hash
from lib.transport import MAX_ANSWER_BYTES, BadURL, redacted, transport_for

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'config.py')
TARGET_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
TARGET_KEYS = {'client', 'url', 'timeout', 'path_map', 'download_roots', 'local', 'add_directories'}
LEGACY_KEYS = {'host', 'port', 'url', 'timeout'}
DEFAULT_STORE = 'data/store.sqlite3'   # beside config.py (Config.store_url says why)
MIN_UPLOAD, MAX_UPLOAD = 64 * 1024, 1024 ** 3     # bounds of MAX_UPLOAD_BYTES
MIN_ANSWER, MAX_ANSWER = 1024 ** 2, 2 * 1024 ** 3  # bounds of MAX_ANSWER_BYTES


class ConfigError(Exception):
    """One line: which setting, what is wrong."""


@dataclasses.dataclass(frozen=True)
class Target:
    """One rTorrent.  path_map, download_roots and local say what pyroTorrent may see and
    delete of its disk (lib/paths.py explains how they are used)."""
    name: str
    url: str
    timeout: float = 10.0
    path_map: tuple = ()                 # ((rtorrent_prefix, local_prefix), ...), longest first
    download_roots: tuple = ()           # rtorrent-side folders where data may be deleted
    local: bool = None                   # None: guessed from the URL (lib.paths.is_local_url)
    add_directories: tuple = ()          # rtorrent-side folders a user may add torrents into
    client: str = 'rtorrent'             # which client it is (model.CLIENTS)


@dataclasses.dataclass(frozen=True)
class Config:
    targets: tuple                       # of Target, in the order the file gives them
    BASE_URL: str = '/torrent'
    STATIC_URL: str = '/static/torrent'
    session_options: dict = dataclasses.field(default_factory=dict)
    PAGE_SIZE: int = 50                  # rows on one page of a torrent list
    REFRESH_SECONDS: int = 5             # how often live pages (lists, torrent, front) refresh; 0: never
    TIMEOUT: float = 10.0                # default timeout of a target, in seconds
    CACHE_SECONDS: int = 600             # how long what a daemon offers (its method list) is kept
    users: dict = dataclasses.field(default_factory=dict)   # name -> lib.auth.User
    AUTH: bool = True                    # False: no login at all, on any address (say so on purpose)
    FETCH_ALLOW_PRIVATE: bool = False    # links to add may point at loopback, private, link-local...
    FETCH_ALLOW_NETWORKS: tuple = ()     # networks links to add may point into anyway ('192.168.1.0/24')
    MAX_UPLOAD_BYTES: int = 20 * 1024 * 1024   # the largest request body (an add page's uploads)
    ALLOWED_HOSTS: tuple = ()            # host names pyroTorrent answers to besides its own ('.lan': a suffix)
    STORE: str = ''                      # pyroTorrent's own store ('': DEFAULT_STORE beside config.py; or postgresql://...)
    WORKER_TICK_SECONDS: float = 5.0     # how often the worker looks at every target
    MAX_ANSWER_BYTES: int = MAX_ANSWER_BYTES   # the largest answer taken from a target
    STATS_SECONDS: float = 60.0          # how often the worker samples transfer totals (10-300)
    EVENTS_SECONDS: float = 15.0         # how often events, schedules and rules look at every torrent (5-300)
    STALLED_SECONDS: float = 300.0       # downloading with nothing coming in this long is 'stalled' (30-86400)
    TIME_ZONE: str = ''                  # the zone days and months are counted in ('': the system's)
    STATS_TORRENT_DAYS: float = None     # a removed torrent's own history kept this long (None: forever)
    STATS_MONTHLY_CAP: object = None     # bytes up + down a month: one number (all targets) or {target: bytes}
    METRICS: tuple = ()                  # networks that may read /metrics without a login; (): off
    METRICS_TORRENTS: bool = False       # /metrics also gives one series a torrent
    SHARED_COUNTERS: str = ''            # redis://... or memcached://...: the login throttle shared by all processes
    WEBHOOK_URL: str = ''                # events are POSTed here as JSON ('': none)
    EVENTS_KEEP_DAYS: float = 90.0       # how long events are kept (None: for ever); pruned hourly by the worker
    path: str = ''

    @property
    def store_url(self):
        """The store's URL or path, a relative one taken from config.py's folder: beside the
        configuration, every process that reads it (the web server's, the worker) finds the
        same store whichever user it runs as (a home folder would differ between them)."""
        return self.STORE or DEFAULT_STORE

    @property
    def store_base(self):
        return os.path.dirname(os.path.abspath(self.path or DEFAULT_PATH))

    def user(self, name):
        """The User by name; with no users configured, the one nobody who may do all."""
        if not self.users:
            return NOBODY
        return self.users.get(name)

    def target(self, name):
        for target in self.targets:
            if target.name == name:
                return target
        return None


SETTINGS = {f.name for f in dataclasses.fields(Config)} - {'path'} | {'rtorrent_config'}
USER_KEYS = {'password', 'role', 'targets'}


def load(path=None):
    """The Config from `path`, else $PYROTORRENT_CONFIG, else config.py beside pyrotorrent.py."""
    path = path or os.environ.get('PYROTORRENT_CONFIG') or DEFAULT_PATH
    if not os.path.exists(path):
        raise ConfigError('%s: no such file (copy config.py.example to config.py, or set '
                          'PYROTORRENT_CONFIG to your configuration file)' % path)
    # An explicit loader, so a file named config.py.example loads too.
    loader = importlib.machinery.SourceFileLoader('pyrotorrent_config', path)
    spec = importlib.util.spec_from_file_location('pyrotorrent_config', path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        where = ''
        if isinstance(exc, SyntaxError) and exc.lineno:
            where = ' (line %d)' % exc.lineno
        raise ConfigError('%s: cannot be read%s: %s: %s' % (path, where, exc.__class__.__name__, exc)) from None
    values = {k: v for k, v in vars(module).items()
              if not k.startswith('_') and not isinstance(v, types.ModuleType)}
    return from_dict(values, path)


def from_dict(values, path='config.py'):
    """Check a dict of settings as a config.py would give them."""
    def fail(message):
        raise ConfigError('%s: %s' % (path, message))

    for key in values:
        if key not in SETTINGS:
            close = difflib.get_close_matches(key, sorted(SETTINGS), n=1)
            hint = ' (did you mean %s?)' % close[0] if close else ' (known: %s)' % ', '.join(sorted(SETTINGS))
            fail('unknown setting %r%s' % (key, hint))
    settings = {}
    for key in ('BASE_URL', 'STATIC_URL'):
        if key in values:
            value = values[key]
            if not isinstance(value, str) or (value and not value.startswith('/')):
                fail('%s must be a path that begins with "/", like "/torrent", not %r' % (key, value))
            settings[key] = value.rstrip('/')
    for key in ('PAGE_SIZE', 'REFRESH_SECONDS', 'CACHE_SECONDS'):
        if key in values:
            value = values[key]
            low = 1 if key == 'PAGE_SIZE' else 0
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 100000:
                fail('%s must be a whole number from %d to 100000, not %r' % (key, low, value))
            settings[key] = value
    if 'MAX_UPLOAD_BYTES' in values:
        value = values['MAX_UPLOAD_BYTES']
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_UPLOAD <= value <= MAX_UPLOAD:
            fail('MAX_UPLOAD_BYTES must be a whole number of bytes from %d (64 KiB) to %d (1 GiB), '
                 'not %r' % (MIN_UPLOAD, MAX_UPLOAD, value))
        settings['MAX_UPLOAD_BYTES'] = value
    if 'MAX_ANSWER_BYTES' in values:
        value = values['MAX_ANSWER_BYTES']
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_ANSWER <= value <= MAX_ANSWER:
            fail('MAX_ANSWER_BYTES must be a whole number of bytes from %d (1 MiB) to %d (2 GiB), '
                 'not %r' % (MIN_ANSWER, MAX_ANSWER, value))
        settings['MAX_ANSWER_BYTES'] = value
    if 'FETCH_ALLOW_PRIVATE' in values:
        if not isinstance(values['FETCH_ALLOW_PRIVATE'], bool):
            fail('FETCH_ALLOW_PRIVATE must be True or False, not %r' % (values['FETCH_ALLOW_PRIVATE'],))
        settings['FETCH_ALLOW_PRIVATE'] = values['FETCH_ALLOW_PRIVATE']
    if 'FETCH_ALLOW_NETWORKS' in values:
        settings['FETCH_ALLOW_NETWORKS'] = _networks(values['FETCH_ALLOW_NETWORKS'], 'FETCH_ALLOW_NETWORKS',
                                                     ' like ["192.168.1.0/24"]',
                                                     'like "192.168.1.0/24" or "fd00::/8"', fail)
    if 'ALLOWED_HOSTS' in values:
        hosts = values['ALLOWED_HOSTS']
        if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)) or not all(
                isinstance(h, str) and h and h == h.strip() and '/' not in h for h in hosts):
            fail('ALLOWED_HOSTS must be a list of host names like ["seedbox.example", ".lan"], not %r' % (hosts,))
        settings['ALLOWED_HOSTS'] = tuple(h.lower() for h in hosts)
    if 'STORE' in values:
        if not isinstance(values['STORE'], str) or not values['STORE'].strip():
            fail('STORE must be the path of pyroTorrent\'s SQLite file, like "/var/lib/pyrotorrent/store.sqlite3" '
                 'or "sqlite:////var/lib/pyrotorrent/store.sqlite3", or a PostgreSQL URL like '
                 '"postgresql://pyrotorrent@/pyrotorrent?host=/run/postgresql", not %r' % (values['STORE'],))
        settings['STORE'] = values['STORE'].strip()
    if 'SHARED_COUNTERS' in values:
        url = values['SHARED_COUNTERS']
        if not isinstance(url, str) or (url and not re.match(r'^(redis|rediss|unix|memcached)://', url)):
            fail('SHARED_COUNTERS must be a URL like "redis://127.0.0.1:6379/1" or "memcached://127.0.0.1:11211" '
                 '(where the login throttle of every pyroTorrent process counts), not %r' % (url,))
        settings['SHARED_COUNTERS'] = url
    if 'WORKER_TICK_SECONDS' in values:
        tick = values['WORKER_TICK_SECONDS']
        if not isinstance(tick, (int, float)) or isinstance(tick, bool) or not 0.2 <= tick <= 3600:
            fail('WORKER_TICK_SECONDS must be a number of seconds from 0.2 to 3600, not %r' % (tick,))
        settings['WORKER_TICK_SECONDS'] = float(tick)
    _stats_settings(values, settings, fail)
    if 'WEBHOOK_URL' in values:
        hook = values['WEBHOOK_URL']
        parts = urllib.parse.urlsplit(hook) if isinstance(hook, str) else None
        if hook and (parts is None or parts.scheme not in ('http', 'https') or not parts.hostname):
            fail('WEBHOOK_URL must be an http:// or https:// URL (events are POSTed there as JSON), not %r'
                 % (redacted(hook) if isinstance(hook, str) else hook,))
        settings['WEBHOOK_URL'] = hook or ''
    timeout = values.get('TIMEOUT', 10.0)
    if not _is_timeout(timeout):
        fail('TIMEOUT must be a number of seconds above 0, not %r' % (timeout,))
    settings['TIMEOUT'] = float(timeout)
    if 'session_options' in values:
        if not isinstance(values['session_options'], dict):
            fail('session_options must be a dict of Beaker options, not %r' % (values['session_options'],))
        settings['session_options'] = dict(values['session_options'])
        kind = settings['session_options'].get('session.type', 'file')
        if kind not in sessions.STORES:
            fail("session_options: session.type %r is not supported: Beaker's %s store keeps pickles, so "
                 "whoever could write to it would run code in pyroTorrent. Use one of %s"
                 % (kind, kind, ', '.join(repr(k) for k in sessions.STORES)))
        if kind not in ('file', 'memory') and not settings['session_options'].get('session.secret'):
            fail("session_options: sessions kept in %s are shared by several pyroTorrent processes, so "
                 "they need 'session.secret': the same long random text on every process (python3 -c "
                 "'import secrets; print(secrets.token_urlsafe(32))'), or a form one process made is "
                 "refused by another" % kind)

    if 'AUTH' in values:
        if not isinstance(values['AUTH'], bool):
            fail('AUTH must be True or False, not %r' % (values['AUTH'],))
        settings['AUTH'] = values['AUTH']

    if 'targets' in values and 'rtorrent_config' in values:
        fail('give either targets or rtorrent_config, not both (rtorrent_config is the old '
             'single-target form; move it into targets)')
    if 'targets' in values:
        targets = _targets(values['targets'], settings['TIMEOUT'], fail)
    elif 'rtorrent_config' in values:
        targets = (_legacy_target(values['rtorrent_config'], settings['TIMEOUT'], fail),)
    else:
        fail('no rTorrent to talk to: set targets = {"home": {"url": "scgi+unix:///path/rpc.socket"}}')
    users = _users(values.get('users', {}), {t.name for t in targets}, fail)
    if users and settings.get('AUTH') is False:
        fail('AUTH = False turns logins off, yet users are declared: remove AUTH = False, or the users')
    return Config(targets=targets, users=users, path=path, **settings)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _stats_settings(values, settings, fail):
    """STATS_SECONDS, EVENTS_SECONDS, STALLED_SECONDS, EVENTS_KEEP_DAYS, TIME_ZONE, STATS_TORRENT_DAYS, STATS_MONTHLY_CAP, METRICS, METRICS_TORRENTS."""
    if 'STATS_SECONDS' in values:
        seconds = values['STATS_SECONDS']
        if not _number(seconds) or not 10 <= seconds <= 300:
            fail('STATS_SECONDS must be a number of seconds from 10 to 300, not %r' % (seconds,))
        settings['STATS_SECONDS'] = float(seconds)
    if 'EVENTS_SECONDS' in values:
        seconds = values['EVENTS_SECONDS']
        if not _number(seconds) or not 5 <= seconds <= 300:
            fail('EVENTS_SECONDS must be a number of seconds from 5 to 300, not %r' % (seconds,))
        settings['EVENTS_SECONDS'] = float(seconds)
    if 'STALLED_SECONDS' in values:
        seconds = values['STALLED_SECONDS']
        if not _number(seconds) or not 30 <= seconds <= 86400:
            fail('STALLED_SECONDS must be a number of seconds from 30 to 86400 (how long a download may receive '
                 'nothing before it counts as stalled), not %r' % (seconds,))
        settings['STALLED_SECONDS'] = float(seconds)
    if 'EVENTS_KEEP_DAYS' in values:
        days = values['EVENTS_KEEP_DAYS']
        if days is not None and (not _number(days) or not 1 <= days <= 36500):
            fail('EVENTS_KEEP_DAYS must be a number of days from 1 to 36500 (how long events are kept), '
                 'or None to keep them for ever, not %r' % (days,))
        settings['EVENTS_KEEP_DAYS'] = None if days is None else float(days)
    if values.get('TIME_ZONE'):
        try:
            zoneinfo.ZoneInfo(values['TIME_ZONE'])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            fail("TIME_ZONE must name a time zone like 'Europe/Berlin' or 'UTC', not %r" % (values['TIME_ZONE'],))
        settings['TIME_ZONE'] = values['TIME_ZONE']
    if values.get('STATS_TORRENT_DAYS') is not None:
        days = values['STATS_TORRENT_DAYS']
        if not _number(days) or days < 0:
            fail('STATS_TORRENT_DAYS must be a number of days (0 or more), or None to keep them all, not %r' % (days,))
        settings['STATS_TORRENT_DAYS'] = float(days)
    cap = values.get('STATS_MONTHLY_CAP')
    if cap is not None:
        caps = cap.values() if isinstance(cap, dict) else [cap]
        if not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in caps):
            fail('STATS_MONTHLY_CAP must be a number of bytes above 0 (all targets together), or '
                 '{target: bytes}, not %r' % (cap,))
        settings['STATS_MONTHLY_CAP'] = dict(cap) if isinstance(cap, dict) else cap
    metrics = values.get('METRICS', ())
    if metrics in (None, False):
        metrics = ()
    settings['METRICS'] = _networks(metrics, 'METRICS', " that may read /metrics, like ['127.0.0.1/32']",
                                    '(like "127.0.0.1/32" or "10.0.0.0/8")', fail)
    if 'METRICS_TORRENTS' in values:
        if not isinstance(values['METRICS_TORRENTS'], bool):
            fail('METRICS_TORRENTS must be True or False, not %r' % (values['METRICS_TORRENTS'],))
        settings['METRICS_TORRENTS'] = values['METRICS_TORRENTS']


def _networks(value, key, what, example, fail):
    """A config key's list of networks (CIDR texts), as a tuple; fail() in words otherwise."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        fail('%s must be a list of networks%s, not %r' % (key, what, value))
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except (ValueError, TypeError):
            fail('%s: %r is not a network %s' % (key, network, example))
    return tuple(value)


def _users(users, target_names, fail):
    """users = {name: {'password': hash, 'role': 'admin'|'user'|'viewer', 'targets': [...]}}."""
    if not isinstance(users, dict):
        fail('users must be a dict of name: {"password": ..., "role": ...}, not %r' % (users,))
    result = {}
    for name, options in users.items():
        where = 'users[%r]' % (name,)
        if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > 64:
            fail('%s: a user name is 1 to 64 characters, with no space at either end' % where)
        if not isinstance(options, dict):
            fail('%s must be a dict like {"password": "scrypt:...", "role": "user"}' % where)
        unknown = set(options) - USER_KEYS
        if unknown:
            fail('%s: unknown key %r (a user takes %s)' % (where, sorted(unknown)[0], ', '.join(sorted(USER_KEYS))))
        if not is_password_hash(options.get('password')):
            fail('%s: "password" must be a password hash, not the password itself: run '
                 '"python pyrotorrent.py passwd" and paste the line it prints' % where)
        role = options.get('role', 'user')
        if role not in ROLES:
            fail('%s: role must be one of %s, not %r' % (where, ', '.join(ROLES), role))
        visible = options.get('targets', '*')
        if visible == '*':
            visible = None
        else:
            if not isinstance(visible, (list, tuple, set, frozenset)) or not all(isinstance(t, str) for t in visible):
                fail('%s: targets must be a list of target names, or "*" for all' % where)
            unknown = sorted(set(visible) - target_names)
            if unknown:
                fail('%s: no target named %r (targets: %s)' % (where, unknown[0], ', '.join(sorted(target_names))))
            visible = frozenset(visible)
        result[name] = User(name=name, role=role, targets=visible, password_hash=options['password'])
    return result


def _is_timeout(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 3600


def _targets(targets, default_timeout, fail):
    if not isinstance(targets, dict) or not targets:
        fail('targets must be a dict of name: {"url": ...}, with at least one target')
    result = []
    for name, options in targets.items():
        where = 'targets[%r]' % (name,)
        if not isinstance(name, str) or not TARGET_NAME.match(name):
            fail('%s: a target name is letters, digits, ".", "_" or "-" (it appears in URLs)' % where)
        if not isinstance(options, dict):
            fail('%s must be a dict like {"url": "scgi://127.0.0.1:5000"}, not %r' % (where, options))
        unknown = set(options) - TARGET_KEYS
        if unknown:
            fail('%s: unknown key %r (a target takes %s)' % (where, sorted(unknown)[0], ', '.join(sorted(TARGET_KEYS))))
        if 'url' not in options:
            fail('%s: no "url" (e.g. scgi+unix:///home/rtorrent/rpc.socket)' % where)
        timeout = options.get('timeout', default_timeout)
        if not _is_timeout(timeout):
            fail('%s: timeout must be a number of seconds above 0, not %r' % (where, timeout))
        target = _target(name, options['url'], float(timeout), where, fail)
        local = options.get('local')
        if local is not None and not isinstance(local, bool):
            fail('%s: local must be True (pyroTorrent sees rtorrent\'s disk as rtorrent does) or '
                 'False, not %r' % (where, local))
        client = options.get('client', 'rtorrent')
        if not isinstance(client, str) or not client:
            fail('%s: client must name the torrent client, like "rtorrent", not %r' % (where, client))
        result.append(dataclasses.replace(
            target, local=local, client=client,
            path_map=_path_map(options.get('path_map', {}), where, fail),
            download_roots=_download_roots(options.get('download_roots', ()), where, fail),
            add_directories=_add_directories(options.get('add_directories', ()), where, fail)))
    return tuple(result)


def _clean_path(value, what, fail):
    """An absolute path, normalised without a trailing '/', or a ConfigError."""
    if not isinstance(value, str) or not value.startswith('/'):
        fail('%s must be an absolute path like "/srv/torrents", not %r' % (what, value))
    if '\0' in value or '..' in value.split('/'):
        fail('%s must not hold ".." or a NUL character: %r' % (what, value))
    return os.path.normpath(value).replace('//', '/')


def _path_map(value, where, fail):
    if not isinstance(value, dict):
        fail('%s: path_map must be a dict of rtorrent path: local path, like '
             '{"/home/rtorrent/downloads": "/mnt/seedbox/downloads"}, not %r' % (where, value))
    pairs = [(_clean_path(remote, '%s: path_map key' % where, fail),
              _clean_path(local, '%s: path_map[%r]' % (where, remote), fail))
             for remote, local in value.items()]
    # longest prefix first: the most specific mapping wins
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def _download_roots(value, where, fail):
    return tuple(_folders(value, where, 'download_roots', '["/home/rtorrent/downloads"]',
                          ' (pyroTorrent could then delete anything rtorrent names)', fail))


def _add_directories(value, where, fail):
    folders = []
    for folder in _folders(value, where, 'add_directories', '["/home/rtorrent/downloads", "/home/rtorrent/music"]',
                           ' (users could then make rtorrent write anywhere it may); list the folders '
                           'meant for downloads', fail):
        if any(ord(c) < 32 or ord(c) == 127 for c in folder):
            fail('%s: add_directories entry %r holds a control character' % (where, folder))
        if folder not in folders:
            folders.append(folder)
    return tuple(folders)


def _folders(value, where, key, example, why_not_root, fail):
    """A target's list of rtorrent-side folders, each cleaned; never "/" itself."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        fail('%s: %s must be a list of rtorrent-side folders, like %s, not %r' % (where, key, example, value))
    folders = []
    for folder in value:
        folder = _clean_path(folder, '%s: %s entry' % (where, key), fail)
        if folder == '/':
            fail('%s: %s cannot hold "/"%s' % (where, key, why_not_root))
        folders.append(folder)
    return folders


def _legacy_target(options, default_timeout, fail):
    """The manual's {'host': ..., 'port': 80, 'url': ''}: XML-RPC over HTTP to host:port/url."""
    if not isinstance(options, dict):
        fail('rtorrent_config must be a dict like {"host": "192.168.1.70", "port": 80, "url": ""}')
    unknown = set(options) - LEGACY_KEYS
    if unknown:
        fail('rtorrent_config: unknown key %r (it takes host, port, url, timeout)' % sorted(unknown)[0])
    host = options.get('host')
    if not isinstance(host, str) or not host:
        fail('rtorrent_config: "host" must name the web server in front of rtorrent, like "192.168.1.70"')
    port = options.get('port', 80)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        fail('rtorrent_config: "port" must be a number from 1 to 65535, not %r' % (port,))
    path = options.get('url') or '/RPC2'
    if not isinstance(path, str):
        fail('rtorrent_config: "url" must be a path like "/RPC2" (empty means /RPC2)')
    if not path.startswith('/'):
        path = '/' + path
    timeout = options.get('timeout', default_timeout)
    if not _is_timeout(timeout):
        fail('rtorrent_config: timeout must be a number of seconds above 0, not %r' % (timeout,))
    host_part = '[%s]' % host if ':' in host else host
    return _target('default', 'http://%s:%d%s' % (host_part, port, path), float(timeout), 'rtorrent_config', fail)


def _target(name, url, timeout, where, fail):
    try:
        transport_for(url, timeout)
    except BadURL as exc:
        fail('%s: %s' % (where, exc))
    return Target(name=name, url=url, timeout=timeout)
