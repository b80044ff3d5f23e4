"""What pages ask of a torrent client, independent of which client it is.

Handlers talk to a Backend (rTorrent today, Transmission planned) and get plain data
back: Header, Torrent, TorrentList.  Nothing here knows a command name.
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
