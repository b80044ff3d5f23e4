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
    # The torrent page's summary (RTorrent.torrent_detail) adds these.
    'up_total': 'd.up.total',
    'down_total': 'd.down.total',
    'priority': 'd.priority',            # 0 off, 1 low, 2 normal, 3 high
    'multi_file': 'd.is_multi_file',
    'finished': 'd.timestamp.finished',  # unix time it completed, 0: not yet
    'open': 'd.is_open',                 # 0: closed (files closed, piece map not in memory)
    'chunks': 'd.size_chunks',
    'chunks_completed': 'd.completed_chunks',
    'chunks_hashed': 'd.chunks_hashed',  # progress of a hash check
    'bitfield': 'd.bitfield',            # the piece map in hex, '' while closed
    'directory': 'd.directory',          # multi-file: the torrent's own folder; else the one holding it
    'base_path': 'd.base_path',          # '' while closed
    'tied_file': 'd.tied_to_file',       # the .torrent it was loaded from by path ('' for load.raw)
    'group': 'd.throttle_name',          # its speed group ('' : none)
}
# What the worker looks at every tick (model/events.py): one view multicall over 'main',
# these fields of every torrent and its tracker URLs (a t.multicall nested in it works on
# 0.9.8: a list of [url] a tracker).
# The worker's look at every torrent (Backend.snapshot): the hash, the numbers and the
# message packed in one text a torrent (the message last: only it may hold ':'), the other
# texts apart.  Five values a torrent instead of nineteen: an answer of 3 MB, not 8, at
# 10,000 torrents, and what the worker holds while decoding it shrinks as much.
SNAPSHOT_PACKED = ('hash', 'size', 'completed', 'down_rate', 'up_rate', 'ratio', 'started', 'active',
                   'hashing', 'complete', 'finished', 'added', 'priority', 'down_total', 'message')
SNAPSHOT_TEXTS = ('name', 'label', 'group')
SNAPSHOT_TRACKERS = ('t.multicall', 't.url')
# The views that hold only started torrents (all of them, the incomplete ones): what a paused
# or seed-only profile looks at each tick, instead of every torrent.
STARTED_VIEWS = {False: 'started', True: 'leeching'}
STARTED_FIELDS = ('hash', 'hashing')
# A stopped torrent's figures change only once it is started or checked: then rTorrent
# lists it in one of these views (what a refresh asks instead of looking up idle rows).
WAKE_VIEWS = ('started', 'hashing')
# One row of the torrent list in ONE command.  rtorrent 0.9.8 finds a torrent by hash with
# a linear scan (0.33 ms a command at position 10,000), so a command per field and row
# costs 82 ms for a page of 50 rows at 10,000 torrents; this costs 8 ms.  `branch` runs
# its second argument as a command on the torrent, and `cat` joins the fields with ':'.
# All but the last are numbers, so only the message (last) may hold a ':'.
ROW_FIELDS = ('size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers', 'added',
              'started', 'active', 'hashing', 'chunks_hashed', 'chunks', 'message')
# The fields that are text, not numbers.  In a packed() text only the last may hold ':'
# (a hash is hex, so it may come first).
TEXT_FIELDS = frozenset(('hash', 'name', 'label', 'message', 'bitfield', 'directory', 'base_path',
                         'tied_file', 'group'))
# The fields torrent() asks for one by one (the list's Torrent and its seeders).
PAGE_FIELDS = ('hash', 'name', 'size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers',
               'seeders', 'label', 'added', 'message', 'started', 'active', 'hashing', 'complete')
# The torrent page's numbers in one packed text: every number, then the two texts that
# hold no ':' (hash and bitfield are hex), then the message (last: it may hold ':').  The
# other texts (name, label, directory, base path, tied file) are one command each.
DETAIL_FIELDS = ('hash', 'size', 'completed', 'down_rate', 'up_rate', 'ratio', 'peers', 'seeders',
                 'added', 'started', 'active', 'hashing', 'up_total', 'down_total', 'priority',
                 'multi_file', 'finished', 'open', 'chunks', 'chunks_completed', 'chunks_hashed',
                 'bitfield', 'message')
