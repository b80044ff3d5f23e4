"""Who may do what: users and roles, password hashes, CSRF tokens, the login throttle.

Plumbing only: pyrotorrent.py decides which route needs which role; this module knows
nothing of routes, targets' clients or HTML.
"""
import dataclasses
import hmac
import ipaddress
import secrets
import threading
import time

from werkzeug.security import check_password_hash, generate_password_hash

# Each role may do all that the ones before it may.
ROLES = ('viewer', 'user', 'admin')
ROLE_SAYS = {
    'viewer': 'may look at torrents but not change anything',
    'user': ('may look at, add and act on torrents and set the global speed limits from the header, '
             'but not change other settings, schedules or rules'),
    'admin': 'may do everything',
}
HASH_METHODS = ('scrypt:', 'pbkdf2:')
# Checked against when the name is unknown, so a wrong name costs the same time as a
# wrong password and the answer's timing does not tell which it was.  Werkzeug's default
# scrypt of a random password that was thrown away: made once here, not at every import
# (scrypt's 32 MB would be every process's peak memory, the worker's too).
_DUMMY_HASH = ('scrypt:32768:8:1$oRoucaCuOqL9a0XB$492a2881e34cc93434900e02d69a3e60f2f135c9e1f2119d5a5917654ae73a7'
               '3b4f7a0e22540ef962bde40d05e78a1a02657cb20f0871badde5d7300c2d6a8e3')


def hash_password(password):
    """A salted scrypt hash for config.py's users (Werkzeug's format: scrypt:n:r:p$salt$hash)."""
    return generate_password_hash(password, method='scrypt')


def is_password_hash(text):
    """True for a Werkzeug scrypt or PBKDF2 hash; a plaintext password is not one."""
    if not isinstance(text, str) or not text.startswith(HASH_METHODS):
        return False
    parts = text.split('$')
    return len(parts) == 3 and all(parts) and len(parts[1]) >= 8


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: str
    targets: frozenset = None        # the target names this user may see; None: all of them
    password_hash: str = dataclasses.field(default='', repr=False)

    def can(self, role):
        return ROLES.index(self.role) >= ROLES.index(role)

    def may_see(self, target):
        return self.targets is None or target in self.targets

    def stamp(self):
        """Changes when the password does: a session remembers it, so changing a password in
        config.py ends the sessions made with the old one."""
        return self.password_hash.rsplit('$', 1)[-1][-16:]


# Who is served when config.py declares no users (loopback only, or AUTH = False).
NOBODY = User(name='', role='admin')


def check_login(users, name, password):
    """The User if `password` is right for `name`, else None; the same work either way."""
    user = users.get(name)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    return user if ok and user else None


def is_local(address):
    """True for a loopback address (127.0.0.0/8, ::1, ::ffff:127.x)."""
    try:
        ip = ipaddress.ip_address((address or '').split('%')[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


# -- CSRF ----------------------------------------------------------------------------

CSRF_FIELD = 'csrf_token'            # the form field
CSRF_HEADER = 'X-CSRF-Token'         # the JSON API's header
_CSRF_KEY = 'csrf'


def csrf_token(session):
    """This session's token.  A visitor with nothing stored (lib.session_middleware.LazySession) gets
    a token bound to a cookie of its own, so showing a form stores no session; a stored
    session keeps its token in the session, made on first use."""
    token = session.get(_CSRF_KEY)
    if token:
        return token
    if hasattr(session, 'anonymous_csrf_token') and not session.is_stored():
        return session.anonymous_csrf_token()
    token = session[_CSRF_KEY] = secrets.token_urlsafe(32)
    session.save()
    return token


def csrf_valid(session, sent):
    """The token this session keeps, or the one bound to this browser's CSRF cookie."""
    expected = session.get(_CSRF_KEY)
    if expected and sent and hmac.compare_digest(str(expected).encode(), str(sent).encode()):
        return True
    return hasattr(session, 'anonymous_csrf_valid') and session.anonymous_csrf_valid(sent)


# -- failed logins -------------------------------------------------------------------

class MemoryCounters:
    """The failed-login counts of a LoginThrottle, in this process's memory.  A store shared
    by several processes (redis, memcached) implements the same three methods, each atomic
    on its own key."""

    def __init__(self, limit=100000):
        self._entries = {}           # key -> (count, time of the last try counted)
        self._lock = threading.Lock()
        self.limit = limit           # a flood of names must not fill memory

    def add(self, key, now, forget_after):
        """Count one more try at `now`; (count, last) as they were before it (0, None when
        there were none, or the last was more than forget_after seconds ago)."""
        with self._lock:
            if len(self._entries) > self.limit:
                self._entries = {k: v for k, v in self._entries.items() if now - v[1] <= forget_after}
            count, last = self._entries.get(key, (0, None))
            if last is not None and now - last > forget_after:
                count, last = 0, None
            self._entries[key] = (count + 1, now)
            return count, last

    def undo(self, key, count, last):
        """Take back the try add() counted, which returned (count, last)."""
        with self._lock:
            current = self._entries.get(key)
            if current is None:
                return
            if current[0] == count + 1:          # nothing counted since: as it was
                if count:
                    self._entries[key] = (count, last)
                else:
                    del self._entries[key]
            else:
                self._entries[key] = (max(0, current[0] - 1), current[1])

    def clear(self, key):
        with self._lock:
            self._entries.pop(key, None)


class LoginThrottle:
    """Slows guessing: after `free` failed logins for a name or from an address, each
    further try must wait, twice as long each time (up to `cap` seconds).  A name that
    does not exist is counted exactly like one that does.

    begin() counts a try as failed before the password is checked, so guesses sent side by
    side cannot all pass the check before any is counted; succeeded() clears the count.
    The counts live in `store` (default: MemoryCounters, this process's memory).
    """

    def __init__(self, free=5, first_wait=1.0, cap=300.0, forget_after=900.0, clock=time.monotonic,
                 store=None):
        self.free, self.first_wait, self.cap, self.forget_after = free, first_wait, cap, forget_after
        self.clock = clock
        self.store = store or MemoryCounters()

    @staticmethod
    def keys(name, address):
        return ('name', (name or '').casefold()), ('address', address or '')

    def begin(self, keys):
        """0 if this try may check its password (it is then counted as a failure until
        succeeded()), else the seconds to wait (and the try is not counted)."""
        now = self.clock()
        taken, wait = [], 0.0
        for key in keys:
            count, last = self.store.add(key, now, self.forget_after)
            taken.append((key, count, last))
            wait = max(wait, self._wait(count, last, now))
        if wait > 0:
            for key, count, last in taken:
                self.store.undo(key, count, last)
        return wait

    def _wait(self, count, last, now):
        """The wait after `count` failures, the last at `last`."""
        if count < self.free or last is None:
            return 0.0
        delay = min(self.cap, self.first_wait * 2 ** (count - self.free))
        return max(0.0, last + delay - now)

    def succeeded(self, keys):
        for key in keys:
            self.store.clear(key)
