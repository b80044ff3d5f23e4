"""The neutral types every client fills and every page reads: a torrent, a list, a
header, one torrent in full (files, peers, trackers, its folder tree and piece map), what
adding and acting did, the transfer totals; the states and priorities, the sort columns,
and the small rules over them (a torrent's state, what counts as active or idle).
Nothing here knows a client or a command name.
"""
import dataclasses
import functools
import ipaddress
import typing
import urllib.parse


# Columns of the torrent list a user can sort by (URL value -> label shown).
COLUMNS = {
    'name': 'Name', 'size': 'Size', 'done': 'Done', 'state': 'State', 'down': '↓',
    'up': '↑', 'ratio': 'Ratio', 'peers': 'Peers', 'label': 'Label', 'eta': 'ETA',
    'added': 'Added',
}


# Columns whose natural first order is largest first.
DESCENDING_FIRST = {'size', 'down', 'up', 'ratio', 'peers', 'added'}


STATES = ('checking', 'downloading', 'seeding', 'paused', 'stopped', 'complete', 'queued')


@dataclasses.dataclass
class LiveSettings:
    """A client's settings as it reports them now (model/settings.py names the fields)."""
    instance: object          # Backend.instance(): changes when the client restarts
    values: dict              # field -> value, for the fields of Capabilities.settings_read
    groups: dict              # speed group name -> {'down_limit', 'up_limit'}, None: it has no such group


@dataclasses.dataclass
class ListQuery:
    """Which torrents a list page shows: a view, sorted, filtered, one page of it."""
    view: str = 'main'
    sort: str = 'name'
    reverse: bool = False
    text: str = ''            # shown if the name contains it (case-insensitive)
    label: str = None         # None: any label; '': only torrents without one
    tracker: str = None       # None: any tracker; '': only torrents without one; else a tracker_domain()
    state: str = None         # None: any; a STATE_FILTERS key (torrent_matches())
    page: int = 1
    per_page: int = 50

    def order_and_cut(self, rows, sort_keys):
        """This query's page of rows ({'name':, ...} dicts, sorted in place): by name, then by
        the sort column's key (sort_keys[column](row)), stable, in the query's order."""
        rows.sort(key=lambda r: r['name'].casefold())
        if self.sort != 'name':
            rows.sort(key=sort_keys[self.sort], reverse=self.reverse)
        elif self.reverse:
            rows.reverse()
        first = (self.page - 1) * self.per_page
        return rows[first:first + self.per_page]


@dataclasses.dataclass
class Header:
    """The figures every page shows for a target."""
    down_rate: int
    up_rate: int
    down_limit: int           # 0: unlimited
    up_limit: int
    library_version: str
    client_version: str
    views: list               # view names; a client without views of its own lists filters
    client: str = ''          # the client's name, as Capabilities.client
    view_titles: dict = None  # view name -> what a page calls it, when that differs from the name
    hidden_views: tuple = ()  # views the menu leaves out (they hold what another one does)
    download_directory: str = ''  # where new torrents' data goes, as the client names it
    free_space: int = None    # bytes free for it there; None: not known (Capabilities.free_space)


@dataclasses.dataclass
class Torrent:
    hash: str
    name: str
    size: int
    completed: int
    down_rate: int
    up_rate: int
    ratio: float              # uploaded / downloaded, 1.0 = 100 %
    peers: int
    label: str
    added: int                # unix time, 0 if unknown
    message: str
    state: str                # one of STATES
    eta: int = None           # seconds until complete at the current rate; None: not downloading
    seeders: int = None       # connected peers that are complete (torrent page only)
    labels: tuple = ()        # every label, for a client with several a torrent ('many')
    queue_position: int = None    # its place in the client's queue (Capabilities.queue)
    checked: float = None     # while checking: the fraction of its pieces checked so far

    @property
    def progress(self):
        return 1.0 if self.size <= 0 else self.completed / self.size

    def as_dict(self):
        data = dataclasses.asdict(self)
        data['progress'] = round(self.progress, 4)
        if self.ratio == float('inf'):  # uploaded with nothing downloaded: JSON has no infinity
            data['ratio'] = None
        for key in ('seeders', 'queue_position', 'checked'):   # only the torrent page / some clients / states
            if data[key] is None:
                del data[key]
        data['labels'] = list(self.labels)
        return data


