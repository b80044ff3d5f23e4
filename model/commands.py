"""Every rTorrent command pyroTorrent sends, in one table (rTorrent 0.9 names).

Friendly name -> command.  An rTorrent API change is an edit here and nowhere else; no
command name is ever built from text a user typed.
"""

# One torrent (d.*), as the torrent list and the torrent page show it.
TORRENT = {
    'hash': 'd.hash',
    'name': 'd.name',
    'size': 'd.size_bytes',
    'completed': 'd.completed_bytes',
    'down_rate': 'd.down.rate',
    'up_rate': 'd.up.rate',
    'ratio': 'd.ratio',                  # per mille
    'peers': 'd.peers_connected',
    'seeders': 'd.peers_complete',
    'label': 'd.custom1',                # the label ruTorrent and pyrocore use too
    'added': 'd.load_date',              # unix time the torrent was added
    'message': 'd.message',              # the tracker's last complaint, if any
    'started': 'd.state',                # 1: started, 0: stopped
    'active': 'd.is_active',             # 0 while started: paused
    'hashing': 'd.hashing',              # non-zero while checking
    'complete': 'd.complete',            # 1: every byte is there (sorting by state)
    'left': 'd.left_bytes',              # bytes still to get (sorting by ETA)
}
# One row of the torrent list in ONE command.  rtorrent 0.9.8 finds a torrent by hash with
# a linear scan (0.33 ms a command at position 10,000), so a command per field and row
# costs 82 ms for a page of 50 rows at 10,000 torrents; this costs 8 ms.  `branch` runs
# its second argument as a command on the torrent, and `cat` joins the fields with ':'.
# All but the last are numbers, so only the message (last) may hold a ':'.
ROW_FIELDS = ('size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers', 'added',
              'started', 'active', 'hashing', 'message')
# The fields that are text, not numbers.  In a packed() text only the last may hold ':'
# (a hash is hex, so it may come first).
TEXT_FIELDS = frozenset(('hash', 'name', 'label', 'message'))


def packed(fields):
    """One command that gives these fields of a torrent as one text, joined with ':'."""
    return 'cat=' + ',:,'.join('(%s)' % TORRENT[f] for f in fields)


ROW = ('branch', 'value=1', packed(ROW_FIELDS))

# The figures every page's header shows.
GLOBAL = {
    'down_rate': 'throttle.global_down.rate',
    'up_rate': 'throttle.global_up.rate',
    'down_limit': 'throttle.global_down.max_rate',
    'up_limit': 'throttle.global_up.max_rate',
    'library_version': 'system.library_version',
    'client_version': 'system.client_version',
    'views': 'view.list',
}

SYSTEM = {
    'multicall': 'system.multicall',
    'branch': 'branch',                 # with 'value' and 'cat': the ROW above
    'value': 'value',
    'cat': 'cat',
    'methods': 'system.listMethods',
    'api_version': 'system.api_version',
    'view_size': 'view.size',
}

# The command that runs d.* commands over a whole view.  rTorrent 0.9 calls it
# d.multicall2; 0.16 makes d.multicall the main name again (d.multicall2 an alias).
VIEW_MULTICALL = ('d.multicall2', 'd.multicall')


# -- the guard ---------------------------------------------------------------------------
# Commands no page may ever reach: they run programs, define or change commands, read
# files as config, schedule either, or open rtorrent's control socket elsewhere.
FORBIDDEN = ('execute', 'method.', 'import', 'try_import', 'schedule', 'network.scgi.',
             'system.file.', 'system.shell')


def _allowed():
    """Every command name in this module's tables: RTorrent sends nothing else."""
    names = set()
    for key, table in globals().items():
        if key.isupper() and key != 'FORBIDDEN' and not key.endswith('_FIELDS') and isinstance(table, (dict, tuple)):
            values = table.values() if isinstance(table, dict) else table
            names.update(v for v in values if isinstance(v, str) and '=' not in v and ' ' not in v)
    bad = sorted(n for n in names if n.startswith(FORBIDDEN))
    if bad:
        raise RuntimeError('model/commands.py lists forbidden commands: %s' % ', '.join(bad))
    return frozenset(names)


ALLOWED = _allowed()
