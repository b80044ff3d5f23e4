"""What pages read from Transmission: the list (four calls), one torrent, the torrent page
(three calls), names for a confirmation (one)."""
import collections
import email.utils
import os
import time

from model.clients.detail import File, Peer, TorrentDetail, Tracker, piece_map
from model.clients.types import Overview, TorrentList, count_states, is_active_now, torrent_matches
from model.clients.errors import BadAnswer, NotFound
from model.clients.transmission.rows import (DETAIL_FIELDS, KEY_FIELDS, OVERVIEW_FIELDS, PRIORITIES, ROW_FIELDS, SORT_FIELDS,
                                     SORT_KEYS, VIEWS, KB, hash_for_rpc, piece_hex, unique)
from lib.metafile import is_info_hash
from lib.paths import inside_any


class Queries:
    def version(self):
        """(client version, '') in one call: Transmission has no separate library."""
        answer = self.call('session-get', fields=['version'])
        return answer.get('version', ''), ''

    def instance(self):
        """Which run of the daemon answers (the worker's restart detector), in one call:
        'started N', N its start on its own clock (the answer's Date less session-stats'
        current secondsActive), good to a second or two: model.clients.types.same_daemon_run compares
        them.  Not the X-Transmission-Session-Id: libtransmission makes that anew every
        hour (SESSION_ID_DURATION_SEC), which read as a restart an hour (a re-apply, a
        restart event and a gap in the statistics); nor cumulative sessionCount, which
        3.00 saves only once bytes have moved."""
        stats = self.call('session-stats')
        try:
            up = int(stats['current-stats']['secondsActive'])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadAnswer(self, 'session-stats lacks current-stats.secondsActive (%s)' % exc) from None
        try:
            now = email.utils.parsedate_to_datetime(self.transport.last_date).timestamp()
        except (TypeError, ValueError, IndexError):
            now = time.time()                 # no Date header: our clock
        return 'started %d' % (now - up)

    def torrent_list(self, query):
        """Four calls whatever the number of torrents: session-get and session-stats (the
        header), torrent-get of the keys of every torrent (what views, filters and the
        sort column need), torrent-get of the one page's rows by id."""
        if query.sort not in SORT_FIELDS:
            raise ValueError('unknown sort column %r' % query.sort)
        header, _ = self._header_and_session()
        if query.view not in VIEWS:
            raise NotFound("%s '%s' has no view named '%s' (it has %s)"
                           % (self.client, self.name, query.view, ', '.join(VIEWS)))
        # every torrent's peers and rates too: the sidebar counts the view by state
        fields = KEY_FIELDS + [f for f in SORT_FIELDS[query.sort] + ['peersConnected', 'rateDownload', 'rateUpload']
                               if f not in KEY_FIELDS]
        fields = list(dict.fromkeys(fields))
        rows = self._keyed(self._table(self.call('torrent-get', fields=fields, format='table'), 'the list'))
        # one pass for every view's size: 7 passes cost 20 ms at 10,000 torrents
        states = collections.Counter(r['state'] for r in rows)
        errors = sum(1 for r in rows if r['error'])
        view_sizes = {name: len(rows) if kind is None else errors if kind == 'error' else sum(states[s] for s in kind)
                      for name, kind in VIEWS.items()}
        kind = VIEWS[query.view]
        if kind == 'error':
            rows = [r for r in rows if r['error']]
        elif kind is not None:
            rows = [r for r in rows if r['state'] in kind]
        view_total = len(rows)
        counts = collections.Counter(label for r in rows for label in (r['labels'] or ['']))
        trackers = collections.Counter(r['tracker'] for r in rows)
        states = count_states((r['state'], r['peersConnected'], r['error'], r['rateDownload'], r['rateUpload'])
                              for r in rows)
        if query.state:
            rows = [r for r in rows if torrent_matches(query.state, r['state'], r['peersConnected'], r['error'],
                                                         r['rateDownload'], r['rateUpload'])]
        text = query.text.casefold()
        if text:
            rows = [r for r in rows if text in r['name'].casefold()]
        if query.label == '':
            rows = [r for r in rows if not r['labels']]
        elif query.label is not None:
            rows = [r for r in rows if query.label in r['labels']]
        if query.tracker is not None:
            rows = [r for r in rows if r['tracker'] == query.tracker]
        page = query.order_and_cut(rows, SORT_KEYS)
        torrents = []
        if page:
            found = {r['id']: r for r in self._table(
                self.call('torrent-get', ids=[r['id'] for r in page], fields=ROW_FIELDS, format='table'),
                'a page of the list')}
            # one removed between the two calls is left out
            torrents = [self._torrent(found[r['id']]) for r in page if r['id'] in found]
        return TorrentList(header=header, query=query, torrents=torrents, total=len(rows),
                           view_total=view_total, labels=dict(counts), view_sizes=view_sizes,
                           trackers=dict(trackers), states=states)

    def overview(self, limit=10):
        """An Overview in three calls (four when torrents are active): session-get and
        session-stats, torrent-get of every torrent's state fields, torrent-get of the rows of
        the first `limit` active ones by rate."""
        header, _ = self._header_and_session()
        rows = self._keyed(self._table(self.call('torrent-get', fields=OVERVIEW_FIELDS, format='table'), 'the front page'))
        try:
            counts = count_states((r['state'], r['peersConnected'], r['error'], r['rateDownload'], r['rateUpload'])
                                  for r in rows)
            active = [r for r in rows if is_active_now(r['rateDownload'], r['rateUpload'], r['state'])]
        except (KeyError, TypeError) as exc:
            raise BadAnswer(self, 'a torrent came back without %s' % exc) from None
        active.sort(key=lambda r: r['rateDownload'] + r['rateUpload'], reverse=True)
        torrents = []
        if active:
            ids = [r['id'] for r in active[:limit]]
            found = {r['id']: r for r in self._table(
                self.call('torrent-get', ids=ids, fields=ROW_FIELDS, format='table'), 'the active torrents')}
            torrents = [self._torrent(found[i]) for i in ids if i in found]
        return Overview(header=header, total=len(rows), counts=counts, active=torrents, active_total=len(active))

    def torrent(self, info_hash):
        header, _ = self._header_and_session()
        rows = self._table(self.call('torrent-get', ids=[hash_for_rpc(info_hash)], fields=ROW_FIELDS), 'one torrent')
        if not rows:
            raise NotFound("%s '%s' has no torrent with hash %s" % (self.client, self.name, info_hash.upper()))
        return header, self._torrent(rows[0])

    def names(self, hashes):
        """{hash: name, or None when Transmission has no such torrent} in one call."""
        order = [h for h in unique(hashes) if is_info_hash(h)]
        if not order:
            return {}
        rows = self._table(self.call('torrent-get', ids=[h.lower() for h in order],
                                     fields=['hashString', 'name']), 'names')
        found = {r['hashString'].upper(): r['name'] for r in rows}
        return {h: found.get(h) for h in order}

    def torrent_detail(self, info_hash, buckets=100):
        """(Header, TorrentDetail) in three calls: session-get, session-stats, and one
        torrent-get of the torrent with its files, peers, trackers and pieces."""
        rpc_hash = hash_for_rpc(info_hash)
        header, _ = self._header_and_session()
        rows = self._table(self.call('torrent-get', ids=[rpc_hash], fields=DETAIL_FIELDS), 'the torrent page')
        if not rows:
            raise NotFound("%s '%s' has no torrent with hash %s" % (self.client, self.name, rpc_hash.upper()))
        row = rows[0]
        try:
            return header, self._detail(row, buckets)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadAnswer(self, 'the files, peers or trackers of %s: %s' % (rpc_hash.upper(), exc)) from None

    def _detail(self, row, buckets):
        names = [f['name'] for f in row['files']]
        multi = any('/' in n for n in names)
        top = names[0].split('/', 1)[0] if multi else ''
        download_dir = row['downloadDir'].rstrip('/') or '/'
        # as rTorrent's: multi-file, the torrent's own folder and paths inside it; single, the folder holding it
        directory = download_dir + '/' + top if multi else download_dir
        files = []
        for index, (f, st) in enumerate(zip(row['files'], row['fileStats'])):
            path = f['name'][len(top) + 1:] if multi and f['name'].startswith(top + '/') else f['name']
            files.append(File(index=index, path=path, size=f['length'], completed=f['bytesCompleted'],
                              priority=st['priority'], wanted=bool(st['wanted']), scale=PRIORITIES))
        peers = [Peer(address=p['address'], port=p['port'], client=p['clientName'],
                      incoming=bool(p['isIncoming']), encrypted=bool(p['isEncrypted']),
                      percent=int(p['progress'] * 100), up_rate=p['rateToPeer'], down_rate=p['rateToClient'])
                 for p in row['peers']]
        trackers = [self._tracker(i, t) for i, t in enumerate(row['trackerStats'])]
        bitfield, have = piece_hex(row['pieces'], row['pieceCount'])
        seeders = sum(1 for p in row['peers'] if p['progress'] >= 1)
        torrent = self._torrent(row, seeders=seeders)
        local_directory = self.paths.to_local(directory)
        return TorrentDetail(
            torrent=torrent, up_total=row['uploadedEver'], down_total=row['downloadedEver'],
            priority=row['bandwidthPriority'], directory=directory,
            base_path=download_dir + '/' + (top if multi else names[0]) if names else '',
            multi_file=multi, finished=row['doneDate'], open=True, chunks=row['pieceCount'],
            chunks_completed=have, chunks_hashed=int(row['recheckProgress'] * row['pieceCount']),
            pieces=piece_map(bitfield, row['pieceCount'], buckets), metafile=row['torrentFile'],
            tied_file='', files=files, peers=peers, trackers=trackers,
            scrape_seeders=max((t.seeders for t in trackers), default=0),
            scrape_leechers=max((t.leechers for t in trackers), default=0),
            local_directory=local_directory, local_metafile=_existing(self.paths.to_local(row['torrentFile'])),
            can_delete_data=self._may_delete(download_dir), movable=True,
            downloadable=bool(local_directory and inside_any(local_directory, self.served_roots())),
            down_limit=row['downloadLimit'] * KB if row['downloadLimited'] else 0,
            up_limit=row['uploadLimit'] * KB if row['uploadLimited'] else 0, scale=PRIORITIES)

    def _may_delete(self, download_dir):
        """Whether its data may be deleted (Actions.erase says by whom): inside the target's
        download roots when it declares any, else anywhere Transmission keeps it."""
        roots = self.paths.download_roots
        if self.paths.local_roots():
            local = self.paths.to_local(download_dir)
            return bool(local) and inside_any(local, self.paths.local_roots())
        return not roots or inside_any(download_dir, roots)

    @staticmethod
    def _tracker(index, t):
        announced = t['hasAnnounced'] and t['lastAnnounceTime'] > 0
        return Tracker(
            index=index, url=t['announce'], enabled=True, successes=None, failures=None, scrapes=None,
            seeders=max(0, t['seederCount']), leechers=max(0, t['leecherCount']),
            downloaded=max(0, t['downloadCount']), latest_event='', latest_peers=t['lastAnnouncePeerCount'],
            last_activity=t['lastAnnounceTime'], next_activity=max(0, t['nextAnnounceTime']),
            last_success=t['lastAnnounceTime'] if announced and t['lastAnnounceSucceeded'] else 0,
            last_failure=t['lastAnnounceTime'] if announced and not t['lastAnnounceSucceeded'] else 0,
            last_scrape=t['lastScrapeTime'], last_result=t['lastAnnounceResult'] if announced else '')


def _existing(path):
    """The local path of its .torrent, when it is there (a magnet link without its metadata
    yet has none)."""
    return path if path and os.path.isfile(path) else None
