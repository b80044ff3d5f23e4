"""The rTorrent backend: batched XML-RPC over SCGI or HTTP.

A list page costs two round trips per target: the first fetches the header figures, the
view list and, for every torrent of the view, only the keys the page sorts and filters
by; the second fetches the rows of the one page shown, one command a row (commands.ROW),
and the size of every view.  What the daemon offers (its method list) is asked once and
kept in a Beaker cache.
"""
import collections
import re

from beaker.cache import CacheManager

from lib import xmlrpc
from lib.transport import TransportError, TransportTimeout, redacted, transport_for
from model import commands
from model.backend import Backend, Header, Torrent, TorrentList, eta, torrent_state, STATES
from model.errors import BadAnswer, CommandFault, NotFound, TimedOut, Unreachable, Unsupported

INFO_HASH = re.compile(r'^[0-9A-Fa-f]{40}$')
MAX_REQUEST = 500_000   # rtorrent's default network.xmlrpc.size_limit is 524,288 bytes: split below it

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
        self.url = redacted(url)        # what pages and errors show: never a password
        self.cache_seconds = cache_seconds

    # -- round trips ------------------------------------------------------------------

    def call(self, method, *params):
        """One command, one round trip."""
        _check_allowed((method,))
        return self._send(xmlrpc.dumps(method, params))

    def multicall(self, calls):
        """[(method, params), ...] in one system.multicall; a refused command's slot holds a
        Fault instead of a value.  Batches past rtorrent's request cap are split."""
        if not calls:
            return []
        _check_allowed(m for m, _ in calls)
        body = xmlrpc.dumps(commands.SYSTEM['multicall'],
                            [[{'methodName': m, 'params': list(p)} for m, p in calls]])
        if len(body) > MAX_REQUEST and len(calls) > 1:
            half = len(calls) // 2
            return self.multicall(calls[:half]) + self.multicall(calls[half:])
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
        if not INFO_HASH.match(info_hash or ''):
            raise NotFound("'%s' is not a torrent hash (40 hexadecimal digits)" % info_hash)
        info_hash = info_hash.upper()
        field_names = tuple(commands.TORRENT)
        answer = self.multicall(self._header_calls() + [(commands.TORRENT[f], [info_hash]) for f in field_names])
        n = len(commands.GLOBAL)
        header = self._header(self._checked(answer[:n]))
        torrent = self._torrent(dict(zip(field_names, answer[n:])))
        if torrent is None:
            raise NotFound("rTorrent '%s' has no torrent with hash %s" % (self.name, info_hash))
        return header, torrent

    # -- shaping answers --------------------------------------------------------------

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
