"""rTorrent's settings: read in one round trip, applied in one (read back in the same
batch), and speed groups for torrents.  Measured on 0.9.8 (RIG-NOTES): every setting is
gone after a restart; there is no getter for the encryption flags; rates are whole KiB; a
rate above about 320 MiB/s with the global slots left at 0 is applied and then faults
("Max unchoked must be between 0 and 2^16"): such a half-applied write is put back."""
from lib.format import rate as in_words
from model.clients.types import LiveSettings
from model.clients.rtorrent import commands
from model.clients.rtorrent.connection import Fault

RATES = ('down_limit', 'up_limit')
# The encryption presets (model/clients/interface.py) in rTorrent's flags, and every flag it has.
ENCRYPTION_FLAGS = {
    'disabled': ('none',),
    'allowed': ('allow_incoming', 'prefer_plaintext', 'enable_retry'),
    'preferred': ('allow_incoming', 'try_outgoing', 'enable_retry'),
    'required': ('allow_incoming', 'try_outgoing', 'require'),
    'required_rc4': ('allow_incoming', 'try_outgoing', 'require', 'require_RC4'),
}
FLAGS = ('none', 'allow_incoming', 'try_outgoing', 'require', 'require_RC4', 'enable_retry', 'prefer_plaintext')


def encryption_contradiction(flags):
    """Why a set of rTorrent's encryption flags cannot work together, or None."""
    if 'none' in flags and len(flags) > 1:
        return '"none" turns encryption off, yet other flags ask for it'
    if 'require_RC4' in flags and 'require' not in flags:
        return '"require_RC4" needs "require"'
    if 'require' in flags and 'prefer_plaintext' in flags:
        return '"require" refuses plain connections, "prefer_plaintext" asks for them'
    if 'require' in flags and 'enable_retry' in flags:
        return '"require" refuses plain connections, "enable_retry" retries plain ones'
    if 'require' in flags and not {'allow_incoming', 'try_outgoing'} <= flags:
        return '"require" without "allow_incoming" and "try_outgoing" leaves no connection possible'
    return None


class Settings:
    ENCRYPTION_VALUES = ENCRYPTION_FLAGS

    def encryption_preset(self, values):
        """The preset a list of rTorrent's flags is; ValueError naming an unknown flag or the
        contradiction."""
        flags = set(values)
        unknown = sorted(flags - set(FLAGS))
        if unknown:
            raise ValueError("'%s' is not an rTorrent encryption flag (%s)" % (unknown[0], ', '.join(FLAGS)))
        problem = encryption_contradiction(flags)
        if problem:
            raise ValueError('the flags contradict each other: %s' % problem)
        return super().encryption_preset(values)

    def instance(self):
        """rtorrent's process id: it changes when rtorrent restarts (and every setting made
        over XML-RPC is gone)."""
        return self.call(commands.SETTINGS['pid'])

    def _read_calls(self, groups):
        calls = [(commands.SETTINGS['pid'], [])]
        calls += [(getter, []) for getter, _ in commands.SETTINGS_READ.values()]
        for name in groups:
            calls += [(getter, ['', name]) for getter, _ in commands.GROUPS.values()]
        return calls

    def _live(self, answer, groups):
        self._checked(answer[:1 + len(commands.SETTINGS_READ)])
        values = dict(zip(commands.SETTINGS_READ, answer[1:1 + len(commands.SETTINGS_READ)]))
        found, rest = {}, answer[1 + len(commands.SETTINGS_READ):]
        for i, name in enumerate(groups):
            limits = dict(zip(commands.GROUPS, rest[2 * i:2 * i + 2]))
            found[name] = None if any(isinstance(v, Fault) or v < 0 for v in limits.values()) else limits
        return LiveSettings(instance=answer[0], values=values, groups=found)

    def read_settings(self, groups=()):
        groups = list(groups)
        return self._live(self.multicall(self._read_calls(groups)), groups)

    def apply_settings(self, values, groups=None, dropped=()):
        """One batch: the values before, the setters (the slots before the rates: a rate
        above ~320 MiB/s needs them), the speed groups, and everything read back."""
        groups = dict(groups or {})
        before = [(getter, []) for getter, _ in commands.SETTINGS_READ.values()]
        setters, owners = [], []
        for field, (_, setter) in commands.SETTINGS_READ.items():
            if field in values:
                value = values[field] // 1024 if field in RATES else values[field]
                setters.append((setter, ['', value]))
                owners.append(field)
        if 'encryption' in values:
            setters.append((commands.SETTINGS_WRITE['encryption'], [''] + list(ENCRYPTION_FLAGS[values['encryption']])))
            owners.append('encryption')
        for name, limits in list(groups.items()) + [(n, {'down_limit': 0, 'up_limit': 0}) for n in dropped]:
            for field, (_, setter) in commands.GROUPS.items():
                setters.append((setter, ['', name, str(limits.get(field, 0) // 1024)]))
                owners.append('group ' + name)
        shown = list(groups)
        answer = self.multicall(before + setters + self._read_calls(shown))
        old = dict(zip(commands.SETTINGS_READ, self._checked(answer[:len(before)])))
        done = answer[len(before):len(before) + len(setters)]
        live = self._live(answer[len(before) + len(setters):], shown)
        faults, put_back = {}, []
        for owner, result in zip(owners, done):
            if isinstance(result, Fault) and owner not in faults:
                faults[owner] = '%s refused it: %s' % (self.client, result.text)
                if owner in commands.SETTINGS_READ and live.values[owner] != old[owner]:
                    put_back.append(owner)
        for name in groups:
            if ('group ' + name) not in faults and live.groups.get(name) is None:
                faults['group ' + name] = '%s did not create the group' % self.client
        if put_back:
            live = self._put_back(put_back, old, live, faults, shown)
        return live, faults

    def _put_back(self, fields, old, live, faults, groups):
        """A setter that faulted after changing its value (half-applied): its old value again."""
        calls = []
        for field in fields:
            value = old[field] // 1024 if field in RATES else old[field]
            calls.append((commands.SETTINGS_READ[field][1], ['', value]))
        answer = self.multicall(calls + self._read_calls(groups))
        again = self._live(answer[len(calls):], groups)
        for field in fields:
            shown = in_words if field in RATES else str
            faults[field] = ('%s applied it only in part: it took %s, then failed (%s); pyroTorrent set it back '
                             'to %s%s' % (self.client, shown(live.values[field]), faults[field].split(': ', 1)[-1],
                                          shown(again.values[field]) if again.values[field] else 'unlimited',
                                          '. Set the global slots (max_uploads_global, max_downloads_global) above '
                                          '0 first' if 'unchoked' in faults[field] else ''))
        return again

    def set_group(self, hashes, group):
        """d.throttle_name of each torrent ('' : none).  rtorrent refuses it on an active
        torrent, so one is stopped, changed and started again (its ok result says so)."""
        names = commands.TORRENT_GROUP
        states = {}
        first = self._run(hashes, lambda h: [(names['active'], [h])], keep=states)
        active = {r.hash for r in first if r.ok and states[r.hash][0]}

        def calls(h):
            change = [(names['set_group'], [h, group])]
            return [(names['stop'], [h])] + change + [(names['start'], [h])] if h in active else change
        ok = [r.hash for r in first if r.ok]
        done = {r.hash: r for r in self._run(ok, calls)} if ok else {}
        results = [done.get(r.hash, r) for r in first]
        for result in results:
            if result.ok and result.hash in active:
                result.reason = ('%s was stopped and started again around the change (%s cannot change '
                                 'the group of an active torrent)' % (result.hash, self.client))
        return results

