"""qBittorrent's torrents as the model's neutral data, and its sync/maindata kept up to date.

Every page's torrents come from sync/maindata: its first answer (rid 0) holds every torrent
with every field; each later one, asked with the last `rid`, only what changed since (fields
that changed, torrents added and removed, categories, tags, the server state).  The backend
keeps the last state and applies the diff, so a refresh costs qBittorrent about what changed.

Its units: rates and limits in bytes/s (0 or -1: unlimited); ratio a float; times unix.
Hashes are lower case in its API; pages show them upper case, as for the other clients."""
import threading

from lib.metafile import is_info_hash
from model.clients.errors import BadAnswer, NotFound
from model.clients.trackers import tracker_name
from model.clients.types import STATES, Header, State, Torrent, eta

# qBittorrent's state -> the neutral state.  A paused torrent has no peers and no open files
# in 4.x: it is what the others call stopped ('complete' once every wanted byte is there).
STATE = {
    'downloading': State.DOWNLOADING, 'stalledDL': State.DOWNLOADING, 'forcedDL': State.DOWNLOADING,
    'metaDL': State.DOWNLOADING, 'forcedMetaDL': State.DOWNLOADING, 'allocating': State.DOWNLOADING,
    'uploading': State.SEEDING, 'stalledUP': State.SEEDING, 'forcedUP': State.SEEDING,
    'pausedDL': State.STOPPED, 'pausedUP': State.COMPLETE, 'stoppedDL': State.STOPPED, 'stoppedUP': State.COMPLETE,
    'queuedDL': State.QUEUED, 'queuedUP': State.QUEUED,
    'checkingDL': State.CHECKING, 'checkingUP': State.CHECKING, 'checkingResumeData': State.CHECKING,
    'error': State.STOPPED, 'missingFiles': State.STOPPED,
}
# states that are a complaint, in words (qBittorrent 4.5 keeps no error text in its API)
TROUBLE = {'error': 'qBittorrent stopped it on an error reading or writing its files (see its log)',
           'missingFiles': 'its files are missing from %s'}

# In place of rTorrent's views: filters by state (None: every torrent), and 'error'.
VIEWS = {
    'main': None, 'downloading': {'downloading'}, 'seeding': {'seeding'}, 'stopped': {'stopped', 'complete'},
    'queued': {'queued'}, 'checking': {'checking'}, 'error': 'error',
}
VIEW_TITLES = {'main': 'all', 'stopped': 'stopped (paused)', 'error': 'with an error'}

PRIORITIES = {0: 'normal'}    # it has no bandwidth priority a torrent: one step, nothing to choose
# a file's priority: 0 is "do not download"
FILE_PRIORITIES = {0: 'skip', 1: 'normal', 6: 'high', 7: 'maximal'}

_NO_ETA = float('inf')
SORT_KEYS = {
    'size': lambda r: r['size'],
    'done': lambda r: r['progress'],
    'state': lambda r: STATES.index(r['_state']),
    'down': lambda r: r['dlspeed'],
    'up': lambda r: r['upspeed'],
    'ratio': lambda r: r['ratio'],
    'peers': lambda r: r['num_seeds'] + r['num_leechs'],
    'label': lambda r: (not r['category'], r['category'].casefold()),
    'eta': lambda r: _NO_ETA if (e := eta(r['amount_left'], r['dlspeed'], r['_state'])) is None else e,
    'added': lambda r: r['added_on'],
}


def neutral_state(row):
    return STATE.get(row.get('state'), 'stopped')


def message(row):
    trouble = TROUBLE.get(row.get('state'))
    return trouble % row.get('save_path', '') if trouble and '%s' in trouble else trouble or ''


def limit(value):
    """A limit as the model has it: 0 unlimited (qBittorrent says 0 or -1)."""
    return value if isinstance(value, int) and value > 0 else 0


def tags(row):
    return tuple(t.strip() for t in (row.get('tags') or '').split(',') if t.strip())


def hash_for_api(info_hash):
    if not isinstance(info_hash, str) or not is_info_hash(info_hash):
        raise NotFound("'%s' is not a torrent hash (40 hexadecimal digits)" % info_hash)
    return info_hash.lower()


def unique(hashes):
    """Hashes once each, in the order given; well-formed ones upper-cased (as pages show them)."""
    hashes = [hashes] if isinstance(hashes, str) else list(hashes)
    return list(dict.fromkeys(h.upper() if is_info_hash(h) else str(h) for h in hashes))


