"""The qBittorrent backend: its WebUI API v2 (qbittorrent-nox 4.1 and up; measured with 4.5.2).

A target's URL is its WebUI's, with the WebUI user and password in it:
http://USER:PASSWORD@127.0.0.1:8080/.  pyroTorrent logs in (its SID cookie), logs in again
once when the session has expired, and names the WebUI as the URL does in Referer, Origin
and Host (its CSRF and host checks).  Round trips a page costs: model/clients/qbittorrent/queries.py.

What it has in place of what it lacks: filters by state for rTorrent's views, its category
for the label (one a torrent) and its tags shown beside it, its queue, per-file priorities
with 'skip' among them, no bandwidth priority a torrent, no tracker toggles.
"""
from lib.paths import PathMap
from lib.transport import MAX_ANSWER_BYTES, redacted
from model.clients.interface import Backend, Capabilities
from model.clients.qbittorrent.actions import ACTIONS, Actions
from model.clients.qbittorrent.adding import Adding
from model.clients.qbittorrent.api import Connection, Transport
from model.clients.qbittorrent.queries import Queries
from model.clients.qbittorrent.rows import FILE_PRIORITIES, PRIORITIES, Rows
from model.clients.qbittorrent.settings import MAPPED, Settings

__all__ = ['QBittorrent']


class QBittorrent(Settings, Queries, Actions, Adding, Rows, Connection, Backend):
    """One qBittorrent.  QBittorrent(config_target), or QBittorrent(url, name=...)."""

    CAPABILITIES = Capabilities(
        client='qBittorrent',
        actions=tuple(ACTIONS),
        priorities=PRIORITIES,
        file_priorities=FILE_PRIORITIES,
        file_wanted=False,
        tracker_toggle=False,
        labels='one',
        views=False,
        deletes_data_itself=True,
        max_metafile=0,
        queue=True,
        torrent_limits=True,
        transfer_totals=True,
        # model/clients/qbittorrent/settings.py's fields; no speed groups; its scheduler is not used (docs/setup.rst)
        settings_read=MAPPED,
        settings_write=MAPPED,
        alt_native=True,
        rate_unit=1024,            # it keeps whole KiB/s (300,000 bytes/s read back as 299,008)
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
        self._init_rows()

    @property
    def data_deleted_by(self):
        """pyroTorrent when it sees the disk and the download roots (lib.erase), else qBittorrent."""
        return 'pyroTorrent' if self.paths.can_delete else self.client
