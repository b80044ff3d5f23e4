"""What pages read: the torrent list (two round trips), one torrent, the torrent page
(one round trip), names for a confirmation."""
import collections
import sys
import time

from lib.download import session_metafile
from lib.metafile import is_info_hash
from model.clients.interface import whole_list
from model.clients.detail import Peer, TorrentDetail, Tracker, TRACKER_EVENTS, piece_map
from model.clients.types import Overview, Seen, TorrentList, count_states, is_active_now, torrent_matches
from model.clients.trackers import tracker_name
from model.clients.errors import BadAnswer, CommandFault, NotFound
from model.clients.rtorrent import commands
from model.clients.rtorrent.connection import Fault
from model.clients.rtorrent.files import RTorrentFile
from lib.paths import inside_any
from model.clients.rtorrent.rows import NAME_COMMAND, SORT_FIELDS, SORT_KEYS, _state, _unique

_SNAPSHOT_PACKED = commands.packed(commands.SNAPSHOT_PACKED)


def _intern(text):
    return sys.intern(text) if type(text) is str else text


# The list's tracker filter: each torrent's tracker domain is kept in the process by info
# hash (trackers rarely change).  Knowing none (a new process, or TRACKERS_SECONDS after it
# last asked all), the list's first round trip asks every torrent's URLs too (LIST_TRACKERS);
# torrents not seen since ride along in the second (one t.multicall each for FEW_UNKNOWN,
# else one d.multicall2 over the view), or get a trip of their own when the page filters by
# tracker.  Asking every page for all would cost its first round trip about 85 % more at
# 10,000 torrents (tests/bench/bench_filters.py).  Still two round trips a list page.
FEW_UNKNOWN = 100
TRACKERS_SECONDS = 600


