"""Settings pyroTorrent keeps for a target and re-applies: speed limits, alternative
("turtle") speeds, peers and slots, encryption policy, named speed groups.

The field names here are the API's (docs/api.rst).  Rates are bytes per second, 0 meaning
unlimited; what people type is read by parse_rate ('500 KiB/s', '2 MB/s', '1.5M'; KiB is
1024 bytes, kB 1000).  The desired values live in the store (lib/store.py, kind 'desired');
a Backend with settings (Capabilities.settings_read / settings_write) reads the live ones
and applies them (read_settings, apply_settings).  Alternative speeds are pyroTorrent's own
(rTorrent): while they are on, the alt limits are what the client gets as its global limits,
and the normal ones wait in the store.  A client whose turtle mode is its own
(Capabilities.alt_native, Transmission) is given alt_enabled and the alt limits as they are.
A client offers only the fields of its Capabilities.settings_write (offered()); rates are
rounded to its Capabilities.rate_unit (KiB for rTorrent, kB = 1000 bytes for Transmission).

Every change goes through apply(): validated first (ValueError in words, nothing sent),
then sent in one batch and read back; a value the client took only in part is put back
and reported, so the store never says something the client does not do.
"""
import contextlib
import dataclasses
import functools
import math
import os
import re
import socket
import threading
import time
import uuid

from lib import names
from model.clients.interface import ENCRYPTION_PRESETS as ENCRYPTION
from model.clients.types import same_daemon_run

KiB = 1024
MAX_RATE = 1 << 30                  # rTorrent's hard limit: 1 GiB/s
MAX_COUNT = 65535
DESIRED, STATE = 'desired', 'state'
LAYER = 'layer'                     # a STATE value: a schedule's profile over the global limits

RATE_FIELDS = ('down_limit', 'up_limit', 'alt_down_limit', 'alt_up_limit')
# name -> (lowest, label, what it does)
COUNT_FIELDS = {
    'min_peers': (0, 'Least peers while downloading', 'rTorrent looks for more peers below this'),
    'max_peers': (0, 'Most peers while downloading', 'connections a downloading torrent keeps at most'),
    'min_peers_seed': (-1, 'Least peers while seeding', '-1: as while downloading'),
    'max_peers_seed': (-1, 'Most peers while seeding', '-1: as while downloading'),
    'max_uploads': (0, 'Upload slots a torrent', 'peers one torrent uploads to at once'),
    'max_uploads_global': (0, 'Upload slots in all', 'peers all torrents upload to at once; 0: rTorrent decides '
                                                      'from the upload limit'),
    'max_downloads_global': (0, 'Download slots in all', 'peers all torrents download from at once; 0: rTorrent '
                                                          'decides from the download limit'),
    'max_peers_global': (1, 'Most peers in all', 'connections of all torrents together (Transmission)'),
}
FIELDS = RATE_FIELDS + ('alt_enabled', 'encryption') + tuple(COUNT_FIELDS) + ('groups',)
LABELS = dict({'down_limit': 'Download limit', 'up_limit': 'Upload limit',
               'alt_down_limit': 'Alternative download limit', 'alt_up_limit': 'Alternative upload limit',
               'alt_enabled': 'Alternative speeds', 'encryption': 'Encryption', 'groups': 'Speed groups'},
              **{k: v[1] for k, v in COUNT_FIELDS.items()})
# What the client is given for a desired field: the alt limits stand in for the global ones.
CLIENT_FIELD = {'down_limit': 'down_limit', 'up_limit': 'up_limit', 'alt_down_limit': 'down_limit',
                'alt_up_limit': 'up_limit'}

GROUP_CHARACTER = r'[A-Za-z0-9_.-]'     # of rTorrent's throttle names: no spaces, commas, quotes
GROUP_WORDS = "letters, digits, '_', '-' and '.' (rTorrent takes no others)"
MAX_GROUPS = 32
_RATE = re.compile(r'^\s*(-?\s*\d+(?:\.\d*)?|-?\.\d+)\s*([kmg]?)(i?)(b?)\s*(/\s*s)?\s*$', re.I)
_POWERS = {'': 0, 'k': 1, 'm': 2, 'g': 3}
YES = {'1', 'on', 'yes', 'true'}
NO = {'0', 'off', 'no', 'false', ''}


