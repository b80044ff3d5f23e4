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

from lib.auth import NOBODY, ROLES, User, is_password_hash
from lib.transport import BadURL, transport_for

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'config.py')
TARGET_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
TARGET_KEYS = {'client', 'url', 'timeout', 'path_map', 'download_roots', 'local', 'add_directories'}
LEGACY_KEYS = {'host', 'port', 'url', 'timeout'}
MIN_UPLOAD, MAX_UPLOAD = 64 * 1024, 1024 ** 3     # bounds of MAX_UPLOAD_BYTES


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
    path: str = ''

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
    if 'FETCH_ALLOW_PRIVATE' in values:
        if not isinstance(values['FETCH_ALLOW_PRIVATE'], bool):
            fail('FETCH_ALLOW_PRIVATE must be True or False, not %r' % (values['FETCH_ALLOW_PRIVATE'],))
        settings['FETCH_ALLOW_PRIVATE'] = values['FETCH_ALLOW_PRIVATE']
    if 'FETCH_ALLOW_NETWORKS' in values:
        networks = values['FETCH_ALLOW_NETWORKS']
        if isinstance(networks, str) or not isinstance(networks, (list, tuple)):
            fail('FETCH_ALLOW_NETWORKS must be a list of networks like ["192.168.1.0/24"], not %r' % (networks,))
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except (ValueError, TypeError):
                fail('FETCH_ALLOW_NETWORKS: %r is not a network like "192.168.1.0/24" or "fd00::/8"' % (network,))
        settings['FETCH_ALLOW_NETWORKS'] = tuple(networks)
    if 'ALLOWED_HOSTS' in values:
        hosts = values['ALLOWED_HOSTS']
        if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)) or not all(
                isinstance(h, str) and h and h == h.strip() and '/' not in h for h in hosts):
            fail('ALLOWED_HOSTS must be a list of host names like ["seedbox.example", ".lan"], not %r' % (hosts,))
        settings['ALLOWED_HOSTS'] = tuple(h.lower() for h in hosts)
    timeout = values.get('TIMEOUT', 10.0)
    if not _is_timeout(timeout):
        fail('TIMEOUT must be a number of seconds above 0, not %r' % (timeout,))
    settings['TIMEOUT'] = float(timeout)
    if 'session_options' in values:
        if not isinstance(values['session_options'], dict):
            fail('session_options must be a dict of Beaker options, not %r' % (values['session_options'],))
        settings['session_options'] = dict(values['session_options'])

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
