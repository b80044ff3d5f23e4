"""Transmission's settings: read with one session-get, applied with one session-set and
read back with one session-get.  The neutral fields (model/settings.py) it maps:

    down_limit, up_limit          speed-limit-down/-up in kB/s (1000 bytes) with their -enabled
                                  flags: 0 (unlimited) turns the flag off and leaves the number
    alt_down_limit, alt_up_limit  alt-speed-down/-up (kB/s): Transmission's own turtle mode
    alt_enabled                   alt-speed-enabled (Capabilities.alt_native: not emulated)
    encryption                    allowed = tolerated, preferred = preferred, required_rc4 =
                                  required (its "required" offers and accepts only RC4 for the
                                  whole stream); disabled and required (handshake only) it cannot
                                  express: refused in words, nothing sent.  Read in
                                  libtransmission: session-set maps "required" and
                                  "tolerated" (TR_CLEAR_PREFERRED) and anything else to
                                  preferred; the handshake's crypto_select picks only RC4 when
                                  required, RC4 then plain when preferred, plain then RC4 when
                                  tolerated
    max_peers                     peer-limit-per-torrent;  max_peers_global: peer-limit-global

A rate is given to Transmission in whole kB/s: the nearest, halves up, at least 1 kB/s
for a rate above 0 (model/settings.py rounds what users type the same way and says so).
Transmission keeps every one of them in its settings.json: they survive a restart, so
the worker's re-apply after one is harmless.  It has no speed groups.

Its one weekly timetable of alternative speeds (alt-speed-time-*) is set_timetable()'s.
"""
from model.clients.types import LiveSettings
from model.clients.errors import CommandFault

KB = 1000
RATES = {'down_limit': 'speed-limit-down', 'up_limit': 'speed-limit-up'}
ALT_RATES = {'alt_down_limit': 'alt-speed-down', 'alt_up_limit': 'alt-speed-up'}
COUNTS = {'max_peers': 'peer-limit-per-torrent', 'max_peers_global': 'peer-limit-global'}
# neutral preset -> Transmission's encryption value
ENCRYPTION_NAMES = {'allowed': 'tolerated', 'preferred': 'preferred', 'required_rc4': 'required'}
PRESET_OF = {v: k for k, v in ENCRYPTION_NAMES.items()}
CANNOT = {
    'disabled': "Transmission cannot refuse encryption: its least is 'tolerated' (plain preferred, encrypted "
                "peers still taken), which is the preset 'allowed'",
    'required': "Transmission's 'required' takes only connections encrypted in full (RC4), never an encrypted "
                "handshake alone: that is the preset 'required_rc4'",
}
TIMETABLE = ('alt-speed-time-enabled', 'alt-speed-time-begin', 'alt-speed-time-end', 'alt-speed-time-day')
FIELDS = (['speed-limit-down', 'speed-limit-down-enabled', 'speed-limit-up', 'speed-limit-up-enabled',
           'alt-speed-enabled', 'alt-speed-down', 'alt-speed-up', 'encryption']
          + list(COUNTS.values()) + list(TIMETABLE))
MAPPED = frozenset(list(RATES) + list(ALT_RATES) + ['alt_enabled', 'encryption'] + list(COUNTS))


def to_kb(rate):
    """bytes/s -> whole kB/s: the nearest, halves up; at least 1 for a rate above 0."""
    return 0 if rate <= 0 else max(1, (int(rate) + KB // 2) // KB)


class Settings:
    ENCRYPTION_VALUES = {preset: (mode,) for preset, mode in ENCRYPTION_NAMES.items()}

    def _session(self):
        answer = self.call('session-get', fields=FIELDS)
        missing = [f for f in FIELDS if f not in answer]
        if missing:
            raise CommandFault(self, 'session-get did not report %s' % ', '.join(missing))
        return answer

    def _live(self, answer):
        values = {}
        for field, key in RATES.items():
            values[field] = answer[key] * KB if answer[key + '-enabled'] else 0
        for field, key in ALT_RATES.items():
            values[field] = answer[key] * KB
        values['alt_enabled'] = bool(answer['alt-speed-enabled'])
        values['encryption'] = PRESET_OF.get(answer['encryption'], answer['encryption'])
        for field, key in COUNTS.items():
            values[field] = answer[key]
        values['timetable'] = {k: answer[k] for k in TIMETABLE}
        return LiveSettings(instance=self.instance(), values=values, groups={})

    def read_settings(self, groups=()):
        live = self._live(self._session())
        live.groups = dict.fromkeys(groups)         # no speed groups: none is there
        return live

    def apply_settings(self, values, groups=None, dropped=()):
        """One session-set of what can be expressed, then one session-get read back; what
        cannot be expressed is refused ({field: why}) and not sent."""
        send, faults, owners = {}, {}, {}
        for field, key in RATES.items():
            if field in values:
                kb = to_kb(values[field])
                send[key + '-enabled'] = kb > 0
                if kb:
                    send[key] = kb
                owners[field] = [key, key + '-enabled']
        for field, key in ALT_RATES.items():
            if field in values:
                if not values[field]:
                    faults[field] = ('Transmission\'s alternative speeds are always a limit (0 there stops every '
                                     'transfer): give a rate above 0')
                    continue
                send[key] = to_kb(values[field])
        if 'alt_enabled' in values:
            send['alt-speed-enabled'] = bool(values['alt_enabled'])
        if 'encryption' in values:
            preset = values['encryption']
            if preset in ENCRYPTION_NAMES:
                send['encryption'] = ENCRYPTION_NAMES[preset]
            else:
                faults['encryption'] = CANNOT.get(preset, 'Transmission has no such encryption mode')
        for field, key in COUNTS.items():
            if field in values:
                if values[field] < 1:
                    faults[field] = 'Transmission needs at least 1 peer here'
                    continue
                send[key] = values[field]
        for field in set(values) - MAPPED:
            faults[field] = 'Transmission has no such setting'
        for name in list(groups or {}) + list(dropped):
            faults['group ' + name] = 'Transmission has no speed groups'
        if send:
            try:
                self.call('session-set', **send)
            except CommandFault as exc:
                for field in values:
                    faults.setdefault(field, 'Transmission refused it: %s' % exc)
        live = self.read_settings(groups or ())
        return live, faults

    def set_timetable(self, window):
        """Transmission's one weekly window of alternative speeds: window is None (off) or
        {'begin': minutes after midnight, 'end': minutes, 'days': bit mask, Sunday = 1 ...
        Saturday = 64}.  One session-set, read back with one session-get: the timetable as
        session-get reports it (alt-speed-time-* keys)."""
        if window is None:
            send = {'alt-speed-time-enabled': False}
        else:
            send = {'alt-speed-time-enabled': True, 'alt-speed-time-begin': int(window['begin']),
                    'alt-speed-time-end': int(window['end']), 'alt-speed-time-day': int(window['days'])}
        self.call('session-set', **send)
        return self.read_settings().values['timetable']