def parse_rate(value, plain_number_bytes=1):
    """Bytes per second from a number or a text: '500 KiB/s', '2 MB/s', '1.5M', '0'.

    KiB, MiB, GiB and a bare K, M, G are powers of 1024; kB, MB, GB powers of 1000; a
    number without a unit counts `plain_number_bytes` bytes (1 in the API, 1024 in forms:
    KiB/s, as rtorrent.rc counts).  ValueError in words for anything else."""
    if isinstance(value, bool):
        raise ValueError('is true or false, not a rate')
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        match = _RATE.match(value)
        if not match:
            raise ValueError("'%s' is not a rate (write it like 500 KiB/s, 2 MB/s or 0 for unlimited)" % value.strip())
        digits, power, binary, byte, _ = match.groups()
        number = float(digits.replace(' ', ''))
        if power:
            decimal = bool(byte) and not binary          # kB, MB: 1000s; KiB, K, M: 1024s
            number *= (1000 if decimal else 1024) ** _POWERS[power.lower()]
        elif not byte:
            number *= plain_number_bytes
    else:
        raise ValueError('is not a number: %r' % (value,))
    if number != number or number in (math.inf, -math.inf):
        raise ValueError('is not a number')
    if number < 0:
        raise ValueError('cannot be negative (0 means unlimited)')
    if number > MAX_RATE:
        raise ValueError('is above 1 GiB/s (1,073,741,824 bytes/s), the most rTorrent takes')
    return int(round(number))


def whole_kib(rate):
    """rTorrent keeps limits in whole KiB/s: the rate it will really have (0 stays 0)."""
    return 0 if rate == 0 else max(1, int(round(rate / KiB))) * KiB