@dataclasses.dataclass(slots=True)
class Seen:
    """One torrent as the worker sees it each tick (Backend.snapshot): what schedules,
    rules and events look at.  Slots: the worker holds 10,000 of them."""
    hash: str
    name: str
    label: str
    state: str                # one of STATES
    size: int
    completed: int
    down_rate: int
    up_rate: int
    ratio: float              # 1.0 = 100 %
    finished: int             # unix time it completed, 0: not yet (or unknown)
    added: int
    message: str              # the tracker's last complaint, '' if none
    trackers: tuple = ()      # its tracker URLs
    priority: int = 2
    group: str = ''
    downloaded: int = 0       # bytes it received (0: loaded complete, never downloaded here)

    @property
    def complete(self):
        return self.size > 0 and self.completed >= self.size

    @property
    def started(self):
        return self.state in ('downloading', 'seeding', 'paused', 'checking')

    @property
    def tracker_hosts(self):
        return {(urllib.parse.urlsplit(u).hostname or '').lower() for u in self.trackers} - {''}


RUN_SLACK = 2          # seconds two estimates of one run's start may differ by (a run shorter is not told apart)


def same_run(a, b):
    """Whether two Backend.instance() values name the same run of a daemon: equal, or
    both 'started N' (a start time known to a second or two, Transmission's) at most
    RUN_SLACK seconds apart.  None (never seen) is no run."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    try:
        left, right = (int(x[len('started '):]) for x in (a, b) if x.startswith('started '))
    except (AttributeError, ValueError):
        return False
    return abs(left - right) <= RUN_SLACK


@functools.lru_cache(maxsize=4096)       # a list page asks it for every torrent; few URLs repeat
def tracker_domain(url):
    """What a tracker is known by: the domain of its announce URL, without a port, 'www.'
    or one more label in front of the registered name ('tracker.example.org' and
    'tr2.example.org' are 'example.org'; 'x.example.co.uk' is 'example.co.uk'); an address
    stays itself; '' for none.  The statistics' tracker series and the list's tracker
    filter both use it."""
    if not url:
        return ''
    try:
        host = (urllib.parse.urlsplit(url.strip()).hostname or '').lower().rstrip('.')
    except ValueError:
        return ''
    if not host:
        return ''
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split('.')
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return '.'.join(labels[-keep:])


def torrent_state(started, active, hashing, complete):
    """What a user calls the state; complete means every byte is there (completed == size)."""
    if hashing:
        return 'checking'
    if not started:
        return 'complete' if complete else 'stopped'
    if not active:
        return 'paused'
    return 'seeding' if complete else 'downloading'


# The states a list is filtered by, as the front page and the list's sidebar count and name
# them, in the order shown: one table for both pages (torrent_matches, count_states).
# 'complete' is the state (every byte there, stopped), as the state column says it; 'stalled'
# is downloading with no peer connected and no tracker message; 'error' has a message;
# 'active' moves data or checks now (is_active_now).
STATE_FILTERS = {'downloading': 'downloading', 'seeding': 'seeding', 'paused': 'paused', 'stopped': 'stopped',
                 'checking': 'checking', 'queued': 'queued', 'complete': 'complete', 'stalled': 'stalled',
                 'error': 'with an error', 'active': 'active'}


def torrent_matches(wanted, state, peers, message, down_rate=0, up_rate=0):
    """Whether a torrent in this state, with these peers, message and rates, is in the
    list's state filter `wanted` (None: any)."""
    if wanted is None or wanted == state:
        return True
    if wanted == 'stalled':
        return state == 'downloading' and not peers and not message
    if wanted == 'active':
        return is_active_now(down_rate, up_rate, state)
    return wanted == 'error' and bool(message)


def count_states(rows):
    """{STATE_FILTERS key: torrents} for (state, peers, message, down_rate, up_rate) rows, in one pass."""
    counts = dict.fromkeys(STATE_FILTERS, 0)
    for state, peers, message, down_rate, up_rate in rows:
        counts[state] += 1
        if message:
            counts['error'] += 1
        elif state == 'downloading' and not peers:
            counts['stalled'] += 1
        if is_active_now(down_rate, up_rate, state):
            counts['active'] += 1
    return counts