DETAIL_TEXTS = ('name', 'label', 'directory', 'base_path', 'tied_file', 'group')
# The front page (RTorrent.overview): two view multicalls, each field packed in one text a
# torrent (the message last: it may hold ':').  Over 'started', what the counts and "active
# now" need; over 'stopped' (nothing moves there; most of 10,000 torrents, as a rule) only
# what tells stopped, complete, checking and a message apart: 0.24x the raw 16-field round
# trip instead of 0.44x for OVERVIEW_FIELDS over 'main' (tests/bench/bench_front.py).
# rTorrent moves a torrent between the two views as it is started or stopped.  A third over
# 'hashing' (OVERVIEW_FIELDS) finds the torrents being checked, stopped ones among them.
OVERVIEW_FIELDS = ('hash', 'down_rate', 'up_rate', 'peers', 'started', 'active', 'hashing', 'complete',
                   'message')
OVERVIEW_STOPPED_FIELDS = ('complete', 'hashing', 'message')
OVERVIEW_VIEWS = ('started', 'stopped', 'hashing')


def packed(fields):
    """One command that gives these fields of a torrent as one text, joined with ':'."""
    return 'cat=' + ',:,'.join('(%s)' % TORRENT[f] for f in fields)


ROW = ('branch', 'value=1', packed(ROW_FIELDS))
# The torrents added at or after a time (or at or before it), by ADDED_ROWS: these fields,
# the last the packed ROW_FIELDS; NEWER / OLDER take the bound as a whole number.
ADDED_ROWS = (TORRENT['hash'] + '=', TORRENT['name'] + '=', TORRENT['label'] + '=', packed(ROW_FIELDS))
ADDED_NEWER = 'greater=%s=,value=%%d' % TORRENT['added']     # added > N
ADDED_OLDER = 'less=%s=,value=%%d' % TORRENT['added']        # added < N
DETAIL_ROW = ('branch', 'value=1', packed(DETAIL_FIELDS))

# A torrent's files, peers and trackers: each is one X.multicall over the torrent (one
# lookup of its hash), one row a file / peer / tracker, in rtorrent's index order.
FILE = {
    'path': 'f.path',                    # relative to d.directory, '/' between folders
    'size': 'f.size_bytes',
    'chunks_completed': 'f.completed_chunks',
    'chunks': 'f.size_chunks',           # its size in chunks, rounded up: not what it touches
    'priority': 'f.priority',            # 0 off, 1 normal, 2 high
    # the chunks it touches, first to last + 1: what f.completed_chunks counts (a file that
    # does not start on a chunk boundary can count 6 completed of its 5 f.size_chunks)
    'first_chunk': 'f.range_first',
    'end_chunk': 'f.range_second',
}
PEER = {
    'address': 'p.address',
    'port': 'p.port',
    'client': 'p.client_version',
    'incoming': 'p.is_incoming',
    'encrypted': 'p.is_encrypted',
    'snubbed': 'p.is_snubbed',
    'percent': 'p.completed_percent',    # how much of the torrent the peer has, 0-100
    'up_rate': 'p.up_rate',
    'down_rate': 'p.down_rate',
    'up_total': 'p.up_total',
    'down_total': 'p.down_total',
}
# rtorrent 0.9.8 keeps no per-tracker message (no t.message): d.message holds the last one.
TRACKER = {
    'url': 't.url',
    'enabled': 't.is_enabled',
    'successes': 't.success_counter',
    'failures': 't.failed_counter',
    'scrapes': 't.scrape_counter',
    'seeders': 't.scrape_complete',
    'leechers': 't.scrape_incomplete',
    'downloaded': 't.scrape_downloaded',
    'latest_event': 't.latest_event',    # 0 none, 1 completed, 2 started, 3 stopped, 4 scrape
    'latest_peers': 't.latest_sum_peers',
    'last_activity': 't.activity_time_last',
    'next_activity': 't.activity_time_next',
    'last_success': 't.success_time_last',
    'last_failure': 't.failed_time_last',
    'last_scrape': 't.scrape_time_last',
}
MULTICALL = {'files': 'f.multicall', 'peers': 'p.multicall', 'trackers': 't.multicall'}
# The list's tracker filter: every tracker URL of a torrent, [[url], ...] in index order (the
# first is the one the filter counts), a command of the list's d.multicall2, so no lookup by
# hash.  A list, not one text: a URL may hold any separator (a space split one in two).
LIST_TRACKERS = '%s=,%s=' % (MULTICALL['trackers'], TRACKER['url'])