def whole_units(rate, unit=KiB):
    """The rate a client keeping whole `unit`s of bytes/s will really have: whole_kib for
    KiB; otherwise the nearest multiple, halves up, at least one unit above 0 (0 stays 0)."""
    if unit == KiB:
        return whole_kib(rate)
    return 0 if rate == 0 else max(1, (rate + unit // 2) // unit) * unit


def unit_words(unit):
    return 'KiB/s (1024 bytes)' if unit == KiB else 'kB/s (%d bytes)' % unit if unit == 1000 else '%d bytes/s' % unit


def client_field(field, native=False):
    """The client's field a desired one is given as (the alt limits stand in for the global
    ones, unless the client's alternative speeds are its own)."""
    return field if native else CLIENT_FIELD.get(field, field)


def offered(caps):
    """The fields (FIELDS order) a client's Capabilities let pyroTorrent set."""
    out = []
    for field in FIELDS:
        if field == 'alt_enabled' and not caps.alt_native:
            ok = 'down_limit' in caps.settings_write
        else:
            ok = client_field(field, caps.alt_native) in caps.settings_write
        if ok:
            out.append(field)
    return tuple(out)


def check_encryption(value, preset_of=None):
    """A preset name (ENCRYPTION) from a preset name, or from the client's own values
    (rTorrent's flags) through preset_of, the Backend's encryption_preset."""
    if isinstance(value, str):
        if value not in ENCRYPTION:
            raise ValueError("'%s' is not an encryption preset (one of: %s)" % (value, ', '.join(ENCRYPTION)))
        return value
    if preset_of is None or not isinstance(value, (list, tuple)) or not all(isinstance(f, str) for f in value):
        raise ValueError('is a preset name (%s)%s' % (', '.join(ENCRYPTION), " or a list of the client's own values"
                                                      if preset_of else ''))
    return preset_of(value)


def check_groups(value, plain_number_bytes=1):
    """{name: {'down_limit': bytes/s, 'up_limit': bytes/s}} in whole KiB/s."""
    if not isinstance(value, dict):
        raise ValueError('is an object of group name: {"down_limit": ..., "up_limit": ...}')
    if len(value) > MAX_GROUPS:
        raise ValueError('at most %d groups' % MAX_GROUPS)
    groups = {}
    for name, limits in value.items():
        try:
            name = names.check('group', name, 32, GROUP_CHARACTER, GROUP_WORDS)
        except ValueError as exc:
            raise ValueError('cannot be kept: %s' % exc) from None      # in_words() puts 'groups' first
        if name in groups:
            raise ValueError("two groups are named '%s' (spaces at either end are dropped)" % name)
        if not isinstance(limits, dict) or set(limits) - {'down_limit', 'up_limit'}:
            raise ValueError("group '%s' is {\"down_limit\": ..., \"up_limit\": ...}" % name)
        clean = {}
        for key in ('down_limit', 'up_limit'):
            try:
                clean[key] = whole_kib(parse_rate(limits.get(key, 0), plain_number_bytes))
            except ValueError as exc:
                raise ValueError("group '%s': %s %s" % (name, key, exc)) from None
        groups[name] = clean
    return groups


def validate(changes, plain_number_bytes=1, unit=KiB, notes=None, preset_of=None):
    """(clean values, {field: reason}) of settings as the API or a form gives them; the
    rates rounded to whole units as the client keeps them (KiB/s for rTorrent, kB/s for
    Transmission: whole_units); a list given as notes gets a sentence for each rate that
    was rounded; preset_of: Backend.encryption_preset, for encryption given in the client's
    own values."""
    clean, errors = {}, {}
    if not isinstance(changes, dict):
        return {}, {'': 'send a JSON object of settings'}
    for field, value in changes.items():
        try:
            if field in RATE_FIELDS:
                exact = parse_rate(value, plain_number_bytes)
                clean[field] = whole_units(exact, unit)
                if notes is not None and clean[field] != exact:
                    notes.append('%s: %s bytes/s is not a whole number of %s; the client is given %s bytes/s '
                                 '(the nearest, halves up%s)' % (LABELS[field], format(exact, ','), unit_words(unit),
                                                                 format(clean[field], ','),
                                                                 ', at least one unit' if exact < unit else ''))
            elif field in COUNT_FIELDS:
                low = COUNT_FIELDS[field][0]
                if isinstance(value, str) and re.fullmatch(r'\s*-?\d+\s*', value):
                    value = int(value)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError('is not a whole number: %r' % (value,))
                if not low <= value <= MAX_COUNT:
                    raise ValueError('must be from %d to %d, not %d' % (low, MAX_COUNT, value))
                clean[field] = value
            elif field == 'alt_enabled':
                if isinstance(value, str) and value.strip().lower() in YES | NO:
                    value = value.strip().lower() in YES
                if not isinstance(value, bool):
                    raise ValueError('is true or false, not %r' % (value,))
                clean[field] = value
            elif field == 'encryption':
                clean[field] = check_encryption(value, preset_of)
            elif field == 'groups':
                clean[field] = check_groups(value, plain_number_bytes)
            else:
                raise ValueError('is not a setting (settings: %s)' % ', '.join(FIELDS))
        except ValueError as exc:
            errors[field] = str(exc)
    return clean, errors


def in_words(errors):
    """Each refused field by what a page calls it ('Download limit ...'), never its key."""
    return '; '.join('%s: %s' % (LABELS.get(field, field), why) for field, why in errors.items())


# -- what the client is given ------------------------------------------------------------

def client_values(desired, layer=None, native=False):
    """{client field: value} for the client from desired values ({field: value}): the alt
    limits as the global ones while alt_enabled; encryption as its flags.  A layer (a
    schedule's profile, model/schedule.py) stands over the global limits: {'alt': True}
    gives the alt limits, {'down_limit': ...} its own; the desired values stay as they are.
    native (Capabilities.alt_native): the alt fields go as they are, and a layer turns the
    client's own alternative speeds on ({'alt': True}) or off (its own limits)."""
    if native:
        out = {f: desired[f] for f in RATE_FIELDS + ('alt_enabled',) if f in desired}
        if layer and layer.get('alt'):
            out['alt_enabled'] = True
        elif layer:
            out.update({f: layer[f] for f in ('down_limit', 'up_limit') if f in layer})
            out['alt_enabled'] = False
    else:
        out = {}
        alt = desired.get('alt_enabled', False) or bool(layer and layer.get('alt'))
        for field in ('down_limit', 'up_limit'):
            source = ('alt_' + field) if alt else field
            if layer and field in layer:
                out[field] = layer[field]
            elif source in desired:
                out[field] = desired[source]
    for field in COUNT_FIELDS:
        if field in desired:
            out[field] = desired[field]
    if 'encryption' in desired:
        out['encryption'] = desired['encryption']        # a preset: each client maps it
    return out


def in_force(field, desired, layer=None, native=False):
    """The desired field that decides the client's `field` now (down_limit or alt_down_limit...),
    or LAYER when a schedule's profile does."""
    if native:
        if layer and (field == 'alt_enabled' or field in layer):
            return LAYER
        return field
    if field in ('down_limit', 'up_limit') and layer and field in layer:
        return LAYER
    if field in ('down_limit', 'up_limit') and (desired.get('alt_enabled') or (layer and layer.get('alt'))):
        return 'alt_' + field
    return field


@dataclasses.dataclass
class Report:
    """What apply() did: applied {field: value as read back (as set, for what cannot be
    read)}, refused {field: reason}, notes in words; live: the client's values after."""
    applied: dict = dataclasses.field(default_factory=dict)
    refused: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    live: object = None

    def as_dict(self):
        return {'applied': self.applied, 'refused': self.refused, 'notes': self.notes}


class Busy(Exception):
    """Another save of this target's settings held the lock for longer than a save may take."""


_held = threading.local()               # {lease name: (holder, depth)}: a save inside a save


@contextlib.contextmanager
def one_save_at_a_time(store, backend):
    """Hold the store's lease 'settings TARGET' while a save reads the desired settings,
    sends them and stores what came back: two saves at once (two admins, a FastCGI process
    each, or an admin and the worker) would otherwise leave the store saying A while the
    client does B.  A lease in the store, not a file lock, so processes on other hosts sharing
    a PostgreSQL store are held too; it expires, so a process killed mid-save frees it."""
    name = 'settings ' + backend.name
    held = getattr(_held, 'leases', None)
    if held is None:
        held = _held.leases = {}
    if name in held:                    # already ours, further up this thread's stack
        yield
        return
    timeout = float(getattr(backend.transport, 'timeout', 10) or 10)
    hold = 4 * timeout + 5              # a save is a few round trips, each bounded by the timeout
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + hold
    while True:
        lease = store.acquire_lease(name, holder, socket.gethostname(), os.getpid(), hold)
        if lease.holder == holder:
            break
        if time.monotonic() > deadline:
            raise Busy("the settings of %s are being saved by another request (process %d on %s) for over %d s; "
                       "nothing was changed: try again" % (backend.name, lease.pid, lease.host, hold))
        time.sleep(0.05)
    held[name] = holder
    try:
        yield
    finally:
        del held[name]
        store.release_lease(name, holder)


def _serialised(change):
    """change(store, backend, ...) run under one_save_at_a_time."""
    @functools.wraps(change)
    def run(store, backend, *args, **kwargs):
        with one_save_at_a_time(store, backend):
            return change(store, backend, *args, **kwargs)
    return run


def desired_values(store, target):
    return {name: stored.value for name, stored in store.values(target, DESIRED).items()}


@_serialised
def apply(store, backend, changes, who, everything=None):
    """Validated changes ({field: clean value}) into the client and the store.

    The client is given the changed fields, or every desired one when it restarted since
    pyroTorrent last applied them (or everything=True: the worker, "apply mine").  One
    batch, read back in the same round trip; what it refused is not stored, what it took
    is stored as read back.  Returns a Report."""
    desired = desired_values(store, backend.name)
    merged = dict(desired, **changes)
    state = store.values(backend.name, STATE)
    layer = state[LAYER].value if LAYER in state else None
    applied_to = state.get('applied_instance')
    if everything is None:
        everything = applied_to is None or not same_daemon_run(applied_to.value, backend.instance())
    native = backend.CAPABILITIES.alt_native
    can = offered(backend.CAPABILITIES)
    unknown = {f: '%s has no such setting pyroTorrent can set' % backend.client for f in changes if f not in can}
    merged = {f: v for f, v in merged.items() if f in can}
    wanted = merged if everything else {f: v for f, v in changes.items() if f in can}
    send = client_values(merged, layer, native)
    if not everything:
        touched = {client_field(f, native) for f in wanted}
        if 'alt_enabled' in wanted and not native:
            touched |= {'down_limit', 'up_limit'}
        send = {k: v for k, v in send.items() if k in touched}
    old_groups = desired.get('groups', {})
    groups = merged.get('groups', {}) if (everything or 'groups' in changes) else {}
    dropped = [g for g in old_groups if 'groups' in changes and g not in groups]
    live, faults = backend.apply_settings(send, groups, dropped)
    report = Report(live=live, refused=dict(unknown))
    keep = {}
    readable = backend.CAPABILITIES.settings_read
    given = client_values(merged, layer, native)
    for field, value in wanted.items():
        if field == 'groups':
            continue
        cfield = client_field(field, native)
        if (field in RATE_FIELDS or (native and field == 'alt_enabled')) and in_force(cfield, merged, layer, native) != field:
            keep[field] = value             # not in force now: kept for when it is
            report.applied[field] = value
            continue
        if field == 'alt_enabled' and not native:
            bad = [f for f in ('down_limit', 'up_limit') if f in faults]
            if bad:
                report.refused[field] = faults[bad[0]]
            else:
                keep[field] = value
                report.applied[field] = value
            continue
        if cfield in faults:
            report.refused[field] = faults[cfield]
        elif cfield in readable and live.values.get(cfield) != given.get(cfield):
            got = live.values.get(cfield)
            keep[field] = got
            report.applied[field] = got
            report.notes.append('%s: %s keeps %r, not %r' % (field, backend.client, got, value))
        else:
            keep[field] = value
            report.applied[field] = live.values.get(cfield, value) if field != 'encryption' else value
    if 'groups' in wanted:
        kept = dict(old_groups) if not everything else {}
        for name in dropped:
            kept.pop(name, None)
        for name, limits in groups.items():
            if ('group ' + name) in faults:
                report.refused['groups.' + name] = faults['group ' + name]
                if name in old_groups:
                    kept[name] = old_groups[name]
            else:
                kept[name] = limits
        keep['groups'] = kept
        report.applied['groups'] = kept
    if dropped:
        report.notes.append('removed group%s %s: %s cannot forget a group, so pyroTorrent set it to unlimited; '
                            'torrents still in it are no longer limited by it'
                            % ('' if len(dropped) == 1 else 's', ', '.join(dropped), backend.client))
    for rate in ('down_limit', 'up_limit'):
        group_limited = any(g.get(rate) for g in groups.values())
        if group_limited and not live.values.get(rate):
            report.notes.append('speed groups limit %s only while a global %s is set (%s\'s rule)'
                                % ('downloads' if rate == 'down_limit' else 'uploads', LABELS[rate].lower(),
                                   backend.client))
    store.put_values(backend.name, DESIRED, keep, set_by=who)
    if not faults or everything:
        store.put_values(backend.name, STATE, {'applied_instance': live.instance, 'applied_at': time.time()},
                         set_by=who)
    return report


def current_layer(store, target):
    """The layer a schedule put over the global limits, or None."""
    state = store.values(target, STATE)
    return state[LAYER].value if LAYER in state else None


@_serialised
def apply_layer(store, backend, layer, who):
    """Put a schedule's profile over the global limits ({'down_limit':, 'up_limit':} in
    bytes/s, {'alt': True} for the alternative speeds), or lift it (None): the client gets
    the limits of the layer, or the user's own again.  The desired settings are not
    touched; the layer is kept in STATE so a re-apply after a restart brings it back.  A
    limit the user never kept is what the client had before the first layer (never a
    number of pyroTorrent's).  Returns (LiveSettings read back, {field: why refused})."""
    old = current_layer(store, backend.name)
    desired = desired_values(store, backend.name)
    native = backend.CAPABILITIES.alt_native
    fields = ('down_limit', 'up_limit') + (('alt_enabled',) if native else ())
    base = (old or {}).get('base')
    if layer and base is None:
        live = backend.read_settings(())
        base = {f: live.values[f] for f in fields if f in live.values}
    wanted = client_values(desired, layer, native)
    send = {}
    for field in fields:
        value = wanted.get(field, (base or {}).get(field))
        if value is not None:
            send[field] = value
    live, faults = backend.apply_settings(send, {}, ())
    store.put_values(backend.name, STATE, {LAYER: dict(layer, base=base) if layer else None}, set_by=who)
    return live, faults


@_serialised
def keep_live(store, backend, fields, who):
    """"Keep rTorrent's": the store takes the client's live value of these fields."""
    live = backend.read_settings(())
    desired = desired_values(store, backend.name)
    native = backend.CAPABILITIES.alt_native
    keep = {}
    for field in fields:
        cfield = client_field(field, native)
        if field not in FIELDS or cfield not in backend.CAPABILITIES.settings_read:
            raise ValueError("%s cannot be read back from %s, so there is no live value to keep" % (field, backend.client))
        value = live.values[cfield]
        keep[in_force(cfield, desired, None, native)] = value
    store.put_values(backend.name, DESIRED, keep, set_by=who)
    return keep


def reapply_if_restarted(store, backend, instance=None):
    """The worker's settings step for one target: re-apply every desired setting when the
    client restarted (or was never given them); a tick where nothing is due costs the
    client one small command.  Words for the log, or None."""
    desired = desired_values(store, backend.name)
    if not desired:
        return None
    instance = backend.instance() if instance is None else instance
    applied_to = store.values(backend.name, STATE).get('applied_instance')
    if applied_to is not None and same_daemon_run(applied_to.value, instance):
        return None
    report = apply(store, backend, {}, 'worker', everything=True)
    return 're-applied %d setting(s) to %s (instance %s)%s' % (
        len(report.applied), backend.name, instance,
        '; refused: ' + in_words(report.refused) if report.refused else '')


# -- what the settings page shows ---------------------------------------------------------

@dataclasses.dataclass
class Field:
    name: str
    label: str
    help: str
    desired: object           # None: pyroTorrent does not keep it (rtorrent.rc decides)
    set_at: float
    set_by: str
    live: object              # None: the client cannot say (or it is not in force)
    readable: bool
    in_force: bool            # False: an alt limit while alt speeds are off, or the reverse
    drift: bool               # kept and in force, and the live value differs


def view(store, backend):
    """(fields [Field], groups {name: {'down_limit', 'up_limit', 'live': {...} or None}},
    live, restarted: bool) in one round trip to the client."""
    stored = store.values(backend.name, DESIRED)
    desired = {k: v.value for k, v in stored.items()}
    layer = current_layer(store, backend.name)
    groups = desired.get('groups', {})
    live = backend.read_settings(groups)
    readable = backend.CAPABILITIES.settings_read
    native = backend.CAPABILITIES.alt_native
    given = client_values(desired, layer, native)
    fields = []
    for name in offered(backend.CAPABILITIES):
        if name == 'groups':
            continue
        cfield = client_field(name, native)
        force = (name == 'alt_enabled' and not native) or in_force(cfield, desired, layer, native) == name
        value = live.values.get(cfield) if cfield in readable and force else None
        have = stored.get(name)
        wanted = given.get(cfield) if have is not None and force else None
        fields.append(Field(
            name=name, label=LABELS[name],
            help=COUNT_FIELDS[name][2] if name in COUNT_FIELDS else ENCRYPTION.get(have.value, '')
            if name == 'encryption' and have else '',
            desired=have.value if have else None, set_at=have.set_at if have else None,
            set_by=have.set_by if have else '', live=value,
            readable=cfield in readable,
            in_force=force, drift=bool(have is not None and force and cfield in readable and value != wanted)))
    shown = {}
    for name, limits in groups.items():
        got = live.groups.get(name)
        shown[name] = dict(limits, live=got, drift=got is None or any(
            live.values.get(k) and got.get(k) != limits[k] for k in ('down_limit', 'up_limit')))
    applied_to = store.values(backend.name, STATE).get('applied_instance')
    restarted = bool(desired) and (applied_to is None or not same_daemon_run(applied_to.value, live.instance))
    return fields, shown, live, restarted
