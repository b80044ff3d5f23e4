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
kept in a Beaker cache.
"""
import collections
import re
import time

from lib.erase import delete_files
from lib.paths import PathMap

from beaker.cache import CacheManager

from lib import xmlrpc
from lib.metafile import SCGI_BODY_LIMIT
from lib.transport import TransportError, TransportTimeout, redacted, transport_for
from model import commands
from model.backend import (ActionResult, AddResult, Backend, File, FILE_PRIORITIES, Header, Peer,
                           PRIORITIES, Torrent, TorrentDetail, TorrentList, Tracker, TRACKER_EVENTS,
                           eta, piece_map, torrent_state, STATES)
from model.errors import BadAnswer, CommandFault, NotFound, TimedOut, Unreachable, Unsupported

INFO_HASH = re.compile(r'^[0-9A-Fa-f]{40}$')
MAX_REQUEST = 500_000   # rtorrent's default network.xmlrpc.size_limit is 524,288 bytes: split below it

READ_BACK_PAUSES = (0.01, 0.04, 0.15, 0.3, 1.0)   # seconds; see RTorrent._read_back

_cache = CacheManager(cache_regions={})


class Fault:
    """A command inside a batch that rtorrent refused (the batch itself went through)."""

    def __init__(self, code, text):
        self.code, self.text = code, text

    def __repr__(self):
        return 'Fault(%r, %r)' % (self.code, self.text)


# Which numeric d.* fields each sort column needs for every torrent of the view (fetched
# packed into one text a torrent: 124 ms instead of 150 ms for five fields at 10,000), and
# how it turns one row (a dict of those fields) into a sort key.  Name and label are always
# there: the filters need them.
SORT_FIELDS = {
    'name': (), 'size': ('size',), 'done': ('size', 'completed'),
    'state': ('started', 'active', 'hashing', 'complete'), 'down': ('down_rate',),
    'up': ('up_rate',), 'ratio': ('ratio',), 'peers': ('peers',), 'label': (),
    'eta': ('left', 'down_rate', 'started', 'active', 'hashing'), 'added': ('added',),
}


def _state(row):
    """The state from a row's flags; whether it is complete comes from whichever of
    complete, left or size and completed the row has."""
    if 'complete' in row:
        complete = row['complete']
    elif 'left' in row:
        complete = row['left'] <= 0
    else:
        complete = row['completed'] >= row['size']
    return torrent_state(row['started'], row['active'], row['hashing'], complete)


_NO_ETA = float('inf')
SORT_KEYS = {
    'size': lambda r: r['size'],
    'done': lambda r: r['completed'] / r['size'] if r['size'] else 1.0,
    'state': lambda r: STATES.index(_state(r)),
    'down': lambda r: r['down_rate'],
    'up': lambda r: r['up_rate'],
    'ratio': lambda r: r['ratio'],
    'peers': lambda r: r['peers'],
    'label': lambda r: (r['label'] == '', r['label'].casefold()),
    'eta': lambda r: _NO_ETA if (e := eta(r['left'], r['down_rate'], _state(r))) is None else e,
    'added': lambda r: r['added'],
}
# Fetched for every torrent: its name, and one text of its hash, the numbers the sort
# column needs, and its label (last: it may hold ':').  Packing them saves 10 % of
# rtorrent's time (76 ms instead of 81 ms for hash, name and label at 10,000).
NAME_COMMAND = commands.TORRENT['name'] + '='


def multicall_body(calls):
    """The XML-RPC request of one system.multicall over [(method, params), ...]."""
    return xmlrpc.dumps(commands.SYSTEM['multicall'],
                        [[{'methodName': m, 'params': list(p)} for m, p in calls]])


class RTorrent(Backend):
    """One rTorrent daemon.

    RTorrent() talks to the first target of config.py (as the setup manual's test.py
    does); RTorrent('scgi://127.0.0.1:5000') or RTorrent(config_target) to a given one.
    """

    def __init__(self, target=None, name=None, timeout=None, cache_seconds=600):
        if target is None:
            from lib import config
            target = config.load().targets[0]
        if isinstance(target, str):
            url, self.name, self.timeout = target, name or redacted(target), timeout or 10.0
        else:
            url, self.name, self.timeout = target.url, name or target.name, timeout or target.timeout
        self.transport = transport_for(url, self.timeout)
        self.paths = PathMap.for_url(url) if isinstance(target, str) else PathMap.for_target(target)
        self.url = redacted(url)        # what pages and errors show: never a password
        self.cache_seconds = cache_seconds

    # -- round trips ------------------------------------------------------------------

    def call(self, method, *params):
        """One command, one round trip."""
        _check_allowed((method,))
        return self._send(xmlrpc.dumps(method, params))

    def multicall(self, calls, limit=MAX_REQUEST):
        """[(method, params), ...] in one system.multicall; a refused command's slot holds a
        Fault instead of a value.  Batches whose request is over `limit` bytes are split
        (in order: rtorrent runs the commands one after the other either way)."""
        if not calls:
            return []
        _check_allowed(m for m, _ in calls)
        body = multicall_body(calls)
        if len(body) > limit and len(calls) > 1:
            half = len(calls) // 2
            return self.multicall(calls[:half], limit) + self.multicall(calls[half:], limit)
        answer = self._send(body)
        if not isinstance(answer, list) or len(answer) != len(calls):
            raise BadAnswer(self.name, self.url, 'system.multicall gave %s for %d commands'
                            % (type(answer).__name__, len(calls)))
        return [Fault(slot.get('faultCode'), slot.get('faultString')) if isinstance(slot, dict)
                else slot[0] if isinstance(slot, list) and len(slot) == 1
                else Fault(None, 'malformed slot %r' % (slot,)) for slot in answer]

    def _send(self, body):
        try:
            return xmlrpc.loads(self.transport.request(body))
        except TransportTimeout as exc:
            raise TimedOut(self.name, self.url, str(exc)) from None
        except TransportError as exc:
            raise Unreachable(self.name, self.url, str(exc)) from None
        except xmlrpc.Fault as exc:
            raise CommandFault(self.name, self.url, '%s (fault %s)' % (exc.faultString, exc.faultCode)) from None
        except xmlrpc.MalformedAnswer as exc:
            raise BadAnswer(self.name, self.url, str(exc)) from None

    # -- what the daemon offers -------------------------------------------------------

    def capabilities(self):
        """What this daemon offers, asked once (one round trip) and kept in a Beaker cache:
        {'multicall': its view multicall command, 'api_version': system.api_version}."""
        cache = _cache.get_cache('rtorrent-methods', type='memory', expire=self.cache_seconds)
        # Keyed by this object too: a new app (or a restarted daemon behind a new config)
        # asks again rather than trusting another instance's answer.
        return cache.get_value(key='%s#%x' % (self.url, id(self)), createfunc=self._detect)

    @property
    def can_delete_data(self):
        """Whether a delete-data choice can be offered for this target at all (it sees the
        target's disk and declares download roots); TorrentDetail.can_delete_data says it
        for one torrent."""
        return self.paths.can_delete

    def view_multicall(self):
        return self.capabilities()['multicall']

    def _detect(self):
        names, api_version, version = self.multicall([(commands.SYSTEM['methods'], []),
                                                      (commands.SYSTEM['api_version'], []),
                                                      (commands.GLOBAL['client_version'], [])])
        if isinstance(names, Fault):
            raise CommandFault(self.name, self.url, 'system.listMethods: %s' % names.text)
        methods = set(names)
        found = [name for name in commands.VIEW_MULTICALL if name in methods]
        needed = set(commands.TORRENT.values()) | set(commands.GLOBAL.values()) | set(commands.SYSTEM.values())
        missing = sorted(needed - methods)
        if not found or missing or 'd.get_name' in methods:
            raise Unsupported(self.name, self.url, 'it is rTorrent %s and lacks %s; pyroTorrent needs '
                              'rTorrent 0.9 or newer' % (version, ', '.join(missing or ['d.multicall2'])))
        return {'multicall': found[0], 'api_version': None if isinstance(api_version, Fault) else api_version}

    # -- queries ----------------------------------------------------------------------

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
                raise NotFound("rTorrent '%s' has no view named '%s' (it has %s)"
                               % (self.name, query.view, ', '.join(header.views)))
            raise CommandFault(self.name, self.url, keys.text)
        rows = self._unpack([packed for _, packed in keys], key_fields)
        for row, (name, _) in zip(rows, keys):
            row['name'] = name
        labels = dict(collections.Counter(row['label'] for row in rows))
        text = query.text.casefold()
        if text:
            rows = [r for r in rows if text in r['name'].casefold()]
        if query.label is not None:
            rows = [r for r in rows if r['label'] == query.label]
        rows.sort(key=lambda r: r['name'].casefold())
        if query.sort != 'name':
            rows.sort(key=SORT_KEYS[query.sort], reverse=query.reverse)
        elif query.reverse:
            rows.reverse()
        first = (query.page - 1) * query.per_page
        page = rows[first:first + query.per_page]

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

    def torrent(self, info_hash):
        info_hash = self._hash(info_hash)
        field_names = commands.PAGE_FIELDS
        answer = self.multicall(self._header_calls() + [(commands.TORRENT[f], [info_hash]) for f in field_names])
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        torrent = self._torrent(dict(zip(field_names, answer[n:])))
        if torrent is None:
            raise NotFound("rTorrent '%s' has no torrent with hash %s" % (self.name, info_hash))
        return header, torrent

    def torrent_detail(self, info_hash, buckets=100):
        """(Header, TorrentDetail) in ONE round trip; NotFound for an unknown hash.

        rtorrent finds a torrent by a linear scan of its list for every command naming its
        hash, so the numbers come packed in one command (commands.DETAIL_ROW), the files,
        peers and trackers in one X.multicall each, and only the free texts one by one:
        9 lookups in all (3.1 ms for the torrent loaded last of 10,000; a command a field,
        31 lookups, 9.7 ms: bench/bench_detail.py).  `buckets`: the piece map's most bars."""
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
            raise NotFound("rTorrent '%s' has no torrent with hash %s" % (self.name, info_hash))
        rest = self._checked(answer[n + 2:])
        row = self._unpack([packed], commands.DETAIL_FIELDS, [info_hash])[0]
        row.update(zip(commands.DETAIL_TEXTS, rest))
        files, peers, trackers = rest[len(commands.DETAIL_TEXTS):]
        try:
            files = [File(index=i, **dict(zip(commands.FILE, f))) for i, f in enumerate(files)]
            peers = [Peer(**dict(zip(commands.PEER, p))) for p in peers]
            trackers = [self._tracker(i, dict(zip(commands.TRACKER, t))) for i, t in enumerate(trackers)]
        except (TypeError, ValueError) as exc:
            raise BadAnswer(self.name, self.url, 'the files, peers or trackers of %s: %s' % (info_hash, exc)) from None
        for peer in peers:
            peer.incoming, peer.encrypted, peer.snubbed = bool(peer.incoming), bool(peer.encrypted), bool(peer.snubbed)
        enabled = [t for t in trackers if t.enabled]
        metafile = (session_path.rstrip('/') + '/' + info_hash + '.torrent') if session_path else ''
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
            can_delete_data=bool(local_directory and roots and _inside_any(local_directory, roots)),
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

    # -- actions ----------------------------------------------------------------------
    #
    # Each takes one hash or a list of them and returns [ActionResult] in the order given
    # (a hash given twice counts once): ok, or the reason in words.  A malformed hash is
    # refused without asking rtorrent.  Every value (label, directory, priority) travels
    # as an XML-RPC parameter, never inside a command.

    def names(self, hashes):
        """{hash: name, or None when rtorrent has no such torrent} in one round trip (what
        a confirmation page shows)."""
        order = [h.upper() for h in _unique(hashes) if INFO_HASH.match(h)]
        answer = self.multicall([(commands.TORRENT['name'], [h]) for h in order])
        return {h: (None if isinstance(name, Fault) else name) for h, name in zip(order, answer)}

    ACTIONS = tuple(commands.ACTIONS)

    def act(self, action, hashes):
        """One of ACTIONS (start, resume, stop, pause, close, recheck, announce, erase) on
        every hash, in one round trip.  The module docstring says what each leaves."""
        if action not in commands.ACTIONS:
            raise ValueError('unknown action %r (known: %s)' % (action, ', '.join(commands.ACTIONS)))
        return self._run(hashes, lambda h: [(c, [h]) for c in commands.ACTIONS[action]])

    def set_label(self, hashes, label):
        """d.custom1 of every hash; '' removes the label.  Any text goes, verbatim."""
        if not isinstance(label, str):
            raise ValueError('a label is text, not %r' % (label,))
        return self._run(hashes, lambda h: [(commands.SETTERS['label'], [h, label])])

    def set_priority(self, hashes, priority):
        """Torrent priority: 0 off, 1 low, 2 normal, 3 high (rtorrent takes other numbers
        and stores something else: they are refused here)."""
        if priority not in PRIORITIES or isinstance(priority, bool):
            raise ValueError('a priority is one of %s, not %r' % (PRIORITIES, priority))
        return self._run(hashes, lambda h: [(commands.SETTERS['priority'], [h, priority]),
                                            (commands.SETTERS['update_priorities'], [h])])

    def set_directory(self, hashes, directory):
        """Where a torrent's data goes: the folder that holds its file or (multi-file) its
        folder, as rtorrent sees it.  Only for a torrent that is stopped and closed (0.9.8
        takes d.directory.set on an open torrent, closes it and leaves it unable to start);
        refused otherwise with the reason.  Two round trips: the states, then the change."""
        if not isinstance(directory, str) or not directory.startswith('/') or '\0' in directory:
            raise ValueError('a download directory is an absolute path, not %r' % (directory,))
        fields = ('started', 'open', 'active', 'hashing')
        branch, condition = commands.ROW[:2]
        states = {}
        results = self._run(hashes, lambda h: [(branch, [h, condition, commands.packed(fields), ''])],
                            keep=states)
        allowed = []
        for result in results:
            if result.ok:
                row = self._unpack(states[result.hash], fields, [result.hash])[0]
                busy = [word for field, word in (('started', 'started'), ('hashing', 'checking'),
                                                 ('open', 'open')) if row[field]]
                if busy:
                    result.ok = False
                    result.reason = ('%s is %s: stop and close it before changing its directory'
                                     % (result.hash, ' and '.join(busy)))
                else:
                    allowed.append(result.hash)
        setter = commands.SETTERS['directory']
        done = {r.hash: r for r in self._run(allowed, lambda h: [(setter, [h, directory])])} if allowed else {}
        return [done.get(r.hash, r) for r in results]

    def set_file_priorities(self, info_hash, priorities):
        """{file index: priority (0 off, 1 normal, 2 high)} for one torrent, then
        d.update_priorities so they take effect; one ActionResult.  A folder or a selection
        is the list of its file indexes (Folder.indexes)."""
        if not priorities or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                     and p in FILE_PRIORITIES and not isinstance(p, bool)
                                     for i, p in dict(priorities).items()):
            raise ValueError('file priorities are {file index: one of %s}, not %r' % (FILE_PRIORITIES, priorities))
        setter = commands.SETTERS['file_priority']
        return self._run([info_hash], lambda h: [(setter, ['%s:f%d' % (h, i), p]) for i, p in sorted(priorities.items())]
                         + [(commands.SETTERS['update_priorities'], [h])])[0]

    def set_tracker_enabled(self, info_hash, indexes, enabled):
        """Enable or disable the trackers at these indexes (Tracker.index) of one torrent."""
        if isinstance(indexes, int):
            indexes = [indexes]
        if not indexes or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes):
            raise ValueError('tracker indexes are whole numbers, not %r' % (indexes,))
        setter = commands.SETTERS['tracker_enabled']
        return self._run([info_hash], lambda h: [(setter, ['%s:t%d' % (h, i), int(bool(enabled))])
                                                 for i in indexes])[0]

    def erase(self, hashes, delete_data=False):
        """Remove torrents from rtorrent (d.stop, d.close, d.erase: files closed first), and
        with delete_data their data too, by lib.erase.delete_files: only their own files,
        only inside the target's download roots, never through a symlink.

        With delete_data, a first round trip reads each torrent's folder and files; a
        torrent whose data pyroTorrent cannot delete (no path mapping, outside every
        download root) is refused and stays in rtorrent.  Then one round trip erases the
        others, and only then their files are deleted (nothing writes to them any more).
        Each ok ActionResult of a delete carries the EraseReport in .erased_data."""
        if not delete_data:
            return self.act('erase', hashes)
        roots = self.paths.local_roots()
        if not roots:
            why = ('pyroTorrent cannot see its disk (give the target a path_map)' if not self.paths.visible
                   else 'the target declares no download_roots')
            return [ActionResult(h, False, "data of rTorrent '%s' cannot be deleted: %s" % (self.name, why))
                    for h in _unique(hashes)]
        fields = {}
        get_files = commands.MULTICALL['files'], commands.FILE['path'] + '='
        first = self._run(hashes, lambda h: [(commands.TORRENT['directory'], [h]),
                                             (commands.TORRENT['multi_file'], [h]),
                                             (get_files[0], [h, '', get_files[1]])], keep=fields)
        plans = {}
        for result in first:
            if not result.ok:
                continue
            directory, multi, files = fields[result.hash]
            local = self.paths.to_local(directory)
            if not local or not _inside_any(local, roots):
                result.ok = False
                result.reason = ('%s is in %s, outside the download roots (%s): its data is not '
                                 'deleted and it stays in rTorrent' % (result.hash, directory,
                                                                      ', '.join(self.paths.download_roots)))
                continue
            plans[result.hash] = (local, [f[0] for f in files], bool(multi))
        erased = {r.hash: r for r in self.act('erase', list(plans))} if plans else {}
        results = []
        for result in first:
            if result.hash in erased:
                result = erased[result.hash]
                if result.ok:
                    local, files, multi = plans[result.hash]
                    result.erased_data = delete_files(local, files, roots, own_folder=multi)
                    if not result.erased_data.ok:
                        result.reason = '; '.join('%s: %s' % s for s in result.erased_data.skipped)
            results.append(result)
        return results

    def _run(self, hashes, calls_for, keep=None):
        """Send calls_for(hash) for every well-formed hash in one multicall; ActionResults
        in the order given.  keep: a dict that gets {hash: [answer of each call]}."""
        order = _unique(hashes)
        results, calls, spans = {}, [], []
        for h in order:
            if not INFO_HASH.match(h):
                results[h] = ActionResult(h, False, "'%s' is not a torrent hash (40 hexadecimal digits)" % h)
                continue
            mine = calls_for(h)
            spans.append((h, len(calls), len(mine)))
            calls.extend(mine)
        answer = self.multicall(calls)
        for h, start, count in spans:
            slots = answer[start:start + count]
            fault = next((s for s in slots if isinstance(s, Fault)), None)
            if fault is None:
                results[h] = ActionResult(h, True)
            elif 'info-hash' in (fault.text or ''):
                results[h] = ActionResult(h, False, "rTorrent '%s' has no torrent with hash %s" % (self.name, h))
            else:
                command, params = calls[start + slots.index(fault)]
                results[h] = ActionResult(h, False, '%s refused %s: %s (fault %s)'   # 'HASH:f9': which file
                                          % (command, params[0], fault.text, fault.code))
            if keep is not None:
                keep[h] = slots
        return [results[h] for h in order]
    # -- adding torrents ----------------------------------------------------------------

    def add_torrents(self, items, options):
        """Add a batch of lib.metafile.Metafile / Magnet items (or exceptions, refused as they
        are) with one AddOptions; returns [AddResult], one per item, in order.

        Round trips, however many items: one asks d.name of every info-hash (a name: it is
        already there, 'present', left alone) and how large a request this rTorrent takes;
        one system.multicall sends every load (split only when the batch is larger than one
        request may be); one reads back the name, directory, label, priority and state of
        each (see _read_back).  A load that rtorrent silently dropped (load.raw* answers 0
        regardless, e.g. for a name holding "/") is 'refused: rTorrent did not accept it'.
        The options ride along as load's own extra commands (commands.ON_LOAD), so no torrent
        is ever listed without them; if the daemon's own configuration changes them right
        after, the result is 'added' with a note that says so (see _changed).

        ValueError, before anything is sent, for options rtorrent cannot be given safely
        (see commands.argument)."""
        option_commands = self._option_commands(options)
        results = [None] * len(items)
        todo, first = [], {}
        for i, item in enumerate(items):
            if isinstance(item, BaseException):
                results[i] = AddResult('refused', source=getattr(item, 'source', '') or '',
                                       reason=str(item))
            elif item.info_hash in first:
                results[i] = AddResult('refused', item.source, item.info_hash, item.name or None,
                                       reason='the same torrent as item %d of this batch'
                                       % (first[item.info_hash] + 1))
            else:
                first[item.info_hash] = i
                todo.append((i, item))
        if not todo:
            return results

        # Round trip 1: what is there already, and the request size this rTorrent takes.
        answer = self.multicall([(commands.REQUEST_LIMIT, [])] +
                                [(commands.TORRENT['name'], [item.info_hash]) for _, item in todo])
        limit = SCGI_BODY_LIMIT
        if isinstance(answer[0], int) and 0 < answer[0] < limit:
            limit = answer[0]
        loads = []
        for (i, item), name in zip(todo, answer[1:]):
            if not isinstance(name, Fault):
                results[i] = AddResult('present', item.source, item.info_hash, name)
                continue
            payload = xmlrpc.Binary(item.raw) if item.kind == 'metafile' else item.uri
            call = (commands.LOAD[item.kind, options.start], ['', payload] + option_commands)
            size = len(multicall_body([call]))
            if size > limit:
                results[i] = AddResult('refused', item.source, item.info_hash, item.name or None, reason=(
                    'as an XML-RPC request it is %s bytes, and rTorrent \'%s\' takes at most %s '
                    'bytes in one request (network.xmlrpc.size_limit, and 2,097,152 over SCGI)'
                    % ('{:,}'.format(size), self.name, '{:,}'.format(limit))))
                continue
            loads.append((i, item, call))
        if not loads:
            return results

        # Round trip 2: every load.  Round trip 3: what each made (see _read_back).
        answer = self.multicall([call for _, _, call in loads], limit=limit)
        faults = {item.info_hash: slot.text for (_, item, _), slot in zip(loads, answer)
                  if isinstance(slot, Fault)}
        answer = self._read_back([item.info_hash for _, item, _ in loads if item.info_hash not in faults])
        for i, item, _ in loads:
            fields = answer.get(item.info_hash)
            known = dict(source=item.source, info_hash=item.info_hash)
            if item.info_hash in faults:
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='rTorrent refused it: %s' % faults[item.info_hash], **known)
            elif fields is None:
                hint = (' (a magnet link without trackers needs DHT, which may be off)'
                        if item.kind == 'magnet' and not item.trackers else '')
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='rTorrent did not accept it' + hint, **known)
            else:
                results[i] = AddResult('added', name=item.name or fields['name'], size=item.size,
                                       note=self._changed(fields, options, item), **known)
        return results

    def _read_back(self, hashes):
        """{info_hash: {field: value} of commands.LOADED, or None if rtorrent lacks it}.

        rtorrent 0.9.8 answers load.raw* at once and creates the torrent a moment later in
        its main thread, while its SCGI thread may already answer the next request: measured
        here, 1 batch in 100 was not listed yet on the very next request, and was 1.6 ms
        later.  So a hash not there yet is asked again after growing pauses (READ_BACK_PAUSES,
        1.5 s in all) before it counts as dropped: one round trip unless that race happens,
        1.5 s more for a torrent rtorrent really dropped."""
        found, pending = {}, list(hashes)
        if not pending:
            return found
        for pause in (0,) + READ_BACK_PAUSES:
            if pause:
                time.sleep(pause)
            answer = self.multicall([(command, [info_hash]) for info_hash in pending
                                     for command in commands.LOADED.values()])
            width, missing = len(commands.LOADED), []
            for n, info_hash in enumerate(pending):
                values = answer[n * width:(n + 1) * width]
                if isinstance(values[0], Fault):
                    missing.append(info_hash)
                else:
                    found[info_hash] = dict(zip(commands.LOADED, values))
            pending = missing
            if not pending:
                break
        found.update(dict.fromkeys(pending))
        return found

    @staticmethod
    def _option_commands(options):
        """The load's extra commands for these options; ValueError for one that cannot be
        carried (commands.argument says which)."""
        wanted = [('label', options.label)] if options.label else []
        if options.directory is not None:
            wanted.append(('directory', options.directory))
        out = []
        for option, value in wanted:
            try:
                out.append('%s=%s' % (commands.ON_LOAD[option], commands.argument(value)))
            except ValueError as exc:
                raise ValueError('the %s %s' % ('download directory' if option == 'directory' else option,
                                                exc)) from None
        out.append('%s=%d' % (commands.ON_LOAD['priority'], options.priority))
        return out

    @staticmethod
    def _changed(fields, options, item):
        """None if the read-back shows every option asked for; else what rtorrent's own
        configuration made of them, in words.  The options were applied with the load, but
        an rc file may change them right after (measured: a method.set_key on
        event.download.inserted_new setting d.custom1 and d.directory wins over ours).
        The daemon's owner decided that, so the torrent stays; the user is told."""
        changes = []
        if options.label and fields['label'] != options.label:
            changes.append('the label to %r' % (fields['label'],))
        if options.directory is not None and not isinstance(fields['directory'], Fault):
            want = options.directory.rstrip('/') or '/'
            got = fields['directory'].rstrip('/') or '/'
            multi = item.kind == 'metafile' and len(item.files) > 1
            if got != want and not (multi and got == want.rstrip('/') + '/' + item.name):
                changes.append('the download directory to %r' % (fields['directory'],))
        if fields['priority'] != options.priority:
            changes.append('the priority to %s' % (PRIORITIES.get(fields['priority'], fields['priority']),))
        if fields['started'] != int(options.start):
            changes.append('it to %s' % ('started' if fields['started'] else 'stopped'))
        if not changes:
            return None
        return "rTorrent's own configuration changed %s" % ', '.join(changes)

    # -- shaping answers --------------------------------------------------------------

    @staticmethod
    def _hash(info_hash):
        if not isinstance(info_hash, str) or not INFO_HASH.match(info_hash):
            raise NotFound("'%s' is not a torrent hash (40 hexadecimal digits)" % info_hash)
        return info_hash.upper()

    @staticmethod
    def _header_calls():
        return [(command, []) for command in commands.GLOBAL.values()]

    def _checked(self, values):
        for value in values:
            if isinstance(value, Fault):
                raise CommandFault(self.name, self.url, '%s (fault %s)' % (value.text, value.code))
        return values

    def _header(self, values):
        data = dict(zip(commands.GLOBAL, values))
        try:
            return Header(**data)
        except TypeError as exc:
            raise BadAnswer(self.name, self.url, 'header figures: %s' % exc) from None

    def _unpack(self, texts, fields, hashes=None):
        """Rows {field: value} from the texts a commands.packed(fields) command made: the
        numbers as ints, the TEXT_FIELDS as text.  One loop with no call a row: it runs
        10,000 times for a list page.  `hashes` name the rows in an error."""
        count = len(fields)
        numeric = [(i, f) for i, f in enumerate(fields) if f not in commands.TEXT_FIELDS]
        rows = []
        try:
            for text in texts:
                parts = text.split(':', count - 1)
                if len(parts) != count:
                    raise ValueError
                row = dict(zip(fields, parts))
                for i, field in numeric:
                    row[field] = int(parts[i])
                rows.append(row)
        except (ValueError, TypeError, AttributeError):
            which = hashes[len(rows)] if hashes else 'a torrent of the list'
            raise BadAnswer(self.name, self.url, 'the fields of %s came back as %r, not %s'
                            % (which, texts[len(rows)], ':'.join(fields))) from None
        return rows

    def _torrent(self, row):
        """A Torrent from its fields (seeders only on the torrent page); None if rtorrent has
        no torrent with that hash."""
        if isinstance(row['hash'], Fault):
            return None
        faults = [k for k, v in row.items() if isinstance(v, Fault)]
        if faults:
            raise CommandFault(self.name, self.url, '%s refused for %s: %s'
                               % (commands.TORRENT[faults[0]], row['hash'], row[faults[0]].text))
        state = _state(row)
        return Torrent(
            hash=row['hash'], name=row['name'], size=row['size'], completed=row['completed'],
            down_rate=row['down_rate'], up_rate=row['up_rate'], ratio=row['ratio'] / 1000.0,
            peers=row['peers'], seeders=row.get('seeders'), label=row['label'], added=row['added'],
            message=row['message'], state=state,
            eta=eta(row['size'] - row['completed'], row['down_rate'], state),
        )


def _check_allowed(methods):
    """Only commands from model/commands.py's tables leave pyroTorrent: a name built from
    anything else (a user's text above all) is a bug, stopped here."""
    for method in methods:
        if method not in commands.ALLOWED:
            raise ValueError('%r is not a command in model/commands.py' % (method,))


def _unique(hashes):
    """Hashes once each, in the order given; well-formed ones upper-cased."""
    hashes = [hashes] if isinstance(hashes, str) else list(hashes)
    return list(dict.fromkeys(h.upper() if isinstance(h, str) and INFO_HASH.match(h) else str(h)
                              for h in hashes))


def _inside_any(path, roots):
    path = path.rstrip('/') or '/'
    return any(path == root or path.startswith(root.rstrip('/') + '/') for root in roots)
