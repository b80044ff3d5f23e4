"""What pages ask of a torrent client, independent of which client it is.

Handlers talk to a Backend (model/clients/rtorrent/ today; every client one folder) and get plain
data back: Header, Torrent, TorrentList, AddResult.  Nothing here knows a command name.
Each Backend declares up front what it can do (Capabilities), so a page offers only what
the target's client does; nothing waits to fail at call time.
"""
import contextlib
import dataclasses
import functools
import ipaddress
import threading
import time
import typing
import urllib.parse

from lib import deadline
from model.clients.errors import TimedOut

# Columns of the torrent list a user can sort by (URL value -> label shown).
COLUMNS = {
    'name': 'Name', 'size': 'Size', 'done': 'Done', 'state': 'State', 'down': '↓',
    'up': '↑', 'ratio': 'Ratio', 'peers': 'Peers', 'label': 'Label', 'eta': 'ETA',
    'added': 'Added',
}
# Columns whose natural first order is largest first.
DESCENDING_FIRST = {'size', 'down', 'up', 'ratio', 'peers', 'added'}
STATES = ('checking', 'downloading', 'seeding', 'paused', 'stopped', 'complete', 'queued')
# What each action does, in words a page can show beside its button.
ACTION_HELP = {
    'start': 'connect to peers and transfer',
    'resume': 'go on after a pause',
    'stop': 'stop transferring; files stay open, the piece map known',
    'pause': 'stop transferring for now; peers stay connected, it goes on at once when resumed',
    'close': 'stop and close its files (needed before its folder can change)',
    'recheck': 'check the data on disk against the torrent, piece by piece',
    'announce': 'ask the trackers for peers now',
    'erase': 'remove it from the client; its data stays on disk unless you choose otherwise',
    'start_now': 'start at once, ahead of the queue',
    'queue_top': 'move it to the front of the queue',
    'queue_up': 'move it one place up the queue',
    'queue_down': 'move it one place down the queue',
    'queue_bottom': 'move it to the end of the queue',
}


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What one client can do, declared by its Backend class (Backend.CAPABILITIES).

    Pages, the bulk bar and the API offer only these; GET /api/target/<name> lists them."""
    client: str                   # the client's name as people know it: 'rTorrent'
    actions: tuple                # the actions act() takes ('erase' through erase())
    priorities: dict              # a torrent's priority scale: value -> word
    file_priorities: dict         # a file's priority scale: value -> word
    file_wanted: bool = False     # True: "skip this file" is a flag apart from its priority
    tracker_toggle: bool = False  # trackers can be disabled and enabled one by one
    labels: str = 'one'           # 'one' label a torrent, 'many', or 'none'
    views: bool = False           # the client has named views of its own (rTorrent's)
    deletes_data_itself: bool = False   # the client removes a torrent's data when asked
    max_metafile: int = 0         # the largest .torrent it takes, in bytes (0: no limit known)
    queue: bool = False           # torrents wait in a queue of its own (a position, moves)
    torrent_limits: bool = False  # each torrent can have speed limits of its own
    settings_read: frozenset = frozenset()    # settings it can report back
    settings_write: frozenset = frozenset()   # settings it can be given
    transfer_totals: bool = False # transfer_totals() works: the worker keeps statistics of it
    alt_native: bool = False      # alternative ("turtle") speeds are the client's own: alt_enabled,
                                  # alt_down_limit, alt_up_limit are given to it as they are, not
                                  # emulated through the global limits (model/settings.py)
    rate_unit: int = 1024         # the client keeps speed limits in whole multiples of this many
                                  # bytes/s (rTorrent: KiB, 1024; Transmission: kB, 1000)
    timetable: bool = False       # the client runs one weekly window of alternative speeds itself
                                  # (set_timetable(); model/schedule.py pushes a fitting schedule)
    free_space: str = ''          # how the free space of its download folder is known (Header.free_space):
                                  # 'client' it reports it; 'local' pyroTorrent measures the folder
                                  # (os.statvfs) where it sees the target's disk; '' never

    def as_dict(self):
        data = dataclasses.asdict(self)
        data['priorities'] = {str(k): v for k, v in self.priorities.items()}
        data['file_priorities'] = {str(k): v for k, v in self.file_priorities.items()}
        data['settings_read'] = sorted(self.settings_read)
        data['settings_write'] = sorted(self.settings_write)
        return data


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
    state: str = None         # None: any; one of STATES or FILTER_STATES (torrent_matches())
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


# States a list can be filtered by besides STATES, as the list shows them: 'stalled' is
# downloading with no peer connected and no tracker message, 'error' has a message.
FILTER_STATES = ('stalled', 'error')
# The front page's counts, in the order shown, and what each is called there.
OVERVIEW_STATES = {'downloading': 'downloading', 'seeding': 'seeding', 'paused': 'paused',
                   'queued': 'queued', 'checking': 'checking', 'stopped': 'stopped', 'complete': 'complete',
                   'stalled': 'stalled', 'error': 'with an error'}


def torrent_matches(wanted, state, peers, message):
    """Whether a torrent in this state, with these peers and this message, is in the list's
    state filter `wanted` (None: any)."""
    if wanted is None or wanted == state:
        return True
    if wanted == 'stalled':
        return state == 'downloading' and not peers and not message
    return wanted == 'error' and bool(message)


def count_states(rows):
    """{state: torrents} of OVERVIEW_STATES for (state, peers, message) triples, in one pass."""
    counts = dict.fromkeys(OVERVIEW_STATES, 0)
    for state, peers, message in rows:
        counts[state] += 1
        if message:
            counts['error'] += 1
        elif state == 'downloading' and not peers:
            counts['stalled'] += 1
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

    @property
    def pages(self):
        return max(1, -(-self.total // self.query.per_page))


@dataclasses.dataclass
class Overview:
    """A target at a glance (Backend.overview), for the front page: its figures, how many
    torrents are in each state, and what is moving data or checking now."""
    header: Header
    total: int                # every torrent
    counts: dict              # OVERVIEW_STATES key -> torrents (count_states())
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


# Whole lists (every torrent's keys, 5.7 MB at 10,000) decoded at once in one process: each
# holds its answer and its rows until its page is built, so the rest wait (within their page's time).
WHOLE_LISTS = 2
_whole_lists = threading.BoundedSemaphore(WHOLE_LISTS)


@contextlib.contextmanager
def whole_list(backend):
    """One of the WHOLE_LISTS a process reads at a time; TimedOut (from model.clients.errors) when
    its turn does not come within the page's time for this target."""
    wait = deadline.page_at(backend.transport, backend.timeout) - time.monotonic()
    if not _whole_lists.acquire(timeout=max(0.0, wait)):
        raise TimedOut(backend, 'no turn within %g s to read its whole list: pyroTorrent was reading %d '
                                'others at once (WHOLE_LISTS, which bounds its memory)' % (backend.timeout, WHOLE_LISTS))
    try:
        yield
    finally:
        _whole_lists.release()


