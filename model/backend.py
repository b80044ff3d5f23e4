"""What pages ask of a torrent client, independent of which client it is.

Handlers talk to a Backend (rTorrent today, Transmission planned) and get plain data
back: Header, Torrent, TorrentList, AddResult.  Nothing here knows a command name.
"""
import dataclasses

# Columns of the torrent list a user can sort by (URL value -> label shown).
COLUMNS = {
    'name': 'Name', 'size': 'Size', 'done': 'Done', 'state': 'State', 'down': '↓',
    'up': '↑', 'ratio': 'Ratio', 'peers': 'Peers', 'label': 'Label', 'eta': 'ETA',
    'added': 'Added',
}
# Columns whose natural first order is largest first.
DESCENDING_FIRST = {'size', 'down', 'up', 'ratio', 'peers', 'added'}
STATES = ('checking', 'downloading', 'seeding', 'paused', 'stopped', 'complete')


@dataclasses.dataclass
class ListQuery:
    """Which torrents a list page shows: a view, sorted, filtered, one page of it."""
    view: str = 'main'
    sort: str = 'name'
    reverse: bool = False
    text: str = ''            # shown if the name contains it (case-insensitive)
    label: str = None         # None: any label; '': only torrents without one
    page: int = 1
    per_page: int = 50


@dataclasses.dataclass
class Header:
    """The figures every page shows for a target."""
    down_rate: int
    up_rate: int
    down_limit: int           # 0: unlimited
    up_limit: int
    library_version: str
    client_version: str
    views: list


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

    @property
    def progress(self):
        return 1.0 if self.size <= 0 else self.completed / self.size

    def as_dict(self):
        data = dataclasses.asdict(self)
        data['progress'] = round(self.progress, 4)
        if self.seeders is None:        # only the torrent page asks for it
            del data['seeders']
        return data


def torrent_state(started, active, hashing, complete):
    """What a user calls the state; complete means every byte is there (completed == size)."""
    if hashing:
        return 'checking'
    if not started:
        return 'complete' if complete else 'stopped'
    if not active:
        return 'paused'
    return 'seeding' if complete else 'downloading'


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
    labels: dict              # label -> count in the view ('' = no label)
    view_sizes: dict          # view name -> torrents in it

    @property
    def pages(self):
        return max(1, -(-self.total // self.query.per_page))


PRIORITIES = {0: 'off', 1: 'low', 2: 'normal', 3: 'high'}
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
    priority: int = 2         # a key of PRIORITIES

    def __post_init__(self):
        if not isinstance(self.start, bool):
            raise ValueError('start must be True or False')
        if self.priority not in PRIORITIES or isinstance(self.priority, bool):
            raise ValueError('the priority must be one of %s, not %r'
                             % (', '.join('%d (%s)' % kv for kv in PRIORITIES.items()), self.priority))
        if self.directory is not None:
            _check_text('the download directory', self.directory, MAX_DIRECTORY)
            if not self.directory.startswith('/'):
                raise ValueError('the download directory must be an absolute path (begin with "/"), '
                                 'not %r' % self.directory)
        _check_text('the label', self.label, MAX_LABEL)


def _check_text(what, text, limit):
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


class Backend:
    """One torrent client.  `name` and `url` identify it in pages and errors."""

    name = ''
    url = ''

    def torrent_list(self, query):
        """A TorrentList for a ListQuery, in a fixed number of round trips."""
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
