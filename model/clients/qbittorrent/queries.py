"""What pages and the worker read from qBittorrent.  Round trips, whatever the number of torrents:

    the list, the front page, a refresh   1  sync/maindata against the last rid (its diff)
    the torrent page                      6  sync/maindata, torrents/properties, /files, /trackers,
                                             /pieceStates, sync/torrentPeers
    names, the worker's snapshot, totals  1  sync/maindata
(app/version and app/defaultSavePath once per backend: they do not change while it runs.)
"""
import collections

from lib.paths import inside_any
from model.clients.errors import BadAnswer, NotFound
from model.clients.detail import TRACKER_EVENTS, File, Peer, TorrentDetail, Tracker, piece_map
from model.clients.types import (RUNNING, Overview, Seen, TorrentList, TorrentTotals, TransferTotals, count_states,
                                 is_active_now, torrent_matches)
from model.clients.qbittorrent.rows import (FILE_PRIORITIES, PRIORITIES, SORT_KEYS, VIEWS, hash_for_api,
                                            limit, neutral_state, unique)
from lib.metafile import is_info_hash



def total(row, way):
    """Its all-time bytes (uploaded, downloaded), which qBittorrent brings up to date a second or
    two after this run's own count (_session): never below that."""
    return max(row[way], row.get(way + '_session') or 0)
# a tracker's status: 0 disabled, 1 not contacted yet, 2 working, 3 updating, 4 not working
TRACKER_WORKING, TRACKER_FAILING = 2, 4


