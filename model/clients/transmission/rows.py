"""Every torrent-get field pyroTorrent asks Transmission for, by page, and how its answers
become the model's plain data (rows -> Torrent, Header, File, Peer, Tracker).

Transmission's units (RPC 16): rates in bytes/s; speed limits in kB/s where kB = 1000
bytes (session-get's units say so: speed-bytes 1000); uploadRatio -1 for none and -2 for
infinite; hashString lower case (pages show it upper case, as for rTorrent)."""
import base64
import binascii

from lib.metafile import is_info_hash
from model.clients.trackers import tracker_name
from model.clients.types import STATES, Header, Priority, State, Torrent, eta
from model.clients.errors import BadAnswer, NotFound

KB = 1000                                   # Transmission's kB (speed-bytes in session-get's units)
PRIORITIES = {-1: Priority.LOW, 0: Priority.NORMAL, 1: Priority.HIGH}    # bandwidthPriority, and a file's priority

# status -> the neutral state (0 is 'stopped' or 'complete', by what is left)
STATUS = {1: State.CHECKING, 2: State.CHECKING, 3: State.QUEUED, 4: State.DOWNLOADING, 5: State.QUEUED, 6: State.SEEDING}

# In place of rTorrent's views: filters by state (None: every torrent), and 'error'.
VIEWS = {
    'main': None, 'downloading': {State.DOWNLOADING}, 'seeding': {State.SEEDING},
    'stopped': {State.STOPPED, State.COMPLETE}, 'queued': {State.QUEUED}, 'checking': {State.CHECKING}, 'error': 'error',
}
VIEW_TITLES = {'main': 'all', 'stopped': 'stopped (paused)', 'error': 'with an error'}

HEADER_FIELDS = ['version', 'rpc-version', 'speed-limit-down', 'speed-limit-down-enabled',
                 'speed-limit-up', 'speed-limit-up-enabled', 'alt-speed-enabled', 'alt-speed-down',
                 'alt-speed-up', 'download-dir', 'download-dir-free-space']
# The list's first call, for every torrent: what filters and views need, plus the sort column's.
# No hashString: the page's rows are fetched by id, and 40 hex digits a torrent are a third
# of this answer (1.1 MB at 10,000 torrents with it, 0.7 MB without).
KEY_FIELDS = ['id', 'name', 'labels', 'status', 'error', 'leftUntilDone', 'trackers']
SORT_FIELDS = {
    'name': [], 'size': ['totalSize'], 'done': ['totalSize', 'haveValid'], 'state': [],
    'down': ['rateDownload'], 'up': ['rateUpload'], 'ratio': ['uploadRatio'],
    'peers': ['peersConnected'], 'label': [], 'eta': ['rateDownload'], 'added': ['addedDate'],
}
# The front page's call for every torrent: its state, whether it moves data, stalled or in error.
OVERVIEW_FIELDS = ['id', 'status', 'error', 'leftUntilDone', 'rateDownload', 'rateUpload', 'peersConnected']
# The list's second call, for the rows of one page only.
ROW_FIELDS = ['id', 'hashString', 'name', 'totalSize', 'haveValid', 'rateDownload', 'rateUpload',
              'uploadRatio', 'peersConnected', 'labels', 'addedDate', 'error', 'errorString',
              'status', 'leftUntilDone', 'queuePosition', 'recheckProgress']
DETAIL_FIELDS = ROW_FIELDS + [
    'uploadedEver', 'downloadedEver', 'bandwidthPriority', 'downloadDir', 'doneDate', 'pieceCount',
    'pieceSize', 'pieces', 'torrentFile', 'files', 'fileStats', 'peers',
    'trackerStats', 'downloadLimit', 'downloadLimited', 'uploadLimit', 'uploadLimited']

_NO_ETA = float('inf')
SORT_KEYS = {
    'size': lambda r: r['totalSize'],
    'done': lambda r: r['haveValid'] / r['totalSize'] if r['totalSize'] else 1.0,
    'state': lambda r: STATES.index(r['state']),
    'down': lambda r: r['rateDownload'],
    'up': lambda r: r['rateUpload'],
    'ratio': lambda r: ratio(r['uploadRatio']),
    'peers': lambda r: r['peersConnected'],
    'label': lambda r: (not r['labels'], [x.casefold() for x in r['labels']]),
    'eta': lambda r: _NO_ETA if (e := eta(r['leftUntilDone'], r['rateDownload'], r['state'])) is None else e,
    'added': lambda r: r['addedDate'],
}


