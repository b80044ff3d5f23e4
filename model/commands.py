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

# Adding torrents.  The load command by (what is added, start it now); the option commands
# ride along as load's extra arguments, so rtorrent applies them while loading: nothing
# is ever listed without them.  A magnet link loads as a small "meta" download that
# fetches the metadata; rtorrent keeps these commands and runs them again on the real
# torrent once the metadata has arrived (Manager::try_create_download_from_meta_download).
LOAD = {
    ('metafile', True): 'load.raw_start',
    ('metafile', False): 'load.raw',
    ('magnet', True): 'load.start',
    ('magnet', False): 'load.normal',
}
ON_LOAD = {
    'directory': 'd.directory.set',     # for several files: the folder their folder goes in
    'label': 'd.custom1.set',
    'priority': 'd.priority.set',       # 0 off, 1 low, 2 normal, 3 high
}
# Read back after the load, to prove it was taken with every option.
LOADED = {
    'name': 'd.name',
    'directory': 'd.directory',
    'label': 'd.custom1',
    'priority': 'd.priority',
    'started': 'd.state',
}
REQUEST_LIMIT = 'network.xmlrpc.size_limit'   # bytes of one XML-RPC request it takes


def argument(text):
    """text as one argument inside an rtorrent command string ('d.custom1.set=' + this).

    rtorrent parses the text after '=' itself: unquoted, ',' splits arguments, spaces are
    trimmed, '\\' escapes and a leading '$' or '(' runs a command (measured on 0.9.8:
    'x,d.erase=' stored '', '(d.erase)' erased the torrent).  Inside double quotes every
    character is literal once '"' and '\\' are escaped with '\\' (',', ';', '=', '(', '{',
    newlines: all stored verbatim), except that a value which *begins* with '$' is still
    run as a command ('"$d.name="' stores the torrent's name; escaping the '$' does not
    help).  XML 1.0 cannot carry most control characters and turns '\\r' into '\\n'.  So:
    ValueError for a leading '$' or any control character, else quoted and escaped."""
    if not isinstance(text, str):
        raise TypeError('an argument is text, not %s' % type(text).__name__)
    if text.startswith('$'):
        raise ValueError('may not begin with "$" (rTorrent would run it as a command)')
    for ch in text:
        if ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError('may not hold control characters such as %r' % ch)
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')
