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
}
# The torrent list's rows leave out what costs a lookup and can be derived or waits for
# the torrent page: rtorrent 0.9.8 finds a torrent by hash with a linear scan (0.33 ms a
# command at position 10,000), so every field of a row is a scan.
LIST_ROW = ('hash', 'name', 'size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers',
            'label', 'added', 'message', 'started', 'active', 'hashing')

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
    'methods': 'system.listMethods',
    'api_version': 'system.api_version',
    'view_size': 'view.size',
}

# The command that runs d.* commands over a whole view.  rTorrent 0.9 calls it
# d.multicall2; 0.16 makes d.multicall the main name again (d.multicall2 an alias).
VIEW_MULTICALL = ('d.multicall2', 'd.multicall')
