"""What pages and the domain ask of a torrent client, independent of which client it is.

Handlers talk to a Backend (model/clients/<client>/, one folder a client) and get the
neutral types of model/clients/types.py back: Header, Torrent, TorrentList, AddResult.
Nothing here knows a command name.  Each Backend declares up front what it can do
(Capabilities), so a page offers only what the target's client does; nothing waits to fail
at call time.
"""
import contextlib
import dataclasses
import threading
import time

from lib import deadline
from model.clients.errors import TimedOut
from model.clients.types import ListQuery, State

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


# The torrent page's buttons: those that fit its state, in this order; the ALWAYS ones whatever it is.
ACTION_ORDER = ('start', 'resume', 'start_now', 'pause', 'stop', 'close', 'recheck', 'announce', 'erase')


ALWAYS = ('recheck', 'announce', 'erase')


FITTING = {State.DOWNLOADING: ('pause', 'stop', 'close'), State.SEEDING: ('pause', 'stop', 'close'),
           State.PAUSED: ('resume', 'stop', 'close'), State.CHECKING: ('stop', 'close'),
           State.QUEUED: ('start_now', 'stop'), State.STOPPED: ('start', 'start_now', 'close'),
           State.COMPLETE: ('start', 'start_now', 'close')}


def fitting_actions(state, actions, closed):
    """The actions of `actions` (a client's) that make sense for a torrent in this state;
    `closed`: its files are closed already (no Close)."""
    wanted = FITTING.get(state, ACTION_ORDER)
    if 'resume' in wanted and 'resume' not in actions:
        wanted += ('start',)
    return [a for a in ACTION_ORDER if a in actions and (a in wanted or a in ALWAYS)
            and not (a == 'close' and closed)]
