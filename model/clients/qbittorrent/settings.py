"""qBittorrent's settings: read with app/preferences and transfer/speedLimitsMode, applied with
one app/setPreferences (and transfer/toggleSpeedLimitsMode when the alternative speeds change),
read back the same way.  The neutral fields (model/settings.py) it maps:

    down_limit, up_limit          dl_limit, up_limit in bytes/s (0: unlimited)
    alt_down_limit, alt_up_limit  alt_dl_limit, alt_up_limit (bytes/s): its own alternative speeds
    alt_enabled                   transfer/speedLimitsMode (Capabilities.alt_native: not emulated)
    encryption                    its three modes: 0 "prefer encryption" = preferred, 1 "require
                                  encryption" = required, 2 "disable encryption" = disabled; allowed
                                  (plain first) and required_rc4 it cannot express: refused in words
    max_peers                     max_connec_per_torrent;  max_peers_global: max_connec

qBittorrent keeps every one of them in its qBittorrent.conf: they survive a restart, so the
worker's re-apply after one is harmless.  It has no speed groups.
"""
import simplejson

from model.clients.errors import BadAnswer, CommandFault
from model.clients.types import LiveSettings

RATES = {'down_limit': 'dl_limit', 'up_limit': 'up_limit', 'alt_down_limit': 'alt_dl_limit',
         'alt_up_limit': 'alt_up_limit'}
COUNTS = {'max_peers': 'max_connec_per_torrent', 'max_peers_global': 'max_connec'}
ENCRYPTION_MODES = {'preferred': 0, 'required': 1, 'disabled': 2}
PRESET_OF = {v: k for k, v in ENCRYPTION_MODES.items()}
CANNOT = {
    'allowed': "qBittorrent has no 'plain first' mode: its least is 'prefer encryption' (the preset 'preferred') "
               "or none at all ('disabled')",
    'required_rc4': "qBittorrent's 'require encryption' is the preset 'required'; it has no mode of its own for "
                    "a stream encrypted in full",
}
MAPPED = frozenset(list(RATES) + ['alt_enabled', 'encryption'] + list(COUNTS))


class Settings:
    ENCRYPTION_VALUES = {preset: (str(mode),) for preset, mode in ENCRYPTION_MODES.items()}

    def read_settings(self, groups=()):
        prefs = self.json('app/preferences')
        mode = self.get('transfer/speedLimitsMode').strip()
        try:
            values = {field: max(0, int(prefs[key])) for field, key in RATES.items()}
            values['alt_enabled'] = mode == '1'
            values['encryption'] = PRESET_OF.get(prefs['encryption'], str(prefs['encryption']))
            for field, key in COUNTS.items():
                values[field] = int(prefs[key])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadAnswer(self, 'app/preferences lacks %s' % exc) from None
        return LiveSettings(instance=self.instance(), values=values, groups=dict.fromkeys(groups))

    def apply_settings(self, values, groups=None, dropped=()):
        """One app/setPreferences of what can be expressed (and the alternative speeds' switch
        when it changes), then read back; what cannot be expressed is refused and not sent."""
        send, faults = {}, {}
        for field, key in RATES.items():
            if field in values:
                send[key] = int(values[field])
        if 'encryption' in values:
            preset = values['encryption']
            if preset in ENCRYPTION_MODES:
                send['encryption'] = ENCRYPTION_MODES[preset]
            else:
                faults['encryption'] = CANNOT.get(preset, 'qBittorrent has no such encryption mode')
        for field, key in COUNTS.items():
            if field in values:
                if values[field] < 1:
                    faults[field] = 'qBittorrent needs at least 1 peer here (-1 there means unlimited)'
                    continue
                send[key] = values[field]
        for field in set(values) - MAPPED:
            faults[field] = 'qBittorrent has no such setting'
        for name in list(groups or {}) + list(dropped):
            faults['group ' + name] = 'qBittorrent has no speed groups'
        try:
            if send:
                self.post('app/setPreferences', json=simplejson.dumps(send))
            if 'alt_enabled' in values and (self.get('transfer/speedLimitsMode').strip() == '1') != bool(values['alt_enabled']):
                self.post('transfer/toggleSpeedLimitsMode')
        except CommandFault as exc:
            for field in values:
                faults.setdefault(field, 'qBittorrent refused it: %s' % exc.cause)
        return self.read_settings(groups or ()), faults