def state(status, left):
    if status == 0:
        return State.COMPLETE if left <= 0 else State.STOPPED
    return STATUS.get(status, State.STOPPED)


def free_space(session):
    """session-get's download-dir-free-space (the free-space method's answer for download-dir);
    None when it does not say (-1: it could not tell)."""
    value = session.get('download-dir-free-space')
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def ratio(value):
    """uploadRatio as the model's ratio: -1 (none) is 0, -2 (uploaded, nothing downloaded) infinite."""
    if value == -2:
        return float('inf')
    return max(0.0, float(value))


def hash_for_rpc(info_hash):
    """A page's hash (any case) as Transmission's ids take it; NotFound for anything else."""
    if not isinstance(info_hash, str) or not is_info_hash(info_hash):
        raise NotFound("'%s' is not a torrent hash (40 hexadecimal digits)" % info_hash)
    return info_hash.lower()


def unique(hashes):
    """Hashes once each, in the order given; well-formed ones upper-cased (as pages show them)."""
    hashes = [hashes] if isinstance(hashes, str) else list(hashes)
    return list(dict.fromkeys(h.upper() if is_info_hash(h) else str(h) for h in hashes))


class Rows:
    def _table(self, answer, what):
        """torrent-get's torrents as dicts: from format "table" rows (RPC 16) or objects."""
        torrents = answer.get('torrents')
        if not isinstance(torrents, list):
            raise BadAnswer(self, 'torrent-get for %s gave no torrent list' % what)
        if torrents and isinstance(torrents[0], list):
            names = torrents[0]
            return [dict(zip(names, row)) for row in torrents[1:]]
        return torrents

    def _header_and_session(self):
        """(Header, session-get's answer): two calls, session-get and session-stats."""
        session = self.call('session-get', fields=HEADER_FIELDS)
        stats = self.call('session-stats')
        try:
            def limit(way):
                if session['alt-speed-enabled']:
                    return session['alt-speed-' + way] * KB
                return session['speed-limit-' + way] * KB if session['speed-limit-%s-enabled' % way] else 0
            header = Header(down_rate=stats['downloadSpeed'], up_rate=stats['uploadSpeed'],
                            down_limit=limit('down'), up_limit=limit('up'),
                            library_version='', client_version=session['version'],
                            views=list(VIEWS), client=self.client, view_titles=VIEW_TITLES,
                            hidden_views=tuple(v for v in VIEWS if v != 'main'),     # states: the sidebar's words
                            download_directory=session.get('download-dir', ''), free_space=free_space(session))
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, 'session-get or session-stats lacks %s' % exc) from None
        return header, session

    def _keyed(self, rows):
        """Add the neutral state to each row (what views, filters and sorting need)."""
        try:
            for row in rows:
                row['state'] = state(row['status'], row['leftUntilDone'])
                trackers = row.get('trackers')
                row['tracker'] = tracker_name(trackers[0]['announce']) if trackers else ''
        except (KeyError, TypeError, IndexError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None
        return rows

    def _torrent(self, row, seeders=None):
        try:
            labels = tuple(row['labels'] or ())
            left = row['leftUntilDone']
            torrent_state = state(row['status'], left)
            return Torrent(
                hash=row['hashString'].upper(), name=row['name'], size=row['totalSize'],
                completed=row['haveValid'], down_rate=row['rateDownload'], up_rate=row['rateUpload'],
                ratio=ratio(row['uploadRatio']), peers=row['peersConnected'], seeders=seeders,
                label=labels[0] if labels else '', labels=labels, added=row['addedDate'],
                message=row['errorString'] if row['error'] else '', state=torrent_state,
                eta=eta(left, row['rateDownload'], torrent_state), queue_position=row['queuePosition'],
                checked=row.get('recheckProgress') if torrent_state == State.CHECKING else None)
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None


def piece_hex(pieces, count):
    """torrent-get's `pieces` (base64 bitfield) as hex, and how many pieces are there."""
    try:
        raw = base64.b64decode(pieces or '')
    except (binascii.Error, ValueError):
        return '', 0
    bits = bin(int.from_bytes(raw, 'big'))[2:].zfill(len(raw) * 8)[:count] if raw else ''
    return raw.hex(), bits.count('1')