class Rows:
    """The kept sync/maindata (self._main: torrents by upper-case hash, categories, tags,
    server_state; self._rid) and the neutral types made of it."""

    def _init_rows(self):
        self._rid = 0
        self._main = {'torrents': {}, 'categories': {}, 'tags': [], 'server_state': {}, 'trackers': {}}
        self._sync_lock = threading.Lock()
        self._version = None
        self._started = ('', None)    # (the SID it was read with, Queries.instance())

    def maindata(self):
        """The current state, in one round trip: sync/maindata against the last rid."""
        with self._sync_lock:
            answer = self.json('sync/maindata', rid=self._rid)
            if not isinstance(answer, dict) or not isinstance(answer.get('rid'), int):
                raise BadAnswer(self, 'sync/maindata gave no rid')
            try:
                self._apply(answer)
            except (AttributeError, TypeError, ValueError) as exc:
                self._rid = 0       # start again from a full answer next time
                raise BadAnswer(self, 'sync/maindata came back malformed: %s' % exc) from None
            self._rid = answer['rid']
            return self._main

    def _apply(self, answer):
        main = self._main
        if answer.get('full_update'):
            main = self._main = {'torrents': {}, 'categories': {}, 'tags': [], 'server_state': {}, 'trackers': {}}
        torrents = main['torrents']
        for h, fields in (answer.get('torrents') or {}).items():
            key = h.upper()
            if key in torrents:
                torrents[key].update(fields)
            else:
                torrents[key] = dict(fields, hash=h)
        for h in answer.get('torrents_removed') or ():
            torrents.pop(h.upper(), None)
        for name, fields in (answer.get('categories') or {}).items():
            main['categories'].setdefault(name, {}).update(fields)
        for name in answer.get('categories_removed') or ():
            main['categories'].pop(name, None)
        main['tags'] = sorted((set(main['tags']) | set(answer.get('tags') or ())) - set(answer.get('tags_removed') or ()))
        main['server_state'].update(answer.get('server_state') or {})
        for url, hashes in (answer.get('trackers') or {}).items():    # each tracker URL's torrents, whole
            main['trackers'][url] = [h.upper() for h in hashes]
        for url in answer.get('trackers_removed') or ():
            main['trackers'].pop(url, None)

    def client_version(self):
        if self._version is None:
            self._version = self.get('app/version').strip().lstrip('v')    # 'v4.5.2': shown as '4.5.2'
        return self._version

    def _header(self, main):
        state = main['server_state']
        try:
            return Header(down_rate=state['dl_info_speed'], up_rate=state['up_info_speed'],
                          down_limit=limit(state['dl_rate_limit']), up_limit=limit(state['up_rate_limit']),
                          library_version='', client_version=self.client_version(), views=list(VIEWS),
                          client=self.client, view_titles=VIEW_TITLES,
                          download_directory=self._default_path(),
                          free_space=state.get('free_space_on_disk'))
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, "sync/maindata's server state lacks %s" % exc) from None

    def _default_path(self):
        if getattr(self, '_save_path', None) is None:
            self._save_path = self.get('app/defaultSavePath').strip()
        return self._save_path

    def _keyed(self, rows):
        """Each row with its neutral state and tracker domain (what views, filters, sorting need)."""
        first = {}          # its 'tracker' is only the one working now: '' while none answers
        for url, hashes in sorted(self._main['trackers'].items()):
            for h in hashes:
                first.setdefault(h, url)
        try:
            for row in rows:
                row['_state'] = neutral_state(row)
                row['_message'] = message(row)
                row['_tracker'] = tracker_name(row.get('tracker') or first.get(row['hash'].upper(), ''))
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None
        return rows

    def _torrent(self, row, seeders=None):
        try:
            state = neutral_state(row)
            size = row['size']
            completed = max(0, size - row['amount_left']) if size >= 0 else 0
            ratio = float(row['ratio'])
            return Torrent(
                hash=row['hash'].upper(), name=row['name'], size=size, completed=completed,
                down_rate=row['dlspeed'], up_rate=row['upspeed'],
                ratio=float('inf') if ratio < 0 or ratio >= 9999 and not row['downloaded'] else ratio,
                peers=row['num_seeds'] + row['num_leechs'], seeders=seeders, label=row['category'] or '',
                added=row['added_on'], message=message(row), state=state,
                eta=eta(row['amount_left'], row['dlspeed'], state),
                queue_position=row['priority'] - 1 if row.get('priority', 0) > 0 else None,
                checked=row['progress'] if state == 'checking' else None, tags=tags(row))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None
