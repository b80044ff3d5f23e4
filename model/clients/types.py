"""The neutral types every client fills and every page reads: a torrent, a list, a
header, what adding and acting did, the transfer totals; the states and priorities (enums),
the sort columns, and the small rules over them (a torrent's state, what counts as active
or idle).  One torrent in full (files, peers, trackers) is model/clients/detail.py.
Nothing here knows a client or a command name.
"""
import dataclasses
import enum
import typing

from lib import names
from model.clients.trackers import tracker_name


# Columns of the torrent list a user can sort by (URL value -> label shown).
COLUMNS = {
    'name': 'Name', 'size': 'Size', 'done': 'Done', 'state': 'State', 'down': '↓',
    'up': '↑', 'ratio': 'Ratio', 'peers': 'Peers', 'label': 'Label', 'eta': 'ETA',
    'added': 'Added',
}


# Columns whose natural first order is largest first.
DESCENDING_FIRST = {'size', 'down', 'up', 'ratio', 'peers', 'added'}


class State(enum.StrEnum):
    """A torrent's state as a user calls it (transmission-rpc's Status): its value is the word
    pages and JSON show."""
    CHECKING = 'checking'
    DOWNLOADING = 'downloading'
    SEEDING = 'seeding'
    PAUSED = 'paused'
    STOPPED = 'stopped'
    COMPLETE = 'complete'
    QUEUED = 'queued'

    __repr__ = str.__repr__         # messages that show one (%r) read as before: 'paused'


STATES = tuple(State)
RUNNING = (State.DOWNLOADING, State.SEEDING, State.PAUSED)      # started: what a paused profile stops


class Priority(enum.StrEnum):
    """A torrent's or a file's priority as a user calls it; each client's scale ({its number:
    Priority}: Capabilities.priorities, file_priorities) maps its own numbers to these."""
    OFF = 'off'
    LOW = 'low'
    NORMAL = 'normal'
    HIGH = 'high'

    __repr__ = str.__repr__


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
    tracker: str = None       # None: any tracker; '': only torrents without one; else a tracker_name()
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
    tags: tuple = ()          # tags apart from its label (qBittorrent's, several a torrent)

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
        data['tags'] = list(self.tags)
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
        return self.state in RUNNING + (State.CHECKING,)

    @property
    def tracker_names(self):
        return {tracker_name(u) for u in self.trackers} - {''}


RUN_SLACK = 2          # seconds two estimates of one run's start may differ by (a run shorter is not told apart)


def same_daemon_run(a, b):
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


def torrent_state(started, active, hashing, complete):
    """What a user calls the state; complete means every byte is there (completed == size)."""
    if hashing:
        return State.CHECKING
    if not started:
        return State.COMPLETE if complete else State.STOPPED
    if not active:
        return State.PAUSED
    return State.SEEDING if complete else State.DOWNLOADING


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
        return state == State.DOWNLOADING and not peers and not message
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
        elif state == State.DOWNLOADING and not peers:
            counts['stalled'] += 1
        if is_active_now(down_rate, up_rate, state):
            counts['active'] += 1
    return counts


def eta(left, down_rate, state):
    """Seconds until complete at the current rate; None unless it is downloading."""
    if state != State.DOWNLOADING or left <= 0 or down_rate <= 0:
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
    trackers: dict = None     # tracker_name() of its first tracker -> count in the view ('' = none);
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
    if state == State.CHECKING:
        return True
    return state in (State.DOWNLOADING, State.SEEDING) and (down_rate > 0 or up_rate > 0)


def is_idle(torrent):
    """Stopped, not checking, no rate left over: a row whose figures stay as they are until
    it is started or checked (what a refresh may keep instead of asking: lib.idle_rows)."""
    return torrent.state in (State.STOPPED, State.COMPLETE) and not torrent.down_rate and not torrent.up_rate


PRIORITIES = {0: Priority.OFF, 1: Priority.LOW, 2: Priority.NORMAL, 3: Priority.HIGH}    # rTorrent's d.priority


MAX_DIRECTORY = 4096          # bytes of a download directory (Linux PATH_MAX)


MAX_LABEL = names.MAX_LABEL   # bytes of a label


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
        if self.label:
            names.check('label', self.label, MAX_LABEL)


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


@dataclasses.dataclass
class ActionResult:
    """What one action did to one torrent: ok, or the reason in words."""
    hash: str
    ok: bool
    reason: str = ''
    erased_data: object = None   # erase with delete_data: a lib.erase.EraseReport
