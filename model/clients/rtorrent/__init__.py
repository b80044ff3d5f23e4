"""The rTorrent backend: batched XML-RPC over SCGI or HTTP.

The torrent page (torrent_detail) is one round trip; every action on one or many torrents
is one batched round trip (set_directory and erase with its data: two, the first reading
what the second may touch).  What each action leaves, measured on rtorrent 0.9.8
(d.state / d.is_active / d.is_open):

    start, resume   d.open, d.start, d.resume    1 / 1 / 1 from any state (stopped, paused,
                                                 closed); d.resume alone on a stopped torrent
                                                 gives 0 / 1 / 1, so it is never sent alone
    pause           d.pause                      1 / 0 / 1: connections kept, resumes at once
    stop            d.stop                       0 / 0 / 1: files stay open, piece map known
    close           d.stop, d.close              0 / 0 / 0: files closed, piece map dropped
                                                 (d.close alone leaves 1 / 0 / 0, a torrent
                                                 d.start cannot restart)
    erase           d.stop, d.close, d.erase     gone from rtorrent; its data stays on disk
                                                 (rtorrent deletes only a tied .torrent)

A list page costs two round trips per target: the first fetches the header figures, the
view list and, for every torrent of the view, only the keys the page sorts and filters
by; the second fetches the rows of the one page shown, one command a row (commands.ROW),
and the size of every view.  What the daemon offers (its method list) is asked once and
kept in a Beaker cache."""
from lib.paths import PathMap
from lib.transport import MAX_ANSWER_BYTES, redacted, transport_for
from model.clients.interface import Backend, Capabilities
from model.clients.detail import FILE_PRIORITIES
from model.clients.types import PRIORITIES
from model.clients.rtorrent import commands
from model.clients.rtorrent.actions import Actions
from model.clients.rtorrent.adding import Adding
from model.clients.rtorrent.connection import Connection, Fault, multicall_body
from model.clients.rtorrent.queries import Queries
from model.clients.rtorrent.rows import Rows
from model.clients.rtorrent.settings import Settings
from model.clients.rtorrent.totals import Totals
from lib.metafile import MAX_SIZE

__all__ = ['RTorrent', 'Fault', 'multicall_body', 'commands']


class RTorrent(Totals, Settings, Queries, Actions, Adding, Rows, Connection, Backend):
    """One rTorrent daemon.

    RTorrent(config_target) or RTorrent('scgi://127.0.0.1:5000', name=...) for a given one;
    model.clients.backend_for(target) picks this class for a target whose client is rtorrent.
    A bare RTorrent() is the setup manual's form (test.py): the first target of config.py.
    """

    CAPABILITIES = Capabilities(
        client='rTorrent',
        actions=tuple(commands.ACTIONS),
        priorities=PRIORITIES,
        file_priorities=FILE_PRIORITIES,
        tracker_toggle=True,
        labels='one',
        views=True,
        deletes_data_itself=False,
        max_metafile=MAX_SIZE,
        settings_read=frozenset(commands.SETTINGS_READ) | {'groups'},
        settings_write=frozenset(commands.SETTINGS_READ) | frozenset(commands.SETTINGS_WRITE) | {'groups'},
        transfer_totals=True,
        free_space='local',       # 0.9.8 has no global command for it (d.free_diskspace: open torrents only)
    )
    wake_views = commands.WAKE_VIEWS

    def __init__(self, target=None, name=None, timeout=None, cache_seconds=600, max_answer_bytes=MAX_ANSWER_BYTES):
        if target is None:
            from lib import config
            target = config.load().targets[0]
        if isinstance(target, str):
            url, self.name, self.timeout = target, name or redacted(target), timeout or 10.0
        else:
            url, self.name, self.timeout = target.url, name or target.name, timeout or target.timeout
        self.transport = transport_for(url, self.timeout, max_bytes=max_answer_bytes)
        self.paths = PathMap.for_url(url) if isinstance(target, str) else PathMap.for_target(target)
        self.url = redacted(url)        # what pages and errors show: never a password
        self.cache_seconds = cache_seconds

    @property
    def can_delete_data(self):
        """Whether a delete-data choice can be offered for this target at all (it sees the
        target's disk and declares download roots); TorrentDetail.can_delete_data says it
        for one torrent."""
        return self.paths.can_delete