class Queries:
    def version(self):
        """(client version, '') in one call; qBittorrent names no separate library here."""
        self._version = None
        return self.client_version(), ''

    def instance(self):
        """Which run of qBittorrent answers, the same whoever asks: 'qBittorrent started N', N the
        time of its log's first line ("qBittorrent vX started"), compared exactly (not as
        same_daemon_run's estimates).  One small call (app/version) while the WebUI session lives; a
        restart forgets every session, so the log is read again only after a new login (its
        whole log: rare, and bounded like any answer)."""
        self.get('app/version')
        sid = self.transport.sid
        if self._started[0] != sid:
            lines = self.json('log/main', normal='true', info='true', warning='true', critical='true',
                              last_known_id=-1)
            try:
                first = min(lines, key=lambda line: line['id'])
                self._started = (sid, 'qBittorrent started %d' % first['timestamp'])     # exact: one log, one run
            except (ValueError, KeyError, TypeError) as exc:
                raise BadAnswer(self, 'its log tells no start (%s)' % (exc or 'empty')) from None
        return self._started[1]

    def _rows(self):
        main = self.maindata()
        return main, self._keyed(list(main['torrents'].values()))

    def torrent_list(self, query):
        if query.sort != 'name' and query.sort not in SORT_KEYS:
            raise ValueError('unknown sort column %r' % query.sort)
        if query.view not in VIEWS:
            raise NotFound("%s '%s' has no view named '%s' (it has %s)"
                           % (self.client, self.name, query.view, ', '.join(VIEWS)))
        main, rows = self._rows()
        header = self._header(main)
        view_sizes = self._view_sizes(rows)
        rows = self._in_view(rows, query.view)
        view_total = len(rows)
        counts = collections.Counter(r['category'] or '' for r in rows)
        trackers = collections.Counter(r['_tracker'] for r in rows)
        if query.state:
            rows = [r for r in rows if torrent_matches(query.state, r['_state'], r['num_seeds'] + r['num_leechs'],
                                                       r['_message'], r['dlspeed'], r['upspeed'])]
        text = query.text.casefold()
        if text:
            rows = [r for r in rows if text in r['name'].casefold()]
        if query.label is not None:
            rows = [r for r in rows if (r['category'] or '') == query.label]
        if query.tracker is not None:
            rows = [r for r in rows if r['_tracker'] == query.tracker]
        page = query.order_and_cut(rows, SORT_KEYS)
        return TorrentList(header=header, query=query, torrents=[self._torrent(r) for r in page], total=len(rows),
                           view_total=view_total, labels=dict(counts), view_sizes=view_sizes,
                           trackers=dict(trackers))

    @staticmethod
    def _view_sizes(rows):
        states = collections.Counter(r['_state'] for r in rows)
        errors = sum(1 for r in rows if r['_message'])
        return {name: len(rows) if kind is None else errors if kind == 'error' else sum(states[s] for s in kind)
                for name, kind in VIEWS.items()}

    @staticmethod
    def _in_view(rows, view):
        kind = VIEWS[view]
        if kind == 'error':
            return [r for r in rows if r['_message']]
        return rows if kind is None else [r for r in rows if r['_state'] in kind]

    def torrent_rows(self, hashes, views, idle=()):
        """(Header, {hash: Torrent or None}, {view: size}, ()) from one sync/maindata diff."""
        main, rows = self._rows()
        found = main['torrents']
        wanted = {h.upper() for h in hashes}
        torrents = {h: (self._torrent(found[h]) if h in found else None) for h in wanted}
        return self._header(main), torrents, self._view_sizes(rows), ()

    def overview(self, limit=10):
        main, rows = self._rows()
        try:
            counts = count_states((r['_state'], r['num_seeds'] + r['num_leechs'], r['_message'], r['dlspeed'], r['upspeed']) for r in rows)
            active = [r for r in rows if is_active_now(r['dlspeed'], r['upspeed'], r['_state'])]
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None
        active.sort(key=lambda r: r['dlspeed'] + r['upspeed'], reverse=True)
        return Overview(header=self._header(main), total=len(rows), counts=counts,
                        active=[self._torrent(r) for r in active[:limit]], active_total=len(active))

    def labels(self):
        """{category: torrents} of every torrent, and every category it has with none ('' : none)."""
        main = self.maindata()
        counts = collections.Counter(r.get('category') or '' for r in main['torrents'].values())
        for name in main['categories']:
            counts.setdefault(name, 0)
        return dict(counts)

    def torrent(self, info_hash):
        key = hash_for_api(info_hash).upper()
        main = self.maindata()
        if key not in main['torrents']:
            raise NotFound("%s '%s' has no torrent with hash %s" % (self.client, self.name, key))
        return self._header(main), self._torrent(main['torrents'][key])

    def names(self, hashes):
        order = [h for h in unique(hashes) if is_info_hash(h)]
        if not order:
            return {}
        found = self.maindata()['torrents']
        return {h: found[h]['name'] if h in found else None for h in order}

    def torrent_detail(self, info_hash, buckets=100):
        api_hash = hash_for_api(info_hash)
        header, _ = self.torrent(info_hash)
        row = self._main['torrents'][api_hash.upper()]
        props = self.json('torrents/properties', hash=api_hash)
        files = self.json('torrents/files', hash=api_hash)
        trackers = self.json('torrents/trackers', hash=api_hash)
        pieces = self.json('torrents/pieceStates', hash=api_hash)
        peers = self.json('sync/torrentPeers', hash=api_hash, rid=0).get('peers') or {}
        try:
            return header, self._detail(row, props, files, trackers, pieces, peers, buckets)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadAnswer(self, 'the files, peers or trackers of %s: %s' % (api_hash.upper(), exc)) from None

    def _detail(self, row, props, files, trackers, pieces, peers, buckets):
        names = [f['name'] for f in files]
        multi = any('/' in n for n in names)
        top = names[0].split('/', 1)[0] if multi else ''
        save_path = props['save_path'].rstrip('/') or '/'
        directory = save_path + '/' + top if multi else save_path
        file_list = []
        for f in files:
            path = f['name'][len(top) + 1:] if multi and f['name'].startswith(top + '/') else f['name']
            file_list.append(File(index=f['index'], path=path, size=f['size'],
                                  completed=int(f['size'] * f['progress']), priority=f['priority'],
                                  scale=FILE_PRIORITIES))
        peer_list = [Peer(address=p['ip'], port=p['port'], client=p.get('client', ''),
                          incoming='I' in (p.get('flags') or '').split(), encrypted='E' in (p.get('flags') or '')
                          or 'e' in (p.get('flags') or ''), percent=int(p['progress'] * 100),
                          up_rate=p['up_speed'], down_rate=p['dl_speed'], up_total=p.get('uploaded'),
                          down_total=p.get('downloaded'))
                     for p in peers.values()]
        tracker_list = [self._tracker(i, t) for i, t in enumerate(t for t in trackers if not t['url'].startswith('** ['))]
        bits = ''.join('1' if p == 2 else '0' for p in pieces)
        bitfield = ('%0*x' % ((len(bits) + 3) // 4, int(bits + '0' * (-len(bits) % 4), 2))) if bits else ''
        seeders = sum(1 for p in peers.values() if p.get('progress', 0) >= 1)
        local_directory = self.paths.to_local(directory)
        return TorrentDetail(
            torrent=self._torrent(row, seeders=seeders), up_total=props['total_uploaded'],
            down_total=props['total_downloaded'], priority=0, directory=directory,
            base_path=save_path + '/' + (top if multi else names[0]) if names else '',
            multi_file=multi, finished=max(0, row.get('completion_on') or 0), open=True,
            chunks=props['pieces_num'], chunks_completed=props['pieces_have'],
            chunks_hashed=int(row['progress'] * props['pieces_num']) if neutral_state(row) == 'checking' else 0,
            pieces=piece_map(bitfield, props['pieces_num'], buckets), metafile='', tied_file='',
            files=file_list, peers=peer_list, trackers=tracker_list,
            scrape_seeders=max((t.seeders for t in tracker_list), default=0),
            scrape_leechers=max((t.leechers for t in tracker_list), default=0),
            local_directory=local_directory, local_metafile=None,     # its API does not say where its copy is
            can_delete_data=self._may_delete(save_path), movable=True,
            downloadable=bool(local_directory and inside_any(local_directory, self.served_roots())),
            down_limit=limit(row['dl_limit']), up_limit=limit(row['up_limit']), scale=PRIORITIES)

    def _may_delete(self, save_path):
        """As Transmission's: inside the download roots when the target declares any."""
        roots = self.paths.download_roots
        if self.paths.local_roots():
            local = self.paths.to_local(save_path)
            return bool(local) and inside_any(local, self.paths.local_roots())
        return not roots or inside_any(save_path, roots)

    @staticmethod
    def _tracker(index, t):
        status = t['status']
        return Tracker(
            index=index, url=t['url'], enabled=status != 0, successes=None, failures=None, scrapes=None,
            seeders=max(0, t['num_seeds']), leechers=max(0, t['num_leeches']), downloaded=max(0, t['num_downloaded']),
            latest_event=TRACKER_EVENTS[0], latest_peers=max(0, t['num_peers']), last_activity=0, next_activity=0,
            last_success=0, last_failure=0, last_scrape=0,
            last_result=t.get('msg') or {1: 'not contacted yet', 2: 'working', 3: 'updating',
                                         4: 'not working'}.get(status, ''))

    # -- the worker's

    def snapshot(self):
        main, rows = self._rows()
        try:
            return [Seen(hash=r['hash'].upper(), name=r['name'], label=r['category'] or '', state=r['_state'],
                         size=r['size'], completed=max(0, r['size'] - r['amount_left']), down_rate=r['dlspeed'],
                         up_rate=r['upspeed'], ratio=float(r['ratio']), finished=max(0, r['completion_on'] or 0),
                         added=r['added_on'], message=r['_message'],
                         trackers=(r['tracker'],) if r['tracker'] else (), priority=0, group='',
                         downloaded=total(r, 'downloaded')) for r in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise BadAnswer(self, 'the torrents for the worker: %s' % exc) from None

    def started_hashes(self, incomplete=False):
        _, rows = self._rows()
        return [r['hash'].upper() for r in rows if r['_state'] in RUNNING and not (incomplete and r['amount_left'] <= 0)]

    def transfer_totals(self, details=False):
        """Its per-torrent totals (all time, kept in its fastresume files: they survive a restart)."""
        main, rows = self._rows()
        try:
            torrents = [TorrentTotals(r['hash'].upper(), total(r, 'uploaded'), total(r, 'downloaded'), r['category'] or '',
                                      r['added_on'], **({'tracker': r['tracker'] or '', 'name': r['name']}
                                                        if details else {})) for r in rows]
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, 'the transfer totals came back malformed: %s' % exc) from None
        return TransferTotals(instance=self.instance(), torrents=torrents, details=details)

