"""The Transmission backend: JSON-RPC over HTTP to transmission-daemon (RPC 16, 3.00, and up).

Calls a page costs, whatever the number of torrents (Transmission has no batch call, so
each is one HTTP request):

    the list          4   session-get, session-stats, torrent-get of every torrent's keys
                          (format "table", only what views, filters and the sort column need),
                          torrent-get of the page's rows by id
    the front page    3-4 session-get, session-stats, torrent-get of every torrent's state fields,
                          torrent-get of the few active ones' rows (when there are any)
    the torrent page  3   session-get, session-stats, torrent-get of the one torrent
    an action         2   torrent-get of the selected hashes (which exist), the action on all
    adding N items    N+3 torrent-get (present?), torrent-add each, torrent-set (labels), torrent-get

A target's URL is its RPC URL, the credentials in it when Transmission asks for them:
http://USER:PASSWORD@127.0.0.1:9091/transmission/rpc.
"""
from lib.metafile import MAX_SIZE
from lib.paths import PathMap
from lib.transport import MAX_ANSWER_BYTES, redacted
from model.clients.interface import Backend, Capabilities
from model.clients.transmission.actions import ACTIONS, Actions
from model.clients.transmission.adding import Adding
from model.clients.transmission.queries import Queries
from model.clients.transmission.rows import PRIORITIES, Rows
from model.clients.transmission.rpc import Connection, Transport
from model.clients.transmission.settings import MAPPED, Settings
from model.clients.transmission.totals import Totals

__all__ = ['Transmission', 'SETTINGS_READ', 'SETTINGS_WRITE']

# The settings page's fields (model names) that session-get reports and session-set takes,
# for the settings feature to map (session-get's names: docs/performance.rst lists them):
#   down_limit, up_limit           speed-limit-down/-up (kB/s, 1000 bytes) and their -enabled flags
#   alt_down_limit, alt_up_limit   alt-speed-down/-up (kB/s); alt_enabled: alt-speed-enabled
#   alt_schedule                   alt-speed-time-enabled, -time-begin, -time-end (minutes after
#                                  midnight), -time-day (a bit mask, Sunday = 1 ... Saturday = 64)
#   encryption                     'required', 'preferred' or 'tolerated' (an unknown value is
#                                  taken silently as 'preferred': check before sending)
#   max_peers, max_peers_torrent   peer-limit-global, peer-limit-per-torrent
#   download_queue, seed_queue     download-queue-enabled/-size, seed-queue-enabled/-size
#   ratio_limit                    seedRatioLimited, seedRatioLimit
#   download_dir                   download-dir;  port: peer-port;  dht, pex, lpd, utp: *-enabled
# Transmission keeps every one of them in its settings.json: they survive a restart.
SETTINGS_READ = frozenset((
    'down_limit', 'up_limit', 'alt_down_limit', 'alt_up_limit', 'alt_enabled', 'alt_schedule',
    'encryption', 'max_peers', 'max_peers_torrent', 'download_queue', 'seed_queue', 'ratio_limit',
    'download_dir', 'port', 'dht', 'pex', 'lpd', 'utp'))
SETTINGS_WRITE = SETTINGS_READ


class Transmission(Settings, Totals, Queries, Actions, Adding, Rows, Connection, Backend):
    """One transmission-daemon.  Transmission(config_target), or Transmission(url, name=...)."""

    CAPABILITIES = Capabilities(
        client='Transmission',
        actions=tuple(ACTIONS),
        priorities=PRIORITIES,
        file_priorities=PRIORITIES,
        file_wanted=True,
        tracker_toggle=False,
        labels='many',
        views=False,
        deletes_data_itself=True,
        max_metafile=MAX_SIZE,
        queue=True,
        torrent_limits=True,
        # what model/clients/transmission/settings.py maps of SETTINGS_READ/SETTINGS_WRITE; no groups
        settings_read=MAPPED,
        settings_write=MAPPED,
        alt_native=True,
        rate_unit=1000,
        timetable=True,
        transfer_totals=True,
        free_space='client',
    )

    def __init__(self, target, name=None, timeout=None, cache_seconds=600, max_answer_bytes=MAX_ANSWER_BYTES):
        if isinstance(target, str):
            url, self.name, self.timeout = target, name or redacted(target), timeout or 10.0
            self.paths = PathMap.for_url(url)
        else:
            url, self.name, self.timeout = target.url, name or target.name, timeout or target.timeout
            self.paths = PathMap.for_target(target)
        self.transport = Transport(url, self.timeout, max_answer=max_answer_bytes)
        self.url = redacted(url)        # what pages and errors show: never a password
        self.cache_seconds = cache_seconds

    @property
    def data_deleted_by(self):
        """pyroTorrent when it sees the disk and the download roots (lib.erase), else Transmission."""
        return 'pyroTorrent' if self.paths.can_delete else self.client
