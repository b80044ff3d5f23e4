"""What pages read: the torrent list (two round trips), one torrent, the torrent page
(one round trip), names for a confirmation."""
import collections
import sys

from lib.download import session_metafile
from lib.metafile import is_info_hash
from model.backend import Peer, Seen, TorrentDetail, TorrentList, Tracker, TRACKER_EVENTS, piece_map
from model.errors import BadAnswer, CommandFault, NotFound
from model.rtorrent import commands
from model.rtorrent.connection import Fault
from model.rtorrent.files import RTorrentFile
from lib.paths import inside_any
from model.rtorrent.rows import NAME_COMMAND, SORT_FIELDS, SORT_KEYS, _state, _unique

_SNAPSHOT_PACKED = commands.packed(commands.SNAPSHOT_PACKED)


def _intern(text):
    return sys.intern(text) if type(text) is str else text


class Queries:
    def version(self):
        """(client version, library version), in one round trip."""
        answer = self._checked(self.multicall([(commands.GLOBAL['client_version'], []),
                                               (commands.GLOBAL['library_version'], [])]))
        return tuple(answer)

    def get_libtorrent_version(self):
        """The setup manual's connection test."""
        return self.call(commands.GLOBAL['library_version'])

    def torrent_list(self, query):
        if query.sort not in SORT_FIELDS:
            raise ValueError('unknown sort column %r' % query.sort)
        key_fields = ('hash',) + SORT_FIELDS[query.sort] + ('label',)
        view_call = (self.view_multicall(), ['', query.view, NAME_COMMAND, commands.packed(key_fields)])

        # Round trip 1: header, views, and the sort and filter keys of every torrent.
        answer = self.multicall(self._header_calls() + [view_call])
        header = self._header(self._checked(answer[:-1]))
        keys = answer[-1]
        if isinstance(keys, Fault):
            if query.view not in header.views:
                raise NotFound("%s '%s' has no view named '%s' (it has %s)"
                               % (self.client, self.name, query.view, ', '.join(header.views)))
            raise CommandFault(self, keys.text)
        rows = self._unpack([packed for _, packed in keys], key_fields)
        for row, (name, _) in zip(rows, keys):
            row['name'] = name
        labels = dict(collections.Counter(row['label'] for row in rows))
        text = query.text.casefold()
        if text:
            rows = [r for r in rows if text in r['name'].casefold()]
        if query.label is not None:
            rows = [r for r in rows if r['label'] == query.label]
        page = query.order_and_cut(rows, SORT_KEYS)

        # Round trip 2: the page's rows, one command each, and the size of every view.
        branch, condition, row_command = commands.ROW
        calls = [(branch, [r['hash'], condition, row_command, '']) for r in page]
        calls += [(commands.SYSTEM['view_size'], ['', v]) for v in header.views]
        answer = self.multicall(calls)
        found = [(row, packed) for row, packed in zip(page, answer)
                 if not isinstance(packed, Fault)]      # a Fault: removed between the round trips
        fields = self._unpack([packed for _, packed in found], commands.ROW_FIELDS,
                              [row['hash'] for row, _ in found])
        torrents = []
        for (row, _), more in zip(found, fields):
            row.update(more)
            torrents.append(self._torrent(row))
        view_sizes = {v: s for v, s in zip(header.views, answer[len(page):]) if isinstance(s, int)}
        return TorrentList(header=header, query=query, torrents=torrents, total=len(rows),
                           view_total=len(keys), labels=labels, view_sizes=view_sizes)

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

    def torrent_rows(self, hashes, views):
        """(Header, {hash: Torrent, or None when gone}, {view: size}) in ONE round trip: the
        header, one commands.ROW a hash, view.size of each view.  What a refresh of a list
        needs when its order and membership cannot have changed (the caller checks the view
        sizes against what the page showed).  Name and label are not asked (None): they are
        not figures, and each would cost one more lookup of the hash (a linear scan)."""
        order = [self._hash(h) for h in _unique(hashes)]
        views = list(views)
        branch, condition, row_command = commands.ROW
        calls = self._header_calls() + [(branch, [h, condition, row_command, '']) for h in order]
        calls += [(commands.SYSTEM['view_size'], ['', v]) for v in views]
        answer = self.multicall(calls)
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        found = [(h, p) for h, p in zip(order, answer[n:n + len(order)]) if not isinstance(p, Fault)]
        fields = self._unpack([p for _, p in found], commands.ROW_FIELDS, [h for h, _ in found])
        torrents = dict.fromkeys(order)
        for (h, _), row in zip(found, fields):
            row.update(hash=h, name=None, label=None)
            torrents[h] = self._torrent(row)
        sizes = answer[n + len(order):]
        return header, torrents, {v: s for v, s in zip(views, sizes) if isinstance(s, int)}

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