# What each action sends to a torrent, in order (model/rtorrent.py documents the states
# each leaves, measured on 0.9.8).  d.close alone leaves d.state 1 with the files closed,
# a torrent d.start cannot restart, so close and erase stop first; d.resume on a stopped
# torrent marks it active while d.state stays 0, so start/resume open and start first.
ACTIONS = {
    'start': ('d.open', 'd.start', 'd.resume'),
    'resume': ('d.open', 'd.start', 'd.resume'),
    'stop': ('d.stop',),
    'pause': ('d.pause',),
    'close': ('d.stop', 'd.close'),
    'recheck': ('d.check_hash',),
    'announce': ('d.tracker_announce',),
    'erase': ('d.stop', 'd.close', 'd.erase'),
}
# Commands that take a value (always an XML-RPC parameter, never spliced into a command).
SETTERS = {
    'label': 'd.custom1.set',
    'priority': 'd.priority.set',
    'directory': 'd.directory.set',
    'update_priorities': 'd.update_priorities',   # makes new file priorities take effect
    'file_priority': 'f.priority.set',            # target 'HASH:fINDEX'
    'tracker_enabled': 't.is_enabled.set',        # target 'HASH:tINDEX'
}

# The figures every page's header shows.
GLOBAL = {
    'down_rate': 'throttle.global_down.rate',
    'up_rate': 'throttle.global_up.rate',
    'down_limit': 'throttle.global_down.max_rate',
    'up_limit': 'throttle.global_up.max_rate',
    'library_version': 'system.library_version',
    'client_version': 'system.client_version',
    'views': 'view.list',
    'download_directory': 'directory.default',   # its free space: measured where pyroTorrent sees it
}

SYSTEM = {
    'multicall': 'system.multicall',
    'branch': 'branch',                 # with 'value' and 'cat': the ROW above
    'value': 'value',
    'cat': 'cat',
    'methods': 'system.listMethods',
    'api_version': 'system.api_version',
    'view_size': 'view.size',
    'session_path': 'session.path',     # where rtorrent keeps HASH.torrent of each torrent
}

# The command that runs d.* commands over a whole view.  rTorrent 0.9 calls it
# d.multicall2; 0.16 makes d.multicall the main name again (d.multicall2 an alias).
VIEW_MULTICALL = ('d.multicall2', 'd.multicall')
# One pass over a view keeping the torrents a condition (on d.load_date) holds for: no hash
# lookups (about 1 ms each deep in a list of 10,000; the pass about 20 ms).  Since 0.9.7:
# used when the daemon lists it (Connection.offers).
FILTERED_MULTICALL = 'd.multicall.filtered'

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
REQUEST_LIMIT = 'network.xmlrpc.size_limit'

