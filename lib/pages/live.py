"""The live refresh of the lists (static/live.js).  A refresh says what its page shows
(X-Live-Showing: the view's size, the count, the views, the rows' hashes); sorted by a column
no transfer reorders, it is then one round trip for the header and those rows
(torrent_rows), shared by every viewer asking within LIVE_KEEP of a refresh interval; else
the whole list, shared alike.
"""
import dataclasses
import logging
import re
from urllib.parse import parse_qs, urlencode

from model.clients.types import TorrentList


log = logging.getLogger('pyrotorrent')


# Live pages (static/live.js).  A refresh says what its page shows (X-Live-Showing: the view's
# size, the count, the views, the rows' hashes); sorted by a column no transfer reorders, it
# is then one round trip for the header and those rows (torrent_rows), shared by every
# viewer asking within LIVE_KEEP of a refresh interval; else the whole list, shared alike.
STABLE_SORTS = frozenset(('name', 'label', 'size', 'added'))
LIVE_KEEP = 0.9             # of REFRESH_SECONDS: an answer serves every viewer asking within it
LIVE_FULL_SECONDS = 30      # the whole list (label counts, names, new torrents) at least this often
LIVE_MAX_ROWS = 100         # rows a page says it shows; more would not fit a request header
IDLE_ROWS = 5000            # stopped rows kept for refreshes a process (lib.idle_rows): 0.5 KB each, 2.4 MB


LIVE_HEADER = 'X-Live-Showing'


def parts_showing(request):
    """{(target, view): {'size', 'total', 'views', 'hashes'}} from a refresh's X-Live-Showing
    header (Lists.showing_text of each part, space-separated); what cannot be read is left
    out, and that part's refresh fetches its whole list."""
    showing = {}
    for part in request.headers.get(LIVE_HEADER, '').split(' ')[:20]:
        fields = parse_qs(part, max_num_fields=200)
        try:
            (target,), (view,), (size,), (total,), (hashes,) = (fields[k] for k in ('target', 'view', 'size', 'total', 'h'))
            size, total = int(size), int(total)
        except (KeyError, ValueError):
            continue
        if len(hashes) % 40 or len(hashes) > 40 * LIVE_MAX_ROWS or re.search('[^0-9A-F]', hashes):
            continue
        showing[(target, view)] = {'size': size, 'total': total, 'views': fields.get('v', []),
                                 'hashes': [hashes[i:i + 40] for i in range(0, len(hashes), 40)],
                                 'added': _added_range(fields.get('a', [''])[0])}
    return showing


def _added_range(text):
    """(oldest, newest) unix times from a showing part's 'a' ('OLDEST:NEWEST'), else None."""
    match = re.fullmatch('([0-9]{1,18}):([0-9]{1,18})', text)
    return (int(match.group(1)), int(match.group(2))) if match else None


