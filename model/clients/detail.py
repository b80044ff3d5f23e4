"""One torrent in full, as the torrent page shows it and any client fills it: its files
(transmission-rpc's File shape), peers, trackers, its folder tree and piece map.
Nothing here knows a client or a command name.
"""
import dataclasses

from model.clients.types import PRIORITIES, Priority, State, Torrent


FILE_PRIORITIES = {0: Priority.OFF, 1: Priority.NORMAL, 2: Priority.HIGH}      # rTorrent's f.priority


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
        if self.torrent.state != State.CHECKING or self.chunks <= 0:
            return None
        return self.chunks_hashed / self.chunks

    @property
    def tree(self):
        return file_tree(self.files)