# Transfer totals for the worker's statistics (model/clients/rtorrent/totals.py): ONE d.multicall2
# over 'main' with these numbers packed in one text a torrent (label last: it may hold ':'),
# and, when the sampler asks for details, the name and every tracker's URL as well: a
# t.multicall inside d.multicall2 runs on each torrent with no lookup by hash (measured on
# 0.9.8: 't.multicall=,t.url=' gives [[url], ...] per torrent).
TOTALS_FIELDS = ('hash', 'up_total', 'down_total', 'added', 'label')
TOTALS_DETAILS = ('d.name=', 't.multicall=,t.url=')

# Settings (model/clients/rtorrent/settings.py).  rtorrent 0.9.8 forgets all of them on restart;
# system.pid tells that it restarted.
SETTINGS = {
    'pid': 'system.pid',
}
# Settings rtorrent can report: model.settings field -> (getter, setter).  The rates are set
# in whole KiB (.set rounds bytes to KiB anyway: 2000000 -> 1999872).
SETTINGS_READ = {
    'max_uploads_global': ('throttle.max_uploads.global', 'throttle.max_uploads.global.set'),
    'max_downloads_global': ('throttle.max_downloads.global', 'throttle.max_downloads.global.set'),
    'down_limit': ('throttle.global_down.max_rate', 'throttle.global_down.max_rate.set_kb'),
    'up_limit': ('throttle.global_up.max_rate', 'throttle.global_up.max_rate.set_kb'),
    'min_peers': ('throttle.min_peers.normal', 'throttle.min_peers.normal.set'),
    'max_peers': ('throttle.max_peers.normal', 'throttle.max_peers.normal.set'),
    'min_peers_seed': ('throttle.min_peers.seed', 'throttle.min_peers.seed.set'),
    'max_peers_seed': ('throttle.max_peers.seed', 'throttle.max_peers.seed.set'),
    'max_uploads': ('throttle.max_uploads', 'throttle.max_uploads.set'),
}
# Settings it takes but cannot report (0.9.8 has no getter).
SETTINGS_WRITE = {
    'encryption': 'protocol.encryption.set',        # the flags, one argument each
}
# Named speed groups: `throttle.up = NAME, "KiB"` makes or sets one; .max reads it (-1: no
# such group; 0 while the global rate of that direction is unlimited).  None can be listed
# and all vanish on restart; a torrent's d.throttle_name stays.
GROUPS = {
    'up_limit': ('throttle.up.max', 'throttle.up'),
    'down_limit': ('throttle.down.max', 'throttle.down'),
}
TORRENT_GROUP = {
    'group': 'd.throttle_name',
    'set_group': 'd.throttle_name.set',  # refused on an active torrent: stopped around it
    'active': 'd.is_active',
    'stop': 'd.stop',
    'start': 'd.start',
}   # bytes of one XML-RPC request it takes


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

# -- the guard ---------------------------------------------------------------------------
# Commands no page may ever reach: they run programs, define or change commands, read
# files as config, schedule either, or open rtorrent's control socket elsewhere.
FORBIDDEN = ('execute', 'method.', 'import', 'try_import', 'schedule', 'network.scgi.',
             'system.file.', 'system.shell')


def _allowed():
    """Every command name in this module's tables: RTorrent sends nothing else."""
    names = set()
    for table in (TORRENT, FILE, PEER, TRACKER, MULTICALL, ACTIONS, SETTERS, GLOBAL, SYSTEM,
                  LOAD, ON_LOAD, LOADED, SETTINGS, SETTINGS_READ, SETTINGS_WRITE, GROUPS,
                  TORRENT_GROUP):
        for value in table.values():
            names.update((value,) if isinstance(value, str) else value)
    names.update(VIEW_MULTICALL + (FILTERED_MULTICALL, REQUEST_LIMIT,) + SNAPSHOT_TRACKERS)
    bad = sorted(n for n in names if n.startswith(FORBIDDEN))
    if bad:
        raise RuntimeError('model/clients/rtorrent/commands.py lists forbidden commands: %s' % ', '.join(bad))
    return frozenset(names)


ALLOWED = _allowed()