class Queries:
    def version(self):
        """(client version, library version), in one round trip."""
        answer = self._checked(self.multicall([(commands.GLOBAL['client_version'], []),
                                               (commands.GLOBAL['library_version'], [])]))
        return tuple(answer)

    def get_libtorrent_version(self):
        """The setup manual's connection test."""
        return self.call(commands.GLOBAL['library_version'])

    def labels(self):
        """{label: count} in one round trip of one field a torrent (the list's first asks
        hash, name and keys too: 2.65x the raw 2-field round trip against about 1x)."""
        answer = self.call(self.view_multicall(), '', 'main', commands.TORRENT['label'] + '=')
        try:
            return dict(collections.Counter(row[0] for row in answer))
        except (TypeError, IndexError) as exc:
            raise BadAnswer(self, 'the labels came back malformed: %s' % exc) from None

    def torrent_list(self, query):
        with whole_list(self):
            return self._torrent_list(query)

    def _torrent_list(self, query):
        if query.sort not in SORT_FIELDS:
            raise ValueError('unknown sort column %r' % query.sort)
        # every torrent's state, peers, rates and message: the sidebar counts the view by state
        state_fields = SORT_FIELDS['state'] + ('peers', 'down_rate', 'up_rate')
        key_fields = tuple(dict.fromkeys(('hash',) + SORT_FIELDS[query.sort] + state_fields + ('label',)))
        known = self._known_domains()
        asks_trackers = known is None
        more = ([commands.LIST_TRACKERS] if asks_trackers else []) + [commands.TORRENT['message'] + '=']
        view_call = (self.view_multicall(), ['', query.view, NAME_COMMAND, commands.packed(key_fields)] + more)

        # Round trip 1: header, views, and the sort and filter keys of every torrent (with
        # every tracker URL when this process knows none: _known_domains).
        answer = self.multicall(self._header_calls() + [view_call])
        header = self._header(self._checked(answer[:-1]))
        keys = answer[-1]
        if isinstance(keys, Fault):
            if query.view not in header.views:
                raise NotFound("%s '%s' has no view named '%s' (it has %s)"
                               % (self.client, self.name, query.view, ', '.join(header.views)))
            raise CommandFault(self, keys.text)
        rows = self._unpack([key[1] for key in keys], key_fields)
        for row, key in zip(rows, keys):
            row['name'] = key[0]
        hashes = [row['hash'] for row in rows]
        labels = dict(collections.Counter(row['label'] for row in rows))
        if asks_trackers:
            known = self._keep_domains({}, hashes, [key[2] for key in keys], fresh=True)
        unknown = [h for h in hashes if h not in known]     # new since: asked in round trip 2
        if unknown and query.tracker is not None:          # ... unless the filter needs them now
            known = self._keep_domains(known, unknown, self._ask_domains(unknown, query.view))
            unknown = []
        message = 3 if asks_trackers else 2
        for row, key in zip(rows, keys):
            row['state'], row['message'] = _state(row), key[message]
        states = count_states((r['state'], r['peers'], r['message'], r['down_rate'], r['up_rate']) for r in rows)
        if query.state:
            rows = [r for r in rows if torrent_matches(query.state, r['state'], r['peers'], r['message'],
                                                         r['down_rate'], r['up_rate'])]
        rows = self._filtered(rows, query, known)
        page = query.order_and_cut(rows, SORT_KEYS)

        # Round trip 2: the page's rows, one command each, the size of every view (and the
        # trackers of torrents not seen before).
        branch, condition, row_command = commands.ROW
        calls = [(branch, [r['hash'], condition, row_command, '']) for r in page]
        calls += [(commands.SYSTEM['view_size'], ['', v]) for v in header.views]
        extra = self._domain_calls(unknown, query.view) if unknown else []
        answer = self.multicall(calls + extra)
        if extra:
            known = self._keep_domains(known, unknown, self._domain_answers(unknown, answer[len(calls):]))
        found = [(row, packed) for row, packed in zip(page, answer)
                 if not isinstance(packed, Fault)]      # a Fault: removed between the round trips
        fields = self._unpack([packed for _, packed in found], commands.ROW_FIELDS,
                              [row['hash'] for row, _ in found])
        torrents = []
        for (row, _), more in zip(found, fields):
            row.update(more)
            torrents.append(self._torrent(row))
        view_sizes = {v: s for v, s in zip(header.views, answer[len(page):len(calls)]) if isinstance(s, int)}
        trackers = dict(collections.Counter(known.get(h, '') for h in hashes))
        if query.view == 'main' and len(known) > len(hashes):     # it holds every torrent: forget the removed
            self._domains = ({h: known[h] for h in hashes if h in known}, self._domains[1])
        return TorrentList(header=header, query=query, torrents=torrents, total=len(rows),
                           view_total=len(keys), labels=labels, view_sizes=view_sizes, trackers=trackers,
                           states=states)

    @staticmethod
    def _filtered(rows, query, domains):
        text = query.text.casefold()
        if text:
            rows = [r for r in rows if text in r['name'].casefold()]
        if query.label is not None:
            rows = [r for r in rows if r['label'] == query.label]
        if query.tracker is not None:
            rows = [r for r in rows if domains.get(r['hash'], '') == query.tracker]
        return rows

    # The tracker domains this process knows ({hash: domain}), and when it asked for all.
    def _known_domains(self):
        """What this process knows, or None when it must ask every torrent's trackers (in
        the list's first round trip): nothing known yet, or known TRACKERS_SECONDS ago."""
        known, asked_at = getattr(self, '_domains', None) or (None, 0.0)
        return None if known is None or time.monotonic() - asked_at > TRACKERS_SECONDS else known

    def _keep_domains(self, known, hashes, urls, fresh=False):
        """known plus the tracker names of `hashes` from their LIST_TRACKERS answers ([[url],
        ...]; None: removed meanwhile), kept for the next list; fresh: every torrent was asked now."""
        known = dict(known)
        try:
            known.update((h, tracker_name(u[0][0]) if u else '') for h, u in zip(hashes, urls) if u is not None)
        except (TypeError, AttributeError, IndexError) as exc:
            raise BadAnswer(self, 'the trackers of the list: %s' % exc) from None
        asked_at = time.monotonic() if fresh else self._domains[1]
        self._domains = (known, asked_at)
        return known

    def _domain_calls(self, unknown, view):
        """The calls that give the trackers of these torrents: one t.multicall each for a
        few (one lookup by hash each), else one d.multicall2 over the view."""
        if len(unknown) <= FEW_UNKNOWN:
            url = commands.TRACKER['url'] + '='
            return [(commands.MULTICALL['trackers'], [h, '', url]) for h in unknown]
        return [(self.view_multicall(), ['', view, commands.TORRENT['hash'] + '=', commands.LIST_TRACKERS])]

    def _domain_answers(self, unknown, answer):
        """LIST_TRACKERS answers (None: gone) of `unknown` from the answers to _domain_calls."""
        if len(unknown) <= FEW_UNKNOWN:
            return [None if isinstance(urls, Fault) else urls for urls in answer]
        found = {} if isinstance(answer[0], Fault) else dict(answer[0])
        return [found.get(h) for h in unknown]

    def _ask_domains(self, unknown, view):
        return self._domain_answers(unknown, self.multicall(self._domain_calls(unknown, view)))

    def overview(self, limit=10):
        """An Overview in one round trip (two when torrents are active): the header, and a
        view multicall over 'started' (OVERVIEW_FIELDS), 'stopped' (only OVERVIEW_STOPPED_FIELDS:
        nothing moves there) and 'hashing'; then one commands.ROW, name and label for each of
        the first `limit` torrents moving data or checking."""
        multicall, views = self.view_multicall(), commands.OVERVIEW_VIEWS
        fields = (commands.OVERVIEW_FIELDS, commands.OVERVIEW_STOPPED_FIELDS, commands.OVERVIEW_FIELDS)
        answer = self.multicall(self._header_calls() + [(multicall, ['', view, commands.packed(f)])
                                                        for view, f in zip(views, fields)])
        header = self._header(self._checked(answer[:-3]))
        started, stopped, hashing = [self._overview_rows(a, f) for a, f in zip(answer[-3:], fields)]
        for row in stopped:
            row.update(started=0, active=0, peers=0)
        for row in started + stopped + hashing:
            row['state'] = _state(row)
        counts = count_states((r['state'], r['peers'], r['message'], r.get('down_rate', 0), r.get('up_rate', 0))
                              for r in started + stopped)
        active = {r['hash']: r for r in started + hashing if is_active_now(r['down_rate'], r['up_rate'], r['state'])}
        active = sorted(active.values(), key=lambda r: r['down_rate'] + r['up_rate'], reverse=True)
        return Overview(header=header, total=len(started) + len(stopped), counts=counts,
                        active=self._active_rows([r['hash'] for r in active[:limit]]), active_total=len(active))

    def _overview_rows(self, answer, fields):
        if isinstance(answer, Fault):
            raise CommandFault(self, answer.text)
        try:
            return self._unpack([packed for packed, in answer], fields)
        except (TypeError, ValueError):
            raise BadAnswer(self, 'the torrents of a view came back as %r' % answer[:1]) from None

    def _active_rows(self, hashes):
        """Torrents for these hashes in one round trip (none for no hash): one commands.ROW,
        name and label each; one removed meanwhile is left out."""
        if not hashes:
            return []
        branch, condition, row_command = commands.ROW
        name, label = commands.TORRENT['name'], commands.TORRENT['label']
        found = self.multicall([call for h in hashes for call in (
            (branch, [h, condition, row_command, '']), (name, [h]), (label, [h]))])
        torrents = []
        for h, (packed, name_text, label_text) in zip(hashes, zip(*[iter(found)] * 3)):
            if any(isinstance(v, Fault) for v in (packed, name_text, label_text)):
                continue
            row = self._unpack([packed], commands.ROW_FIELDS, [h])[0]
            row.update(hash=h, name=name_text, label=label_text)
            torrents.append(self._torrent(row))
        return torrents

    def snapshot(self):
        """[Seen] of every torrent of the main view, in one round trip.  The decoded answer
        is let go row by row as its Seen is made; repeated texts (labels, groups, tracker
        URLs, messages) are one string each."""
        texts = [commands.TORRENT[f] + '=' for f in commands.SNAPSHOT_TEXTS]
        trackers = '%s=,%s=' % commands.SNAPSHOT_TRACKERS
        rows = self.call(self.view_multicall(), '', 'main', _SNAPSHOT_PACKED, *texts, trackers)
        seen = []
        try:
            for i, values in enumerate(rows):
                rows[i] = None
                row = self._unpack(values[:1], commands.SNAPSHOT_PACKED)[0]
                seen.append(Seen(
                    hash=row['hash'], name=values[1], label=_intern(values[2]), state=_state(row),
                    size=row['size'], completed=row['completed'], down_rate=row['down_rate'],
                    up_rate=row['up_rate'], ratio=row['ratio'] / 1000.0, finished=row['finished'],
                    added=row['added'], message=_intern(row['message']), priority=row['priority'],
                    group=_intern(values[3]), downloaded=row['down_total'],
                    trackers=tuple(_intern(t[0]) for t in values[4] if t)))
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise BadAnswer(self, 'the torrents of the main view: %s' % exc) from None
        return seen

    def started_hashes(self, incomplete=False):
        """[hash] of the 'started' view (or 'leeching': started and incomplete), without the
        ones checking, in one round trip whose size is that view's, not the whole list's."""
        view = commands.STARTED_VIEWS[bool(incomplete)]
        rows = self.call(self.view_multicall(), '', view, *[commands.TORRENT[f] + '=' for f in commands.STARTED_FIELDS])
        try:
            return [h for h, hashing in rows if not hashing]
        except (TypeError, ValueError) as exc:
            raise BadAnswer(self, 'the torrents of the %s view: %s' % (view, exc)) from None

    def torrent_rows(self, hashes, views, idle=()):
        """(Header, {hash: Torrent, or None when gone}, {view: size}, woke) in ONE round trip:
        the header, one commands.ROW a hash, view.size of each view.  What a refresh of a list
        needs when its order and membership cannot have changed (the caller checks the view
        sizes against what the page showed).  Name and label are not asked (None): they are
        not figures, and each would cost one more lookup of the hash (a linear scan).

        idle: hashes of `hashes` the caller saw stopped and idle, whose figures it keeps: they
        are not looked up (each lookup scans rTorrent's list, about 0.6 ms at 10,000); the
        round trip asks the hashes of the 'started' and 'hashing' views instead (a stopped
        torrent changes only by entering one), and `woke` is the set of idle ones found
        there, to be asked again (all of them if rTorrent lacks one of those views).
        torrents holds no entry for an idle hash."""
        idle = {self._hash(h) for h in idle}
        order = [h for h in map(self._hash, _unique(hashes)) if h not in idle]
        views = list(views)
        branch, condition, row_command = commands.ROW
        calls = self._header_calls() + [(branch, [h, condition, row_command, '']) for h in order]
        calls += [(commands.SYSTEM['view_size'], ['', v]) for v in views]
        watch = self.wake_views if idle else ()
        calls += [(self.view_multicall(), ['', v, commands.TORRENT['hash'] + '=']) for v in watch]
        answer = self.multicall(calls)
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        found = [(h, p) for h, p in zip(order, answer[n:n + len(order)]) if not isinstance(p, Fault)]
        fields = self._unpack([p for _, p in found], commands.ROW_FIELDS, [h for h, _ in found])
        torrents = dict.fromkeys(order)
        for (h, _), row in zip(found, fields):
            row.update(hash=h, name=None, label=None)
            torrents[h] = self._torrent(row)
        sizes = answer[n + len(order):n + len(order) + len(views)]
        woke = set()
        for view, rows in zip(watch, answer[n + len(order) + len(views):]):
            if isinstance(rows, Fault):     # a client without that view: nothing is known kept
                woke |= idle
                continue
            try:
                woke.update(h for h, in rows if h in idle)
            except (TypeError, ValueError) as exc:
                raise BadAnswer(self, 'the torrents of the %s view: %s' % (view, exc)) from None
        return header, torrents, {v: s for v, s in zip(views, sizes) if isinstance(s, int)}, woke

    def torrent_rows_added(self, view, bound, newer, views):
        """(Header, [Torrent], {view: size}) in ONE round trip: every torrent of `view` added
        at or after `bound` (newer=True; at or before it otherwise), with name, label and
        figures, in the view's order.  What a refresh of a list sorted by date added needs:
        those torrents are the page and all that ranks before it, and one that was added
        since is among them.  One pass of rTorrent over the view (d.multicall.filtered on
        d.load_date), no hash lookup: the newest rows are the deepest in its list, where a
        lookup costs it about 1 ms at 10,000 torrents, the pass about 20 ms in all."""
        if not isinstance(bound, int) or isinstance(bound, bool) or not 0 <= bound < 2 ** 63:
            raise ValueError('the date added must be a unix time, not %r' % (bound,))
        if not self.offers().get('filtered'):
            raise NotImplementedError('%s lacks %s' % (self.client, commands.FILTERED_MULTICALL))
        condition = commands.ADDED_NEWER % (bound - 1) if newer else commands.ADDED_OLDER % (bound + 1)
        views = list(views)
        calls = self._header_calls() + [(commands.FILTERED_MULTICALL,
                                         ['', view, condition] + list(commands.ADDED_ROWS))]
        calls += [(commands.SYSTEM['view_size'], ['', v]) for v in views]
        answer = self.multicall(calls)
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        found = answer[n]
        if isinstance(found, Fault):
            if view not in header.views:
                raise NotFound("%s '%s' has no view named '%s' (it has %s)"
                               % (self.client, self.name, view, ', '.join(header.views)))
            raise CommandFault(self, '%s: %s' % (commands.FILTERED_MULTICALL, found.text))
        try:
            hashes = [h for h, _, _, _ in found]
            rows = self._unpack([p for _, _, _, p in found], commands.ROW_FIELDS, hashes)
            for row, (h, name, label, _) in zip(rows, found):
                row.update(hash=h, name=name, label=label)
        except (TypeError, ValueError) as exc:
            raise BadAnswer(self, 'the torrents added since %d: %s' % (bound, exc)) from None
        sizes = answer[n + 1:]
        return (header, [self._torrent(row) for row in rows],
                {v: s for v, s in zip(views, sizes) if isinstance(s, int)})

    def torrent(self, info_hash):
        info_hash = self._hash(info_hash)
        field_names = commands.PAGE_FIELDS
        answer = self.multicall(self._header_calls() + [(commands.TORRENT[f], [info_hash]) for f in field_names])
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        torrent = self._torrent(dict(zip(field_names, answer[n:])))
        if torrent is None:
            raise NotFound("%s '%s' has no torrent with hash %s" % (self.client, self.name, info_hash))
        return header, torrent

    def torrent_detail(self, info_hash, buckets=100):
        """(Header, TorrentDetail) in ONE round trip; NotFound for an unknown hash.

        rtorrent finds a torrent by a linear scan of its list for every command naming its
        hash, so the numbers come packed in one command (commands.DETAIL_ROW), the files,
        peers and trackers in one X.multicall each, and only the free texts one by one:
        10 lookups in all (3.1 ms for the torrent loaded last of 10,000; a command a field,
        31 lookups, 9.7 ms: tests/bench/bench_detail.py).  `buckets`: the piece map's most bars."""
        info_hash = self._hash(info_hash)
        branch, condition, row_command = commands.DETAIL_ROW
        calls = self._header_calls() + [(commands.SYSTEM['session_path'], []),
                                        (branch, [info_hash, condition, row_command, ''])]
        calls += [(commands.TORRENT[f], [info_hash]) for f in commands.DETAIL_TEXTS]
        for table, name in ((commands.FILE, 'files'), (commands.PEER, 'peers'), (commands.TRACKER, 'trackers')):
            calls.append((commands.MULTICALL[name], [info_hash, ''] + [c + '=' for c in table.values()]))
        answer = self.multicall(calls)
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        session_path, packed = answer[n:n + 2]
        if isinstance(packed, Fault):
            raise NotFound("%s '%s' has no torrent with hash %s" % (self.client, self.name, info_hash))
        rest = self._checked(answer[n + 2:])
        row = self._unpack([packed], commands.DETAIL_FIELDS, [info_hash])[0]
        row.update(zip(commands.DETAIL_TEXTS, rest))
        files, peers, trackers = rest[len(commands.DETAIL_TEXTS):]
        try:
            files = [RTorrentFile.from_row(i, dict(zip(commands.FILE, f))) for i, f in enumerate(files)]
            peers = [Peer(**dict(zip(commands.PEER, p))) for p in peers]
            trackers = [self._tracker(i, dict(zip(commands.TRACKER, t))) for i, t in enumerate(trackers)]
        except (TypeError, ValueError) as exc:
            raise BadAnswer(self, 'the files, peers or trackers of %s: %s' % (info_hash, exc)) from None
        for peer in peers:
            peer.incoming, peer.encrypted, peer.snubbed = bool(peer.incoming), bool(peer.encrypted), bool(peer.snubbed)
        enabled = [t for t in trackers if t.enabled]
        metafile = session_metafile(session_path, info_hash) if session_path else ''
        local_directory = self.paths.to_local(row['directory'])
        roots = self.paths.local_roots()
        detail = TorrentDetail(
            torrent=self._torrent(row), up_total=row['up_total'], down_total=row['down_total'],
            priority=row['priority'], directory=row['directory'], base_path=row['base_path'],
            multi_file=bool(row['multi_file']), finished=row['finished'], open=bool(row['open']),
            chunks=row['chunks'], chunks_completed=row['chunks_completed'],
            chunks_hashed=row['chunks_hashed'],
            pieces=self._pieces(row, buckets), metafile=metafile, tied_file=row['tied_file'],
            files=files, peers=peers, trackers=trackers,
            scrape_seeders=max((t.seeders for t in enabled), default=0),
            scrape_leechers=max((t.leechers for t in enabled), default=0),
            local_directory=local_directory, local_metafile=self.paths.to_local(metafile),
            can_delete_data=bool(local_directory and roots and inside_any(local_directory, roots)),
            # 0.9.8 takes d.directory.set on an open torrent, closes it and leaves it unable to start
            movable=not row['started'] and not row['hashing'] and not row['open'],
            downloadable=bool(local_directory and inside_any(local_directory, self.paths.served_roots())),
            group=row['group'],
        )
        return header, detail

    @staticmethod
    def _pieces(row, buckets):
        pieces = piece_map(row['bitfield'], row['chunks'], buckets)
        if pieces is None and row['chunks'] > 0 and row['chunks_completed'] in (0, row['chunks']):
            # closed: no bitfield in memory, but all or nothing is still known
            pieces = [1.0 if row['chunks_completed'] else 0.0] * max(1, min(buckets, row['chunks']))
        return pieces

    @staticmethod
    def _tracker(index, row):
        row['enabled'] = bool(row['enabled'])
        row['latest_event'] = TRACKER_EVENTS.get(row['latest_event'], str(row['latest_event']))
        return Tracker(index=index, **row)

    def names(self, hashes):
        """{hash: name, or None when rtorrent has no such torrent} in one round trip (what
        a confirmation page shows)."""
        order = [h.upper() for h in _unique(hashes) if is_info_hash(h)]
        answer = self.multicall([(commands.TORRENT['name'], [h]) for h in order])
        return {h: (None if isinstance(name, Fault) else name) for h, name in zip(order, answer)}
