"""Beaker's session stores, made so that reading one cannot run code.

Beaker's own backends pickle every stored entry (the file store pickles a dict to each
file, ext:redis pickles each value, python-memcached unpickles any item flagged as a
pickle), so whoever can write to the store runs code in pyroTorrent when it reads a
session.  The subclasses here store Beaker's session text (already JSON, zlib and
base64: session.data_serializer = 'json') as it is, behind a mark and an HMAC of the
session id and the bytes under a key derived from session.secret; they never unpickle.
An entry without the mark or with a wrong HMAC (a pickle from before this change, one
planted in the store, a stranger's bytes) reads as no session: its visitor is anonymous.

STORES covers lib.sessions.STORES, the session.type values pyroTorrent supports; config.py
refuses others at start-up.
"""
import errno
import hashlib
import hmac

from beaker import util as beaker_util
from beaker.container import FileNamespaceManager, MemoryNamespaceManager
from beaker.ext.memcached import MemcachedNamespaceManager
from beaker.ext.redisnm import RedisNamespaceManager

MARK = b'pyrotorrent-session-1:'
MAX_ENTRY_BYTES = 1 << 20           # a session holds a user name, a token and a few messages


class _Entries:
    """What is written and read: MARK, the HMAC-SHA256 (hex) of id and value, the value
    (Beaker's session text: base64, or a nonce and base64 when encrypted)."""
    entry_key = b''

    def _pack(self, value):
        if not isinstance(value, str):
            raise TypeError('a session store keeps Beaker\'s session text, not %s' % type(value).__name__)
        value = value.encode('utf-8')
        return MARK + self._mac(value) + b':' + value

    def _unpack(self, raw):
        """The value, or KeyError for anything this code did not write."""
        if not isinstance(raw, bytes) or not raw.startswith(MARK) or len(raw) > MAX_ENTRY_BYTES:
            raise KeyError('session')
        mac, _, value = raw[len(MARK):].partition(b':')
        if not hmac.compare_digest(mac, self._mac(value)):
            raise KeyError('session')
        try:
            return value.decode('utf-8')
        except UnicodeDecodeError:
            raise KeyError('session') from None

    def _mac(self, value):
        return hmac.new(self.entry_key, self.namespace.encode() + b'\0' + value, hashlib.sha256).hexdigest().encode()


class FileStore(_Entries, FileNamespaceManager):
    """Beaker's file store, one file a session, holding the entry's bytes instead of a pickle."""

    def do_open(self, flags, replace):
        self.hash = {}
        if not replace:
            try:
                with open(self.file, 'rb') as fh:
                    raw = fh.read(MAX_ENTRY_BYTES + 1)
            except OSError as e:
                if e.errno not in (errno.EACCES, errno.ENOENT):
                    raise
            else:
                try:
                    self.hash['session'] = self._unpack(raw)
                except KeyError:
                    pass
        self.flags = flags

    def do_close(self):
        if self.flags in ('c', 'w'):
            value = self.hash.get('session')
            beaker_util.safe_write(self.file, self._pack(value) if value is not None else b'')
        self.hash = {}
        self.flags = None


class RedisStore(_Entries, RedisNamespaceManager):
    """Beaker's ext:redis, each session's key holding the entry's bytes instead of a pickle."""

    def __getitem__(self, key):
        entry = self.client.get(self._format_key(key))
        if entry is None:
            raise KeyError(key)
        return self._unpack(entry)

    def set_value(self, key, value, expiretime=None):
        if expiretime is None and self.timeout is not None:
            expiretime = self.timeout
        entry = self._pack(value)
        if expiretime is not None:
            self.client.setex(self._format_key(key), int(expiretime), entry)
        else:
            self.client.set(self._format_key(key), entry)


def _no_pickles(file):
    raise ValueError('a session entry flagged as a pickle is refused, never unpickled')


class MemcachedStore(_Entries, MemcachedNamespaceManager):
    """Beaker's ext:memcached over python-memcached, with a client that refuses every item
    flagged as a pickle (python-memcached would unpickle it), storing the entry's bytes."""

    def __init__(self, namespace, url, **kw):
        import memcache
        kw.pop('memcache_module', None)
        # Beaker's own client (its class-wide cache) keeps the default unpickler: build ours
        self.__class__.mc_client = self.__class__.__dict__.get('mc_client') or memcache.Client(
            url.split(';'), pickler=_no_pickles, unpickler=_no_pickles)
        super().__init__(namespace, url, memcache_module='memcache', **kw)
        self.mc = self.__class__.mc_client

    def __getitem__(self, key):
        entry = self.mc.get(self._format_key(key))
        return None if entry is None else self._unpack(entry)

    def __contains__(self, key):
        return self.mc.get(self._format_key(key)) is not None

    def set_value(self, key, value, expiretime=None):
        super().set_value(key, self._pack(value), expiretime)


STORES = {'file': FileStore, 'ext:redis': RedisStore, 'ext:memcached': MemcachedStore,
          'memory': MemoryNamespaceManager}     # memory: this process's own objects, never read from outside


def namespace_class(kind, secret):
    """The namespace manager for session.type `kind`, its entries signed under `secret`."""
    if (kind or 'file') not in STORES:
        raise ValueError('session.type %r is not supported (its Beaker store keeps pickles): use one of %s'
                         % (kind, ', '.join(STORES)))
    base = STORES[kind or 'file']
    if base is MemoryNamespaceManager:
        return base
    key = hmac.new(str(secret).encode(), b'session store entry', hashlib.sha256).digest()
    return type(base.__name__, (base,), {'entry_key': key})