def eta(left, down_rate, state):
    """Seconds until complete at the current rate; None unless it is downloading."""
    if state != 'downloading' or left <= 0 or down_rate <= 0:
        return None
    return int(left / down_rate)


@dataclasses.dataclass
class TorrentList:
    header: Header
    query: ListQuery
    torrents: list            # of Torrent: this page only
    total: int                # torrents that match the query, all pages
    view_total: int           # torrents in the view before filtering
    labels: dict              # label -> count in the view ('' = no label); None: not asked (a refresh)
    view_sizes: dict          # view name -> torrents in it
    trackers: dict = None     # tracker_domain() of its first tracker -> count in the view ('' = none);
                              # None: not asked (a refresh)
    states: dict = None       # STATE_FILTERS key -> count in the view (count_states()); None: not asked

    @property
    def pages(self):
        return max(1, -(-self.total // self.query.per_page))


@dataclasses.dataclass
class Overview:
    """A target at a glance (Backend.overview), for the front page: its figures, how many
    torrents are in each state, and what is moving data or checking now."""
    header: Header
    total: int                # every torrent
    counts: dict              # STATE_FILTERS key -> torrents (count_states())
    active: list              # of Torrent: moving data or checking now, fastest first, the first few
    active_total: int         # how many are, in all

    @property
    def more_active(self):
        return self.active_total - len(self.active)


def is_active_now(down_rate, up_rate, state):
    """Moving data or checking: what the front page lists under "active now".  Rates are
    moving averages that stay above zero a while after a pause or a stop: only a torrent
    that is transferring counts them."""
    if state == 'checking':
        return True
    return state in ('downloading', 'seeding') and (down_rate > 0 or up_rate > 0)


def is_idle(torrent):
    """Stopped, not checking, no rate left over: a row whose figures stay as they are until
    it is started or checked (what a refresh may keep instead of asking: lib.idle_rows)."""
    return torrent.state in ('stopped', 'complete') and not torrent.down_rate and not torrent.up_rate


PRIORITIES = {0: 'off', 1: 'low', 2: 'normal', 3: 'high'}          # a torrent's (d.priority)


MAX_DIRECTORY = 4096          # bytes of a download directory (Linux PATH_MAX)


MAX_LABEL = 1024              # bytes of a label


@dataclasses.dataclass(frozen=True)
class AddOptions:
    """How a batch of torrents is added; checked when made (ValueError, in words).

    Which directories a user may choose (the target's configured ones) is the page's
    rule; here a directory only has to be an absolute path a client can be given."""
    start: bool = True        # start now, or add stopped
    directory: str = None     # where the data goes; None: the client's default
    label: str = ''           # '' : none
    priority: int = 2         # a key of `priorities`
    priorities: dict = dataclasses.field(default_factory=lambda: PRIORITIES, repr=False, compare=False)
    # ^ the target client's torrent priority scale (Capabilities.priorities)

    def __post_init__(self):
        if not isinstance(self.start, bool):
            raise ValueError('start must be True or False')
        if self.priority not in self.priorities or isinstance(self.priority, bool):
            raise ValueError('the priority must be one of %s, not %r'
                             % (', '.join('%d (%s)' % kv for kv in self.priorities.items()), self.priority))
        if self.directory is not None:
            check_text('the download directory', self.directory, MAX_DIRECTORY)
            if not self.directory.startswith('/'):
                raise ValueError('the download directory must be an absolute path (begin with "/"), '
                                 'not %r' % self.directory)
        check_text('the label', self.label, MAX_LABEL)


def check_text(what, text, limit):
    if not isinstance(text, str):
        raise ValueError('%s must be text' % what)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError('%s may not hold control characters (tabs, line breaks...)' % what)
    try:
        size = len(text.encode('utf-8'))
    except UnicodeEncodeError:
        raise ValueError('%s is not valid text' % what) from None
    if size > limit:
        raise ValueError('%s is %d bytes long; at most %d' % (what, size, limit))


@dataclasses.dataclass
class AddResult:
    """What happened to one item of a batch of adds.

    added:   loaded with every option; name, size (None for a magnet link: unknown until
             the metadata arrives) and info_hash are set.  note: None, or what the
             client's own configuration changed right after (its label rules...), in words.
    present: the client already had a torrent with this info_hash (its name is given);
             nothing was changed.
    refused: reason says why, in words; nothing was loaded.  info_hash and name are set
             when they were known."""
    status: str               # 'added', 'present' or 'refused'
    source: str = ''          # the item as the user knows it: a file name, a link
    info_hash: str = None
    name: str = None
    size: int = None
    reason: str = None
    note: str = None

    def as_dict(self):
        return dataclasses.asdict(self)


class TorrentTotals(typing.NamedTuple):
    """The bytes one torrent has moved in its life, as the client counts them."""
    hash: str                 # upper-case hex
    up_total: int             # payload bytes sent and received, all time (rTorrent: kept in its session)
    down_total: int
    label: str                # '' : none
    added: int = 0            # unix time the client loaded it (0: unknown)
    tracker: str = None       # the first tracker's announce URL ('' none; None: details not asked)
    name: str = None          # None: details not asked


@dataclasses.dataclass
class TransferTotals:
    """One snapshot of every torrent's totals (Backend.transfer_totals), in one round trip."""
    instance: object          # what Backend.instance() gives: it changes when the client restarts
    torrents: list            # of TorrentTotals
    details: bool             # whether tracker and name were asked for


# -- one torrent in full (the torrent page) ---------------------------------------------

FILE_PRIORITIES = {0: 'off', 1: 'normal', 2: 'high'}               # a file's (f.priority)


TRACKER_EVENTS = {0: '', 1: 'completed', 2: 'started', 3: 'stopped', 4: 'scrape'}


@dataclasses.dataclass
class File:
    """One file of a torrent, as any client describes it (transmission-rpc's File shape)."""
    index: int                # the client's index: what set_file_priorities takes
    path: str                 # relative to TorrentDetail.directory, '/' between folders
    size: int
    completed: int            # bytes of it that are there
    priority: int             # a key of the backend's Capabilities.file_priorities
    wanted: bool = True       # False: skipped (a client with a separate flag for it)
    scale: dict = dataclasses.field(default=None, repr=False, compare=False)   # its priority words

    @property
    def name(self):
        return self.path.rsplit('/', 1)[-1]

    @property
    def progress(self):
        return 1.0 if self.size <= 0 else min(1.0, self.completed / self.size)

    @property
    def priority_name(self):
        return (self.scale or FILE_PRIORITIES).get(self.priority, str(self.priority))


@dataclasses.dataclass
class Peer:
    address: str
    port: int
    client: str
    incoming: bool
    encrypted: bool
    percent: int              # how much of the torrent the peer has, 0-100
    up_rate: int
    down_rate: int
    snubbed: bool = None      # None: the client does not say (so are the totals)
    up_total: int = None
    down_total: int = None


@dataclasses.dataclass
class Tracker:
    index: int                # what set_tracker_enabled takes
    url: str
    enabled: bool
    successes: int            # announces that worked (None: the client does not count them)
    failures: int             # announces that failed in a row (None: not counted)
    scrapes: int              # (None: not counted)
    seeders: int              # from the last scrape (0 until one succeeded)
    leechers: int
    downloaded: int
    latest_event: str         # a value of TRACKER_EVENTS
    latest_peers: int
    last_activity: int        # unix times, 0: never
    next_activity: int
    last_success: int
    last_failure: int
    last_scrape: int
    last_result: str = ''     # the tracker's last answer in words, when the client keeps it


@dataclasses.dataclass
class Folder:
    """A folder of a torrent's file tree; the root has name '' and path ''."""
    name: str
    path: str
    folders: list = dataclasses.field(default_factory=list)    # of Folder, by name
    files: list = dataclasses.field(default_factory=list)      # of File, by name
    size: int = 0
    done: float = 0.0         # bytes done, estimated from each file's chunks

    @property
    def progress(self):
        return 1.0 if self.size <= 0 else self.done / self.size

    @property
    def indexes(self):
        """Every file index below this folder: what a folder-wide priority change sets."""
        return [f.index for f in self.all_files()]

    @property
    def priority(self):
        """The files' common priority, or None when they differ."""
        found = {f.priority for f in self.all_files()}
        return found.pop() if len(found) == 1 else None

    def all_files(self):
        for folder in self.folders:
            yield from folder.all_files()
        yield from self.files


def file_tree(files):
    """The Folder tree of a torrent's files (a single-file torrent: one file at the root),
    with each folder's size and progress; folders and files sorted by name."""
    root = Folder('', '')
    for file in files:
        folder = root
        parts = file.path.split('/')
        for depth, part in enumerate(parts[:-1]):
            child = next((f for f in folder.folders if f.name == part), None)
            if child is None:
                child = Folder(part, '/'.join(parts[:depth + 1]))
                folder.folders.append(child)
            folder = child
        folder.files.append(file)

    def total(folder):
        folder.folders.sort(key=lambda f: f.name.casefold())
        folder.files.sort(key=lambda f: f.name.casefold())
        folder.size = sum(f.size for f in folder.files)
        folder.done = sum(f.size * f.progress for f in folder.files)
        for child in folder.folders:
            total(child)
            folder.size += child.size
            folder.done += child.done
    total(root)
    return root


def piece_map(bitfield, chunks, buckets=100):
    """The piece map as at most `buckets` fractions (0.0-1.0) of pieces present, left to
    right, for a bar; None when rtorrent holds no bitfield (a closed torrent)."""
    if chunks <= 0 or not bitfield:
        return None
    try:
        bits = bin(int(bitfield, 16))[2:].zfill(len(bitfield) * 4)[:chunks]
    except ValueError:
        return None
    buckets = max(1, min(buckets, chunks))
    out = []
    for i in range(buckets):
        part = bits[i * chunks // buckets:(i + 1) * chunks // buckets]
        out.append(part.count('1') / len(part))
    return out


@dataclasses.dataclass
class TorrentDetail:
    """Everything the torrent page shows, from one round trip (RTorrent.torrent_detail).

    Paths are as rtorrent names them; local_directory and local_metafile are where
    pyroTorrent sees them (None when it cannot: a remote target without a path_map)."""
    torrent: Torrent          # name, size, state, rates, ratio, ETA, label, message, ...
    up_total: int
    down_total: int
    priority: int             # a key of PRIORITIES
    directory: str            # multi-file: the torrent's own folder; single: the folder holding it
    base_path: str            # the file or folder itself ('' while closed)
    multi_file: bool
    finished: int             # unix time it completed, 0: not yet
    open: bool                # False: closed (files closed, no piece map in memory)
    chunks: int
    chunks_completed: int
    chunks_hashed: int
    pieces: list              # piece_map(): fractions for a bar, or None
    metafile: str             # rtorrent's copy of the .torrent: SESSION/HASH.torrent ('' if none)
    tied_file: str            # the .torrent it was loaded from by path ('' if none)
    files: list               # of File, in index order
    peers: list               # of Peer
    trackers: list            # of Tracker, in index order
    scrape_seeders: int       # the largest scrape figure among the enabled trackers
    scrape_leechers: int
    local_directory: str = None
    local_metafile: str = None
    can_delete_data: bool = False   # the target declares a download root holding this torrent
    movable: bool = False     # its download directory may be changed now (the client's rule)
    downloadable: bool = False   # its data lies in a folder pyroTorrent may serve from
    group: str = ''           # its speed group ('' : none; model/settings.py)
    down_limit: int = None    # its own speed limits in bytes/s, 0: none (None: no such thing;
    up_limit: int = None      # Capabilities.torrent_limits)
    scale: dict = dataclasses.field(default=None, repr=False, compare=False)   # its priority words

    @property
    def priority_name(self):
        return (self.scale or PRIORITIES).get(self.priority, str(self.priority))

    @property
    def check_progress(self):
        """Fraction of the hash check done while checking, else None."""
        if self.torrent.state != 'checking' or self.chunks <= 0:
            return None
        return self.chunks_hashed / self.chunks

    @property
    def tree(self):
        return file_tree(self.files)


@dataclasses.dataclass
class ActionResult:
    """What one action did to one torrent: ok, or the reason in words."""
    hash: str
    ok: bool
    reason: str = ''
    erased_data: object = None   # erase with delete_data: a lib.erase.EraseReport