# Encryption policies, by a name that says what each does; a client maps them to its own
# values (Backend.ENCRYPTION_VALUES: rTorrent's flags, Transmission's modes).
ENCRYPTION_PRESETS = {
    'disabled': 'Never encrypts; peers that insist on encryption cannot connect.',
    'allowed': "rTorrent's own default: takes encrypted connections from peers, opens plain ones itself "
               'and retries encrypted when a peer refuses plain; even an encrypted handshake then settles on a plain '
               'stream.',
    'preferred': 'Opens encrypted connections, takes both kinds, and retries plain when a peer refuses '
                 'encryption; two peers that both prefer it encrypt the whole stream (RC4).',
    'required': 'Only encrypted connections (the handshake at least): peers without encryption cannot '
                'connect; fewer peers.',
    'required_rc4': 'Only connections encrypted in full with RC4, not just the handshake: the fewest peers, '
                    'more CPU.',
}


class Backend:
    """One torrent client.  `name` and `url` identify it in pages and errors."""

    name = ''
    url = ''
    CAPABILITIES = None       # a Capabilities: what this client can do
    ENCRYPTION_VALUES = {}    # encryption preset -> the client's own value(s) for it; a preset it lacks: none

    @property
    def ACTIONS(self):        # the actions act() takes (start, stop, ..., erase)
        return self.CAPABILITIES.actions

    @property
    def client(self):
        return self.CAPABILITIES.client

    @property
    def can_delete_data(self):
        """Whether a delete-data choice can be offered for this target at all."""
        return self.CAPABILITIES.deletes_data_itself

    def encryption_preset(self, values):
        """The preset (ENCRYPTION_PRESETS) that the client's own values (a list) are;
        ValueError in words for one that is no preset's."""
        for name, own in self.ENCRYPTION_VALUES.items():
            if set(own) == set(values):
                return name
        raise ValueError('pyroTorrent keeps one of its presets (%s); these values are none of them'
                         % ', '.join('%s = %s' % (n, ','.join(v)) for n, v in self.ENCRYPTION_VALUES.items()))

    def served_roots(self):
        """The local folders whose data pyroTorrent may hand out (the target's declared
        download_roots and add_directories it can see); () when it sees none."""
        paths = getattr(self, 'paths', None)        # a lib.paths.PathMap
        return paths.served_roots() if paths else ()
    @property
    def data_deleted_by(self):
        """Who deletes a torrent's data when asked: 'pyroTorrent' (inside the target's
        download roots, lib.erase) or the client's name (it deletes its own files)."""
        return self.client if self.CAPABILITIES.deletes_data_itself else 'pyroTorrent'

    def version(self):
        """(client version, library version) as texts; BackendError if it cannot be asked."""
        raise NotImplementedError

    def instance(self):
        """What changes when the client restarts (rTorrent: its process id), in one small
        round trip: the worker's restart detector."""
        raise NotImplementedError

    def transfer_totals(self, details=False):
        """A TransferTotals of every torrent, in one round trip (Capabilities.transfer_totals);
        details=True adds each torrent's name and first tracker (dearer: asked when new
        torrents appear, and now and then)."""
        raise NotImplementedError

    def torrent_list(self, query):
        """A TorrentList for a ListQuery, in a fixed number of round trips."""
        raise NotImplementedError

    # The views whose torrents are the only ones whose figures can change while they are
    # stopped (rTorrent: started, checking): what torrent_rows(idle=...) asks instead of
    # the idle rows.  Empty: the client looks every row up.
    wake_views = ()

    def torrent_rows(self, hashes, views, idle=()):
        """(Header, {hash: Torrent or None (gone)}, {view: size}, woke) in one round trip: the
        figures of torrents a page already shows, for a refresh (Torrent.name and .label
        may be None: not asked).  idle: hashes among them the caller saw stopped and idle and
        keeps the figures of; a client may leave them out of torrents and return in `woke`
        those that were started or checked since (the caller asks them again); a client that
        looks them up like the others returns an empty woke.  A client without it raises
        NotImplementedError and its refreshes fetch the whole torrent_list."""
        raise NotImplementedError

    def labels(self):
        """{label: number of torrents} of every torrent ('' for none): what the add page's
        label box suggests.  This default asks the list; a client may ask less."""
        return dict(self.torrent_list(ListQuery(per_page=1)).labels or {})

    def overview(self, limit=10):
        """An Overview: the header, the counts by state of every torrent, and the first `limit`
        torrents active now by rate, in a fixed number of round trips."""
        raise NotImplementedError

    def torrent_rows_added(self, view, bound, newer, views):
        """(Header, [Torrent], {view: size}) in one round trip: every torrent of `view`
        added at or after the unix time `bound` (newer=True; at or before it otherwise),
        names and labels included: what a refresh of a list sorted by date added needs
        (its page and everything ranked before it).  A client without it raises
        NotImplementedError and its refreshes use torrent_rows."""
        raise NotImplementedError

    def torrent(self, info_hash):
        """(Header, Torrent) for one torrent; NotFound if the client has no such torrent."""
        raise NotImplementedError

    def add_torrents(self, items, options):
        """Add a batch; returns one AddResult per item, in the order given.

        items: lib.metafile.Metafile, lib.metafile.Magnet, or an exception (a MetafileError,
        a FetchError...) for an item that failed before: it becomes 'refused' with str() of
        it as the reason, so the results still match what the user sent, one to one.
        options: an AddOptions, for every item of the batch.
        In a fixed number of round trips however many items; BackendError if the client
        cannot be asked at all."""
        raise NotImplementedError

    def names(self, hashes):
        """{hash: name or None (no such torrent)} for many torrents, in one round trip."""
        raise NotImplementedError

    def torrent_detail(self, info_hash, buckets=100):
        """(Header, TorrentDetail) for the torrent page, in one round trip; NotFound if none."""
        raise NotImplementedError

    def snapshot(self):
        """[Seen] of every torrent, in one round trip: what the worker looks at each tick."""
        raise NotImplementedError

    def started_hashes(self, incomplete=False):
        """[hash] of the torrents that run (downloading, seeding or paused; not checking),
        only the incomplete ones with incomplete=True: what a paused or seed-only profile
        stops, asked every tick while one is in force, so it costs the client next to
        nothing when it has none (rTorrent: the 'started' or 'leeching' view only)."""
        raise NotImplementedError

    # Actions take one hash or a list and return [ActionResult], one per distinct hash in
    # the order given; a refusal is a result with a reason, never an exception (ValueError
    # only for a value no torrent could take: an unknown action, a priority of 7).

    def act(self, action, hashes):
        """start, resume, stop, pause, close, recheck, announce or erase."""
        raise NotImplementedError

    def set_label(self, hashes, label):
        raise NotImplementedError

    def set_priority(self, hashes, priority):
        raise NotImplementedError

    def set_directory(self, hashes, directory):
        raise NotImplementedError

    def set_file_priorities(self, info_hash, priorities):
        """{file index: priority} for one torrent: one ActionResult."""
        raise NotImplementedError

    def set_files_wanted(self, info_hash, indexes, wanted):
        """Skip files, or get them again (Capabilities.file_wanted): one ActionResult."""
        raise NotImplementedError

    def set_tracker_enabled(self, info_hash, indexes, enabled):
        """One ActionResult."""
        raise NotImplementedError

    def erase(self, hashes, delete_data=False):
        raise NotImplementedError

    # Settings (model/settings.py has the fields), for a client that declares settings_read.

    def read_settings(self, groups=()):
        """LiveSettings, with these speed groups, in one round trip."""
        raise NotImplementedError

    def apply_settings(self, values, groups=None, dropped=()):
        """(LiveSettings read back after, {field or 'group NAME': why it was refused}) for
        values {field: value} and speed groups {name: limits} to create or set; `dropped`
        groups are set unlimited.  A value taken only in part is put back."""
        raise NotImplementedError

    def set_group(self, hashes, group):
        """Put torrents in a speed group ('': none); [ActionResult], a reason on an ok one
        saying what else was done (a torrent stopped and started around it)."""
        raise NotImplementedError


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


# The torrent page's buttons: those that fit its state, in this order; the ALWAYS ones whatever it is.
ACTION_ORDER = ('start', 'resume', 'start_now', 'pause', 'stop', 'close', 'recheck', 'announce', 'erase')
ALWAYS = ('recheck', 'announce', 'erase')
FITTING = {'downloading': ('pause', 'stop', 'close'), 'seeding': ('pause', 'stop', 'close'),
           'paused': ('resume', 'stop', 'close'), 'checking': ('stop', 'close'), 'queued': ('start_now', 'stop'),
           'stopped': ('start', 'start_now', 'close'), 'complete': ('start', 'start_now', 'close')}


def fitting_actions(state, actions, closed):
    """The actions of `actions` (a client's) that make sense for a torrent in this state;
    `closed`: its files are closed already (no Close)."""
    wanted = FITTING.get(state, ACTION_ORDER)
    if 'resume' in wanted and 'resume' not in actions:
        wanted += ('start',)
    return [a for a in ACTION_ORDER if a in actions and (a in wanted or a in ALWAYS)
            and not (a == 'close' and closed)]
