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

from lib.transport import BadURL, transport_for

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'config.py')
TARGET_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
TARGET_KEYS = {'url', 'timeout'}
LEGACY_KEYS = {'host', 'port', 'url', 'timeout'}


class ConfigError(Exception):
    """One line: which setting, what is wrong."""


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    url: str
    timeout: float = 10.0


@dataclasses.dataclass(frozen=True)
class Config:
    targets: tuple                       # of Target, in the order the file gives them
    BASE_URL: str = '/torrent'
    STATIC_URL: str = '/static/torrent'
    session_options: dict = dataclasses.field(default_factory=dict)
    PAGE_SIZE: int = 50                  # rows on one page of a torrent list
    REFRESH_SECONDS: int = 5             # how often the list page refreshes its figures; 0: never
    TIMEOUT: float = 10.0                # default timeout of a target, in seconds
    CACHE_SECONDS: int = 600             # how long what a daemon offers (its method list) is kept
    FETCH_ALLOW_PRIVATE: bool = False    # links to add may point at loopback, private, link-local...
    FETCH_ALLOW_NETWORKS: tuple = ()     # networks links to add may point into anyway ('192.168.1.0/24')
    path: str = ''

    def target(self, name):
        for target in self.targets:
            if target.name == name:
                return target
        return None


SETTINGS = {f.name for f in dataclasses.fields(Config)} - {'targets', 'path'} | {'targets', 'rtorrent_config'}


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
    timeout = values.get('TIMEOUT', 10.0)
    if not _is_timeout(timeout):
        fail('TIMEOUT must be a number of seconds above 0, not %r' % (timeout,))
    settings['TIMEOUT'] = float(timeout)
    if 'session_options' in values:
        if not isinstance(values['session_options'], dict):
            fail('session_options must be a dict of Beaker options, not %r' % (values['session_options'],))
        settings['session_options'] = dict(values['session_options'])

    if 'targets' in values and 'rtorrent_config' in values:
        fail('give either targets or rtorrent_config, not both (rtorrent_config is the old '
             'single-target form; move it into targets)')
    if 'targets' in values:
        targets = _targets(values['targets'], settings['TIMEOUT'], fail)
    elif 'rtorrent_config' in values:
        targets = (_legacy_target(values['rtorrent_config'], settings['TIMEOUT'], fail),)
    else:
        fail('no rTorrent to talk to: set targets = {"home": {"url": "scgi+unix:///path/rpc.socket"}}')
    return Config(targets=targets, path=path, **settings)


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
        result.append(_target(name, options['url'], float(timeout), where, fail))
    return tuple(result)


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