class Live:
    """The live refresh of a list (static/live.js): what a refresh shows is asked again in as
    few round trips as can be, shared by every viewer asking within LIVE_KEEP of an interval."""

    def listing(self, request, name, query, showing=None):
        """The TorrentList a page shows.  A page load asks afresh; a refresh (live.js) gets an
        answer shared with every viewer of the same query within LIVE_KEEP of an interval:
        one round trip for the rows it shows when nothing can have moved them (`showing`: what
        it shows), else the whole list, and the whole list at least every LIVE_FULL_SECONDS."""
        backend, shared, keep = self.backend(name), self.app.single_flight, self.app.live_keep
        key = (name, self.app.changes.get(name, 0), dataclasses.astuple(query))   # a POST since: asked afresh
        # a stamp kept LIVE_FULL_SECONDS from a whole list: a refresh that finds none (age 0) is one
        _, since_full = shared.get(('full due',) + key, lambda: True, keep=LIVE_FULL_SECONDS)
        if not self.app.is_refresh(request):    # loads at the same time share one (kept no longer)
            listing, age = shared.get(('load',) + key, lambda: backend.torrent_list(query))
            return self.looked_at(name, listing) if age == 0 else listing
        if showing and query.sort in STABLE_SORTS and not query.state and since_full > 0:   # a state filter: may change
            listing = self.refreshed_rows(backend, query, showing)
            if listing is not None:
                return listing
        listing, age = shared.get(('list',) + key, lambda: backend.torrent_list(query), keep=keep)
        return self.looked_at(name, listing) if age == 0 else listing

    def looked_at(self, name, listing):
        """A list asked of the client: its stopped rows are kept for refreshes (IdleRows);
        a page of more than LIVE_MAX_ROWS refreshes in full, so none of its rows."""
        if len(listing.torrents) <= LIVE_MAX_ROWS:
            self.app.idle_rows.seen(name, listing.torrents, listing.view_sizes)
        return listing

    def refreshed_rows(self, backend, query, showing):
        """The listing of the rows a page shows, from one shared torrent_rows round trip
        (two when a row kept idle was started or checked since); None when its order or
        membership may have changed (a view's size, the views, a row gone)."""
        hashes, views = [h.upper() for h in showing['hashes']], showing['views']
        # newest first, the rows are the deepest in rTorrent's list (it keeps load order), where
        # each hash lookup scans longest: one pass over the view costs it less (oldest first, more)
        if query.sort == 'added' and query.reverse and showing['added'] and query.tracker is None:   # its rows lack trackers
            try:
                return self.refreshed_added(backend, query, showing)
            except NotImplementedError:     # a client without it: the rows by hash
                pass
        idle, sizes_then = self.app.idle_rows.usable(backend.name, hashes, backend.wake_views)
        try:
            header, torrents, sizes = self.rows_of(backend, hashes, views, idle, sizes_then)
        except NotImplementedError:         # a client without it: the whole list
            return None
        if sizes.get(query.view) != showing['size'] or header.views != views or None in torrents.values():
            return None
        filtered = query.text or query.label is not None or query.tracker is not None or query.state
        return TorrentList(header=header, query=query, torrents=[torrents[h] for h in hashes],
                           total=showing['total'] if filtered else showing['size'], view_total=showing['size'],
                           labels=None, view_sizes=sizes)

    def rows_of(self, backend, hashes, views, idle, sizes_then):
        """(header, {hash: Torrent or None}, sizes) of these rows, shared; those of `idle`
        (IdleRows) from what it kept, unless the client says they woke or a view's size
        changed since the look they came from (sizes_then): those are asked again."""
        shared, keep = self.app.single_flight, self.app.live_keep
        ask = (backend.name, 'rows', tuple(views))
        (header, torrents, sizes, woke), age = shared.get(
            ask + (tuple(hashes), tuple(sorted(idle))), lambda: backend.torrent_rows(hashes, views, idle), keep=keep)
        if idle and sizes != sizes_then:
            woke = set(idle)
        if woke:
            self.app.idle_rows.forget(backend.name, woke)
            woke = sorted(woke)
            (_, again, _, _), _ = shared.get(ask + (tuple(woke), ()), lambda: backend.torrent_rows(woke, views), keep=keep)
            torrents = dict(torrents, **again)
        if age == 0:
            self.app.idle_rows.seen(backend.name, [t for t in torrents.values() if t is not None], sizes)
        # a kept row shows no name or label (a refresh never asks them: they may have changed)
        kept = {h: dataclasses.replace(t, name=None, label=None) for h, t in idle.items() if h not in torrents}
        return header, dict(torrents, **kept), sizes

    def refreshed_added(self, backend, query, showing):
        """Sorted by date added, the rows a page shows are found again in ONE shared pass
        over the view (torrent_rows_added): every torrent added since the page's oldest row
        (newest first; until its newest, oldest first), which holds the page and all that
        ranks before it, a torrent added since included.  None when the page would change
        (a torrent added or gone, a view's size): the whole list then, counts and all."""
        oldest, newest = showing['added']
        bound, views = (oldest if query.reverse else newest), showing['views']
        (header, torrents, sizes), _ = self.app.single_flight.get(
            (backend.name, 'added', query.view, bound, query.reverse, tuple(views)),
            lambda: backend.torrent_rows_added(query.view, bound, query.reverse, views), keep=self.app.live_keep)
        if sizes.get(query.view) != showing['size'] or header.views != views:
            return None
        text = query.text.casefold()
        rows = [t for t in torrents if (not text or text in t.name.casefold())
                and (query.label is None or t.label == query.label)]
        rows.sort(key=lambda t: t.name.casefold())          # as torrent_list orders them
        rows.sort(key=lambda t: t.added, reverse=query.reverse)
        first = (query.page - 1) * query.per_page
        page = rows[first:first + query.per_page]
        if [t.hash for t in page] != showing['hashes']:
            return None
        filtered = query.text or query.label is not None
        return TorrentList(header=header, query=query, torrents=page,
                           total=showing['total'] if filtered else showing['size'], view_total=showing['size'],
                           labels=None, view_sizes=sizes)

    @staticmethod
    def showing_text(name, listing):
        """What a list part shows, for live.js to send back with its refreshes ('' for more
        than LIVE_MAX_ROWS rows: those refresh in full)."""
        if len(listing.torrents) > LIVE_MAX_ROWS:
            return ''
        added = [t.added for t in listing.torrents if isinstance(t.added, int)]
        return urlencode([('target', name), ('view', listing.query.view), ('size', listing.view_total),
                          ('total', listing.total)] + [('v', v) for v in listing.header.views]
                         + [('h', ''.join(t.hash for t in listing.torrents))]
                         + ([('a', '%d:%d' % (min(added), max(added)))] if added else []))
