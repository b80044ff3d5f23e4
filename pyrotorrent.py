#!/usr/bin/env python3
"""pyroTorrent: a web interface to rTorrent.

make_app(config) returns a plain WSGI callable; run as a program it serves FastCGI on
standard input (what spawn-fcgi hands it), on a socket, or plain HTTP for development.

The pages come in areas, one class each: Accounts, Lists, Torrents, Downloads, Adding,
Settings.
Each route sits beside its handler with the least role it needs (`expose(rule, role)`);
lib/web.py is the core every area shares (dispatch, who may pass, pages, JSON, errors).
`python pyrotorrent.py routes` prints the whole route table.
"""
import argparse
import base64
import binascii
import contextvars
import dataclasses
import datetime
import io
import ipaddress
import logging
import os
import re
import stat
import sys
import time
import typing
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:            # spawn-fcgi may start us from any folder
    sys.path.insert(0, HERE)

from werkzeug.exceptions import BadRequest, Conflict, HTTPException, ServiceUnavailable
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.wrappers import Response
from werkzeug.datastructures import MultiDict
from werkzeug.utils import redirect

from lib import auth, csvsafe, download
from lib import config as configuration
from lib import metafile, paths, sessions, svgchart
from lib.format import FILTERS, size as format_size
from lib.idle_rows import IdleRows
from lib.paths import PathNotFound
from lib.shared import Shared
from lib.store import Store, StoreError, store_exists
from lib.transport import redacted
from lib.web import GET, POST, PUBLIC, App, Area, expose, forwarded, route_map, serve_static, unguarded  # noqa: F401
from lib.wsgi import under_base_url
from model import UnknownClient, backend_for
from model import events, rules, schedule, settings, stats
from model.backend import (ACTION_HELP, COLUMNS, DESCENDING_FIRST, FILTER_STATES, MAX_LABEL, OVERVIEW_STATES, STATES,
                           AddOptions, ListQuery, TorrentList, check_text, is_idle)
from model.errors import BackendError, NotFound, TimedOut, Unreachable

# What an action's message says it did ('Stopped 3 torrents.').
DONE = {'start': 'Started', 'resume': 'Resumed', 'stop': 'Stopped', 'pause': 'Paused',
        'close': 'Closed', 'recheck': 'Started a hash check of', 'announce': 'Announced',
        'label': 'Set the label of', 'priority': 'Set the priority of',
        'directory': 'Set the download directory of', 'erase': 'Removed', 'group': 'Set the speed group of',
        'start_now': 'Started (ahead of the queue)', 'queue_top': 'Moved to the front of the queue',
        'queue_up': 'Moved up the queue', 'queue_down': 'Moved down the queue',
        'queue_bottom': 'Moved to the end of the queue', 'unlabel': 'Removed the label of'}
VALUE_ACTIONS = ('label', 'priority', 'directory', 'group')   # actions that take a value from the form
# The torrent page's buttons: those that fit its state, in this order; the ALWAYS ones whatever it is.
ACTION_ORDER = ('start', 'resume', 'start_now', 'pause', 'stop', 'close', 'recheck', 'announce', 'erase')
ALWAYS = ('recheck', 'announce', 'erase')
FITTING = {'downloading': ('pause', 'stop', 'close'), 'seeding': ('pause', 'stop', 'close'),
           'paused': ('resume', 'stop', 'close'), 'checking': ('stop', 'close'), 'queued': ('start_now', 'stop'),
           'stopped': ('start', 'start_now', 'close'), 'complete': ('start', 'start_now', 'close')}


def fitting_actions(state, actions, closed):
    """The actions of `actions` (a client's) that make sense for a torrent in this state;
    `closed`: its files are closed already (no Close)."""
    wanted = FITTING.get(state, ACTION_ORDER)
    if 'resume' in wanted and 'resume' not in actions:
        wanted += ('start',)
    return [a for a in ACTION_ORDER if a in actions and (a in wanted or a in ALWAYS)
            and not (a == 'close' and closed)]


# rTorrent's own view names as people say them; 'default' and 'name' hold every torrent, as
# 'main' does, so the views menu leaves them out (a client's header.view_titles comes first).
VIEW_TITLES = {'main': 'all', 'hashing': 'checking', 'leeching': 'downloading'}     # lower case, as Transmission's
DUPLICATE_VIEWS = ('default', 'name')

# What the list's bulk bar says each choice will do (ACTION_HELP for the client's own actions).
BULK_HELP = dict(ACTION_HELP, label='give them this label (replacing theirs)', unlabel='take their labels away',
                 priority='set their priority', erase='asks first; their data stays on disk unless you choose otherwise',
                 group='move them to this speed group; active ones are stopped and started again around it')

log = logging.getLogger('pyrotorrent')
ENCODED_SEPARATOR = re.compile('%(2f|00)', re.I)   # a backslash is a plain character here
ANY_LABEL = '*'
DOWN_SECONDS = 10           # a target found down is not asked again for the front page before this
MAX_PER_PAGE = 1000
# Live pages (static/live.js).  A refresh says what its page shows (X-Live-Known: the view's
# size, the count, the views, the rows' hashes); sorted by a column no transfer reorders, it
# is then one round trip for the header and those rows (torrent_rows), shared by every
# viewer asking within LIVE_KEEP of a refresh interval; else the whole list, shared alike.
STABLE_SORTS = frozenset(('name', 'label', 'size', 'added'))
LIVE_KEEP = 0.9             # of REFRESH_SECONDS: an answer serves every viewer asking within it
LIVE_FULL_SECONDS = 30      # the whole list (label counts, names, new torrents) at least this often
LIVE_MAX_ROWS = 100         # rows a page says it shows; more would not fit a request header
IDLE_ROWS = 5000            # stopped rows kept for refreshes a process (lib.idle_rows): 0.5 KB each, 2.4 MB
ACTIVE_ROWS = 10            # the front page's "active now" rows a target, fastest first


class Pages(Area):
    """What every area of pyroTorrent's pages uses: its targets' backends, and the core's
    rendering, JSON, messages and links."""

    def backend(self, name):
        return self.app.backends[name]      # authorize() has checked the name

    def render(self, template, request, status=200, **context):
        return self.app.render(template, request, status=status, **context)

    def json(self, data, status=200):
        return self.app.json(data, status)

    def tell(self, request, text, kind='done'):
        self.app.tell(request, text, kind)

    def url_for(self, request, endpoint, **values):
        return self.app.url_for(request, endpoint, **values)

    def target_page(self, request, template, name, backend=None, **context):
        """A page about one target: its name, URL and what its client can do come along."""
        backend = backend or self.backend(name)
        if 'glance' not in context:         # (the stats page brings its own)
            context['glance'] = self.app.stats_glance([name]).get(name)
        context.setdefault('chart_svg', _chart_svg)
        return self.render(template, request, target=name, url=backend.url, caps=backend.CAPABILITIES,
                           client=backend.client, speed_groups=self.app.speed_groups(name), **context)

    def back_to(self, request, values, name):
        """Where a form's POST returns: its 'next' (a path of this site only), else the list."""
        if values.get('next'):
            return _local_path(values.get('next'), request.script_root)
        return self.url_for(request, 'target', name=name)


class Accounts(Pages):
    """Logging in and out; who the API's caller is."""

    @expose('/login', PUBLIC, GET + POST)
    def on_login(self, request):
        next_url = _local_path(request.values.get('next'), request.script_root)
        config, throttle = self.app.config, self.app.throttle
        if not config.users:
            return redirect(next_url, 303)
        if request.method != 'POST':
            session = request.environ['beaker.session']
            return self.render('login.html', request, next_url=next_url,
                               ended=hasattr(session, 'ended') and session.ended())
        name, password = request.form.get('name', ''), request.form.get('password', '')
        keys = throttle.keys(name, request.remote_addr)
        wait = throttle.begin(keys)     # counted as a failure before the slow hash runs
        if wait > 0:
            response = self.render('login.html', request, status=429, next_url=next_url, name=name,
                                   problem='Too many failed logins for this name or from this address: '
                                           'try again in %d s.' % (wait + 0.999))
            response.headers['Retry-After'] = str(int(wait + 0.999))
            return response
        user = auth.check_login(config.users, name, password)
        if user is None:
            return self.render('login.html', request, status=401, next_url=next_url, name=name,
                               problem='That name and password do not match.')
        throttle.succeeded(keys)
        session = request.environ['beaker.session']
        session.invalidate()                # a new id: a session id planted before login is worth nothing
        session['user'], session['stamp'] = user.name, user.stamp()
        session.save()
        return redirect(next_url, 303)

    @expose('/logout', PUBLIC, POST)
    def on_logout(self, request):
        session = request.environ['beaker.session']
        session.delete()                    # the stored session is emptied and the cookie expires
        return redirect(self.url_for(request, 'login' if self.app.config.users else 'index'), 303)

    @expose('/api/session', 'viewer')
    def on_api_session(self, request):
        user = request.user
        return self.json({'user': user.name or None, 'role': user.role,
                          'targets': self.app.visible_targets(user),
                          'csrf_token': auth.csrf_token(request.environ['beaker.session']),
                          'csrf_header': auth.CSRF_HEADER})


class Lists(Pages):
    """The front page, a target's torrent list and views, and what a target is."""

    @expose('/', 'viewer')
    def on_index(self, request):
        """Every target at a glance: those that cannot be asked first, naming the cause; then
        each one's figures, counts by state and what is active now (Backend.overview)."""
        refresh = self.app.is_refresh(request)

        def ask(backend):       # a refresh shares one answer a target with every viewer
            if not refresh:
                return backend.overview(ACTIVE_ROWS)
            return self.app.shared.get((backend.name, 'overview'), lambda: backend.overview(ACTIVE_ROWS),
                                       keep=self.app.live_keep)[0]
        cards = self.app.each_backend(request, ask, key=('front', refresh))
        cards.sort(key=lambda card: not isinstance(card[2], BackendError))     # stable: config order
        return self.render('index.html', request, cards=cards, chart_svg=_chart_svg,
                           glances=self.app.stats_glance([name for name, _, _ in cards]),
                           shown=self.shown_columns(request))

    @expose('/target/<name>/', 'viewer', endpoint='target')
    @expose('/target/<name>/view/<view>/', 'viewer', endpoint='target')
    def on_target(self, request, name, view='main'):
        query = self.list_query(request, view)
        listing = self.listing(request, name, query, known_pages(request).get((name, view)))
        return self.target_page(request, 'target.html', name, listing=listing, action_help=BULK_HELP,
                                request_query=request.query_string.decode('latin-1'),
                                shown=self.shown_columns(request))

    def shown_columns(self, request):
        """The list's columns this user chose (COLUMNS order; the name always), from the
        store for a logged-in user, else from the browser's session."""
        chosen = None
        if request.user.name:
            store = self.app.existing_store()
            try:
                chosen = store.preference(request.user.name, 'columns') if store else None
            except StoreError as exc:
                log.error('%s', exc)
        if chosen is None:
            chosen = request.environ['beaker.session'].get('columns')
        if not isinstance(chosen, list):
            return list(COLUMNS)
        return [c for c in COLUMNS if c == 'name' or c in chosen]

    @expose('/columns', 'viewer', POST)
    def on_columns(self, request):
        """Keep the list columns a user ticked (the name is always shown); back to the list."""
        form = request.form
        chosen = form.getlist('column')
        unknown = [c for c in chosen if c not in COLUMNS]
        back = _local_path(form.get('next'), request.script_root)
        if unknown:
            raise BadRequest('There is no column %r; the list has: %s. Nothing was changed.'
                             % (unknown[0], ', '.join(COLUMNS)))
        chosen = [c for c in COLUMNS if c == 'name' or c in chosen]
        where = 'for this browser session'
        if request.user.name:
            store = self.app.store()
            try:
                if isinstance(store, StoreError):
                    raise store
                store.put_preference(request.user.name, 'columns', chosen)
                where = 'for your account'
            except StoreError as exc:
                where = 'for this browser session only (the store cannot keep it: %s)' % exc
        session = request.environ['beaker.session']
        session['columns'] = chosen
        session.save()
        self.tell(request, 'The list shows %s, kept %s.' % (', '.join(COLUMNS[c] for c in chosen), where))
        return redirect(back, 303)

    def listing(self, request, name, query, known=None):
        """The TorrentList a page shows.  A page load asks afresh; a refresh (live.js) gets an
        answer shared with every viewer of the same query within LIVE_KEEP of an interval:
        one round trip for the rows it shows when nothing can have moved them (`known`: what
        it shows), else the whole list, and the whole list at least every LIVE_FULL_SECONDS."""
        backend, shared, keep = self.backend(name), self.app.shared, self.app.live_keep
        key = (name, dataclasses.astuple(query))
        # a stamp kept LIVE_FULL_SECONDS from a whole list: a refresh that finds none (age 0) is one
        _, since_full = shared.get(('full due',) + key, lambda: True, keep=LIVE_FULL_SECONDS)
        if not self.app.is_refresh(request):    # loads at the same time share one (kept no longer)
            listing, age = shared.get(('load', self.app.changes.get(name, 0)) + key, lambda: backend.torrent_list(query))
            return self.looked_at(name, listing) if age == 0 else listing
        if known and query.sort in STABLE_SORTS and not query.state and since_full > 0:   # a state filter: may change
            listing = self.refreshed_rows(backend, query, known)
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

    def refreshed_rows(self, backend, query, known):
        """The listing of the rows a page shows, from one shared torrent_rows round trip
        (two when a row kept idle was started or checked since); None when its order or
        membership may have changed (a view's size, the views, a row gone)."""
        hashes, views = [h.upper() for h in known['hashes']], known['views']
        # newest first, the rows are the deepest in rTorrent's list (it keeps load order), where
        # each hash lookup scans longest: one pass over the view costs it less (oldest first, more)
        if query.sort == 'added' and query.reverse and known['added'] and query.tracker is None:   # its rows lack trackers
            try:
                return self.refreshed_added(backend, query, known)
            except NotImplementedError:     # a client without it: the rows by hash
                pass
        idle, sizes_then = self.app.idle_rows.usable(backend.name, hashes, backend.wake_views)
        try:
            header, torrents, sizes = self.rows_of(backend, hashes, views, idle, sizes_then)
        except NotImplementedError:         # a client without it: the whole list
            return None
        if sizes.get(query.view) != known['size'] or header.views != views or None in torrents.values():
            return None
        filtered = query.text or query.label is not None or query.tracker is not None or query.state
        return TorrentList(header=header, query=query, torrents=[torrents[h] for h in hashes],
                           total=known['total'] if filtered else known['size'], view_total=known['size'],
                           labels=None, view_sizes=sizes)

    def rows_of(self, backend, hashes, views, idle, sizes_then):
        """(header, {hash: Torrent or None}, sizes) of these rows, shared; those of `idle`
        (IdleRows) from what it kept, unless the client says they woke or a view's size
        changed since the look they came from (sizes_then): those are asked again."""
        shared, keep = self.app.shared, self.app.live_keep
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

    def refreshed_added(self, backend, query, known):
        """Sorted by date added, the rows a page shows are found again in ONE shared pass
        over the view (torrent_rows_added): every torrent added since the page's oldest row
        (newest first; until its newest, oldest first), which holds the page and all that
        ranks before it, a torrent added since included.  None when the page would change
        (a torrent added or gone, a view's size): the whole list then, counts and all."""
        oldest, newest = known['added']
        bound, views = (oldest if query.reverse else newest), known['views']
        (header, torrents, sizes), _ = self.app.shared.get(
            (backend.name, 'added', query.view, bound, query.reverse, tuple(views)),
            lambda: backend.torrent_rows_added(query.view, bound, query.reverse, views), keep=self.app.live_keep)
        if sizes.get(query.view) != known['size'] or header.views != views:
            return None
        text = query.text.casefold()
        rows = [t for t in torrents if (not text or text in t.name.casefold())
                and (query.label is None or t.label == query.label)]
        rows.sort(key=lambda t: t.name.casefold())          # as torrent_list orders them
        rows.sort(key=lambda t: t.added, reverse=query.reverse)
        first = (query.page - 1) * query.per_page
        page = rows[first:first + query.per_page]
        if [t.hash for t in page] != known['hashes']:
            return None
        filtered = query.text or query.label is not None
        return TorrentList(header=header, query=query, torrents=page,
                           total=known['total'] if filtered else known['size'], view_total=known['size'],
                           labels=None, view_sizes=sizes)

    @staticmethod
    def known_text(name, listing):
        """What a list part shows, for live.js to send back with its refreshes ('' for more
        than LIVE_MAX_ROWS rows: those refresh in full)."""
        if len(listing.torrents) > LIVE_MAX_ROWS:
            return ''
        added = [t.added for t in listing.torrents if isinstance(t.added, int)]
        return urlencode([('target', name), ('view', listing.query.view), ('size', listing.view_total),
                          ('total', listing.total)] + [('v', v) for v in listing.header.views]
                         + [('h', ''.join(t.hash for t in listing.torrents))]
                         + ([('a', '%d:%d' % (min(added), max(added)))] if added else []))

    @expose('/api/target/<name>/torrents', 'viewer')
    def on_api_torrents(self, request, name):
        listing = self.backend(name).torrent_list(self.list_query(request, request.args.get('view', 'main')))
        q = listing.query
        return self.json({
            'target': name, 'view': q.view, 'sort': q.sort, 'order': 'desc' if q.reverse else 'asc',
            'text': q.text, 'label': q.label, 'tracker': q.tracker, 'state': q.state, 'page': q.page,
            'per_page': q.per_page,
            'pages': listing.pages, 'total': listing.total, 'view_total': listing.view_total,
            'header': vars(listing.header), 'view_sizes': listing.view_sizes, 'labels': listing.labels,
            'trackers': listing.trackers,
            'torrents': [t.as_dict() for t in listing.torrents],
        })

    @expose('/api/target/<name>', 'viewer')
    def on_api_target(self, request, name):
        """The target's client, its version, and what pyroTorrent can do with it."""
        backend = self.backend(name)
        client_version, library_version = backend.version()
        return self.json({'target': name, 'client': backend.client, 'url': backend.url,
                          'version': client_version, 'library_version': library_version,
                          'capabilities': backend.CAPABILITIES.as_dict(),
                          'can_delete_data': backend.can_delete_data})

    def list_query(self, request, view):
        args = request.args
        sort = args.get('sort', 'name')
        if sort not in COLUMNS:
            raise BadRequest("Cannot sort by '%s'; choose one of: %s" % (sort, ', '.join(COLUMNS)))
        order = args.get('order', 'desc' if sort in DESCENDING_FIRST else 'asc')
        if order not in ('asc', 'desc'):
            raise BadRequest("order must be 'asc' or 'desc', not '%s'" % order)
        page = _whole_number(args, 'page', 1, 1, 10 ** 9)
        per_page = _whole_number(args, 'per_page', self.app.config.PAGE_SIZE, 1, MAX_PER_PAGE)
        label, tracker = args.get('label', ANY_LABEL), args.get('tracker', ANY_LABEL)
        state = args.get('state') or None
        if state is not None and state not in STATES + FILTER_STATES:
            raise BadRequest("No list shows the state '%s'; choose one of: %s"
                             % (state, ', '.join(STATES + FILTER_STATES)))
        for what, text in (('view', view), ('label', label), ('tracker', tracker)):
            if _has_control(text):
                raise BadRequest('A %s name cannot hold control characters (line breaks, tabs, NUL): '
                                 'no %s is named %r' % (what, what, text))
        return ListQuery(view=view, sort=sort, reverse=order == 'desc', text=args.get('q', '').strip(),
                         label=None if label == ANY_LABEL else label, state=state, page=page, per_page=per_page,
                         tracker=None if tracker == ANY_LABEL else tracker.strip().lower())


class Torrents(Pages):
    """One torrent in full, and every action on one torrent or many."""

    @expose('/target/<name>/torrent/<info_hash>/', 'viewer')
    def on_torrent(self, request, name, info_hash):
        backend = self.backend(name)
        if self.app.is_refresh(request):    # one round trip, shared by its viewers
            (header, detail), _ = self.app.shared.get((name, 'detail', info_hash.upper()),
                                                      lambda: backend.torrent_detail(info_hash),
                                                      keep=self.app.live_keep)
        else:
            header, detail = backend.torrent_detail(info_hash)
        return self.target_page(request, 'torrent.html', name, header=header, detail=detail,
                                torrent=detail.torrent, tree=detail.tree, action_help=ACTION_HELP,
                                offered=fitting_actions(detail.torrent.state, backend.ACTIONS, detail.movable),
                                here=request.script_root + request.path,
                                history=self.app.stats_history(name, detail.torrent.hash))

    @expose('/api/target/<name>/torrent/<info_hash>', 'viewer')
    def on_api_torrent(self, request, name, info_hash):
        header, detail = self.backend(name).torrent_detail(info_hash)
        data = dataclasses.asdict(detail)
        data['torrent'] = detail.torrent.as_dict()
        for key in ('local_directory', 'local_metafile'):       # the server's own paths stay on it
            data.pop(key)
        return self.json({'target': name, 'header': vars(header), 'torrent': data})

    @expose('/target/<name>/action', 'user', POST)
    def on_action(self, request, name):
        """One action on the selected torrents (the torrent page sends one hash, the list
        page many); back where the user was, with a message."""
        form = request.form
        action, hashes = form.get('action', ''), form.getlist('hash')
        back = self.back_to(request, form, name)
        if action == 'erase':
            return redirect(self.url_for(request, 'erase', name=name, hash=hashes, next=back), 303)
        if not hashes or not action:
            self.tell(request, 'Choose what to do with the selected torrents first; nothing was changed.'
                      if hashes else 'Select at least one torrent first; nothing was changed.', 'refused')
            return redirect(back, 303)
        results = self.run_action(self.backend(name), action, hashes, form)
        self.tell_results(request, action, results)
        return redirect(back, 303)

    @expose('/api/target/<name>/action', 'user', POST)
    def on_api_action(self, request, name):
        """The JSON twin of on_action (erase included, no confirmation page: a client
        that sends "erase" with "delete_data": true has said what it wants)."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get('hashes'), list):
            raise BadRequest('Send a JSON object like {"action": "stop", "hashes": ["<40 hex digits>"]}')
        action = body.get('action', '')
        backend = self.backend(name)
        if action == 'erase':
            results = backend.erase(body['hashes'], delete_data=body.get('delete_data') is True)
        else:
            values = MultiDict({k: str(v) for k, v in body.items() if k in VALUE_ACTIONS})
            results = self.run_action(backend, action, body['hashes'], values)
        return self.json({'action': action, 'results': [
            dict(hash=r.hash, ok=r.ok, reason=r.reason,
                 **({'deleted': len(r.erased_data.deleted)} if r.erased_data else {})) for r in results]})

    def run_action(self, backend, action, hashes, values):
        """[ActionResult] of one action; BadRequest in words for a value it cannot take."""
        self.app.idle_rows.forget(backend.name, hashes)      # their rows are asked again, not kept
        try:
            if action in backend.ACTIONS and action != 'erase':      # erase: on_erase, on_api_action
                return backend.act(action, hashes)
            if action == 'label':
                label = values.get('label', '').strip()
                if not label:       # removing takes its own choice: an empty box is a slip
                    raise ValueError("the label box is empty; to take labels away choose 'remove label'")
                check_text('the label', label, MAX_LABEL)
                return backend.set_label(hashes, label)
            if action == 'unlabel':
                return backend.set_label(hashes, '')
            if action == 'priority':
                return backend.set_priority(hashes, int(values.get('priority', '')))
            if action == 'group':
                group = values.get('group', '').strip()
                if group and group not in self.app.speed_groups(backend.name):
                    raise ValueError("there is no speed group '%s' (the settings page makes them: %s)"
                                     % (group, ', '.join(self.app.speed_groups(backend.name)) or 'none yet'))
                return backend.set_group(hashes, group)
            if action == 'directory':
                allowed = self.app.config.target(backend.name).add_directories
                if not allowed:
                    raise ValueError('this target lists no add_directories, so no torrent can be moved '
                                     '(config.py decides which folders torrents may go to)')
                return backend.set_directory(hashes, paths.directory_inside(values.get('directory', '').strip(),
                                                                            allowed))
        except ValueError as exc:
            raise BadRequest('Cannot set the %s: %s. Nothing was changed.' % (action, exc)
                             if action in VALUE_ACTIONS else 'Cannot %s: %s. Nothing was changed.'
                             % (action, exc)) from None
        known = [a for a in backend.ACTIONS] + [a for a in VALUE_ACTIONS + ('unlabel',) if a not in backend.ACTIONS]
        raise BadRequest("There is no action '%s' (there are: %s)" % (action, ', '.join(known)))

    def tell_results(self, request, action, results):
        done = [r for r in results if r.ok]
        if done:
            self.tell(request, '%s %s.' % (DONE[action], _torrents(len(done))))
        for result in [r for r in done if r.reason][:5]:        # what else was done (a restart around it)
            self.tell(request, result.reason)
        refused = [r for r in results if not r.ok]
        for result in refused[:5]:
            self.tell(request, result.reason, 'refused')
        if len(refused) > 5:
            self.tell(request, 'and %d more torrents were not changed either.' % (len(refused) - 5), 'refused')

    @expose('/target/<name>/erase', 'user', GET + POST)
    def on_erase(self, request, name):
        """GET: what will be removed, and the choice about its data; POST: do it."""
        backend = self.backend(name)
        values = request.form if request.method == 'POST' else request.args
        hashes = values.getlist('hash')
        back = self.back_to(request, values, name)
        if self.app.endpoint_of(request, back) == 'torrent':   # the page of a torrent about to be gone
            back = self.url_for(request, 'target', name=name)
        if request.method == 'GET':
            names = backend.names(hashes)
            return self.target_page(request, 'erase.html', name, backend, names=names, next_url=back,
                                    deleted_by=backend.data_deleted_by,
                                    can_delete_data=backend.can_delete_data)
        data = values.get('data', 'keep')
        if data not in ('keep', 'delete') or (data == 'delete' and not backend.can_delete_data):
            raise BadRequest('data must be "keep" or, for a target with download_roots, "delete"')
        results = backend.erase(hashes, delete_data=data == 'delete')
        done = [r for r in results if r.ok]
        if done and data == 'delete' and any(r.erased_data is None for r in done):   # the client deleted it
            self.tell(request, 'Removed %s from %s, which deleted their data itself.'
                      % (_torrents(len(done)), backend.client))
        elif done and data == 'delete':
            files = sum(len(r.erased_data.deleted) for r in done)
            self.tell(request, 'Removed %s from %s and deleted %d file%s of their data.'
                      % (_torrents(len(done)), backend.client, files, '' if files == 1 else 's'))
        elif done:
            self.tell(request, 'Removed %s from %s; the data is still on disk.' % (_torrents(len(done)), backend.client))
        for result in [r for r in results if not r.ok or r.reason][:5]:
            self.tell(request, result.reason, 'refused')
        return redirect(back, 303)

    @expose('/target/<name>/torrent/<info_hash>/files', 'user', POST)
    def on_file_priorities(self, request, name, info_hash):
        """Files chosen one by one ('file') or by folder ('folder': its file indexes)."""
        form = request.form
        backend = self.backend(name)
        scale = backend.CAPABILITIES.file_priorities
        indexes = set()
        for value in form.getlist('file') + [i for v in form.getlist('folder') for i in v.split(',')]:
            if not value.strip().isdigit():
                raise BadRequest("'%s' is not a file number" % value)
            indexes.add(int(value))
        back = self.url_for(request, 'torrent', name=name, info_hash=info_hash) + '#files'
        if not indexes:
            self.tell(request, 'Select files or folders first; nothing was changed.', 'refused')
            return redirect(back, 303)
        priority = form.get('priority', '')
        skip = priority == 'skip' and backend.CAPABILITIES.file_wanted   # a flag apart from the priority
        if not skip and priority not in [str(p) for p in scale]:
            raise BadRequest('priority must be %s' % _either(['%d (%s)' % kv for kv in scale.items()]
                                                             + (['skip'] if backend.CAPABILITIES.file_wanted else [])))
        if skip:
            result = backend.set_files_wanted(info_hash, sorted(indexes), False)
        else:
            result = backend.set_file_priorities(info_hash, {i: int(priority) for i in indexes})
        if result.ok:
            self.tell(request, 'Set %d file%s to %s.' % (len(indexes), '' if len(indexes) == 1 else 's',
                                                         'skip' if skip else scale[int(priority)]))
        else:
            self.tell(request, result.reason, 'refused')
        return redirect(back, 303)

    @expose('/target/<name>/torrent/<info_hash>/trackers', 'user', POST)
    def on_trackers(self, request, name, info_hash):
        form = request.form
        index, enabled = form.get('tracker', ''), form.get('enabled', '')
        if not index.isdigit() or enabled not in ('0', '1'):
            raise BadRequest('tracker must be a tracker number and enabled 0 or 1')
        backend = self.backend(name)
        if not backend.CAPABILITIES.tracker_toggle:
            raise BadRequest('%s cannot disable or enable a tracker on its own' % backend.client)
        result = backend.set_tracker_enabled(info_hash, [int(index)], enabled == '1')
        self.tell(request, ('%s tracker %d.' % ('Enabled' if enabled == '1' else 'Disabled', int(index) + 1))
                  if result.ok else result.reason, 'done' if result.ok else 'refused')
        return redirect(self.url_for(request, 'torrent', name=name, info_hash=info_hash) + '#trackers', 303)


class Downloads(Pages):
    """A torrent's .torrent, one of its files (with Range), a zip of it or of a folder."""

    @expose('/target/<name>/torrent/<info_hash>/metafile', 'viewer')   # reading data is looking
    def on_metafile(self, request, name, info_hash):
        _, detail = self.backend(name).torrent_detail(info_hash)
        if not detail.local_metafile:
            raise NotFound("pyroTorrent cannot see the session folder of %s '%s', which holds "
                           "the .torrent of %s (give the target a path_map)"
                           % (self.backend(name).client, name, detail.torrent.hash))
        try:
            return download.metafile_response(request.environ, detail.local_metafile, detail.torrent.name)
        except PathNotFound as exc:
            raise NotFound("The .torrent of %s is not in %s '%s''s session folder: %s"
                           % (detail.torrent.hash, self.backend(name).client, name, exc)) from None

    @expose('/target/<name>/torrent/<info_hash>/data/<path:path>', 'viewer')
    def on_download(self, request, name, info_hash, path):
        raw = request.environ.get('REQUEST_URI', '').partition('?')[0]
        if ENCODED_SEPARATOR.search(raw):
            raise NotFound("'%s' holds an encoded separator (%%2F or %%00): no file is named so" % path)
        _, detail = self.backend(name).torrent_detail(info_hash)
        file = next((f for f in detail.files if f.path == path), None)
        if file is None:
            raise NotFound("Torrent %s has no file '%s'" % (detail.torrent.hash, path))
        if file.progress < 1.0:
            raise NotFound("'%s' is not complete yet (%d %%): it can be downloaded once it is"
                           % (path, file.progress * 100))
        backend = self.backend(name)
        try:
            return download.torrent_file_response(request.environ, self.data_folder(name, detail), path,
                                                  file.size, backend.served_roots(), file.name)
        except (PathNotFound, OSError) as exc:
            raise NotFound("'%s' of torrent %s cannot be served: %s" % (path, detail.torrent.hash, exc)) from None

    @expose('/target/<name>/torrent/<info_hash>/archive', 'viewer')
    def on_archive(self, request, name, info_hash):
        """The complete files of the torrent, or of one folder of it, as one streamed zip."""
        _, detail = self.backend(name).torrent_detail(info_hash)
        folder = request.args.get('folder', '').strip('/')
        files = [f for f in detail.files if not folder or f.path.startswith(folder + '/')]
        if not files:
            raise NotFound("Torrent %s has no folder '%s'" % (detail.torrent.hash, folder))
        complete = [(f.path, f.size) for f in files if f.progress >= 1.0]
        if not complete:
            raise NotFound('None of these files is complete yet: nothing to download.')
        local = self.data_folder(name, detail)
        if not detail.downloadable:
            raise NotFound("The data of %s lies outside the folders this target declares (download_roots, "
                           "add_directories in config.py): pyroTorrent serves data only from those"
                           % detail.torrent.hash)
        entries = download.archive_entries(local, complete, prefix=detail.torrent.name if detail.multi_file else '',
                                           roots=self.backend(name).served_roots())
        title = folder.rsplit('/', 1)[-1] if folder else detail.torrent.name
        return download.archive_response(entries, title)

    def data_folder(self, name, detail):
        if not detail.local_directory:
            raise NotFound("pyroTorrent cannot see the disk of %s '%s' (give the target a "
                           "path_map in config.py)" % (self.backend(name).client, name))
        return detail.local_directory


class Adding(Pages):
    """Adding torrents: uploads, direct links, magnet links."""

    @expose('/target/<name>/add', 'user', GET + POST, uploads=True)
    def on_add(self, request, name):
        """The add form (a GET adds nothing; ?magnet= fills the links in, for the browser's
        magnet: handler), and on POST the result of each item, rendered at once: a refresh
        re-posts only after the browser asks, and then finds each torrent already present.
        The links not added come back in the box, to be fixed or tried again."""
        if request.method != 'POST':
            return self.render_add(request, name, {'links': request.args.get('magnet', '')})
        try:
            batch = self.add(request, name)
        except ValueError as exc:
            return self.render_add(request, name, request.form, status=400, problem=str(exc))
        there = {r.info_hash for r in batch.results if r.status != 'refused'}   # a repeat of one added is done
        retry = [link for link, r in zip(batch.links, batch.results[len(batch.results) - len(batch.links):])
                 if r.status == 'refused' and (r.info_hash is None or r.info_hash not in there)]
        admin = request.user.can('admin')
        shown = [(_add_heading(r, error), _fetch_hint(error, self.app.config, admin))
                 for r, error in zip(batch.results, batch.errors)]
        return self.render_add(request, name, dict(request.form.to_dict(), links='\n'.join(retry)),
                               results=batch.results, shown=shown, retried=len(retry))

    @expose('/api/target/<name>/add', 'user', POST, uploads=True)
    def on_api_add(self, request, name):
        try:
            results = self.add(request, name).results
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', str(exc), api=True)
        return self.json({'target': name, 'results': [
            dict(r.as_dict(), url=self.torrent_url(request, name, r)) for r in results]})

    def add(self, request, name):
        """The AddBatch of an add form or API call: an AddResult per file and link in the
        order sent; ValueError, with nothing added, for options that cannot be used or an
        empty batch."""
        backend = self.backend(name)
        if request.mimetype == 'application/json':
            files, links, fields = _json_batch(request)
        else:
            fields = request.form
            files = [(u.filename or 'upload', u.stream.read(metafile.MAX_SIZE + 1))
                     for u in request.files.getlist('files') if u.filename]
            links = fields.get('links', '').splitlines()
        links = [line.strip() for line in links if line.strip()]
        if not files and not links:
            raise ValueError('Nothing to add: choose .torrent files, or give links or magnet links, one a line.')
        if len(files) + len(links) > MAX_ADD_ITEMS:
            raise ValueError('%d items at once is too many; add at most %d in one go.'
                             % (len(files) + len(links), MAX_ADD_ITEMS))
        options = self.add_options(fields, self.app.config.target(name), backend.CAPABILITIES.priorities)
        from lib import fetch       # requests: loaded by the first add, never by the worker
        policy = fetch.Policy.from_config(self.app.config)
        items = [_upload_item(filename, data) for filename, data in files]
        items += fetch.fetch_metafiles(links, policy)     # side by side, on threads of this request's own
        results = backend.add_torrents(items, options)
        for result in results:          # the page and the API show the source apart
            if result.reason and result.source and result.reason.startswith(result.source + ': '):
                result.reason = result.reason[len(result.source) + 2:]
        return AddBatch(results, links, [item if isinstance(item, Exception) else None for item in items])

    @staticmethod
    def add_options(fields, target, scale):
        """The AddOptions of a form or a JSON object; ValueError in words."""
        start = fields.get('start', True)
        if not isinstance(start, bool):
            if str(start).lower() not in YES_NO:
                raise ValueError("start must be yes or no, not '%s'" % start)
            start = YES_NO[str(start).lower()]
        priority = fields.get('priority', 'normal')
        names = {v: k for k, v in scale.items()}
        if isinstance(priority, str) and priority.strip().lower() in names:
            priority = names[priority.strip().lower()]
        elif isinstance(priority, str) and priority.strip() in [str(p) for p in scale]:
            priority = int(priority)
        elif not isinstance(priority, int) or isinstance(priority, bool) or priority not in scale:
            raise ValueError("the priority must be %s, not '%s'" % (_either(scale.values()), priority))
        label = fields.get('label') or ''
        if not isinstance(label, str):
            raise ValueError('the label must be text')
        typed = fields.get('path')          # the form's "or a folder inside them", over its choice
        directory = typed.strip() if isinstance(typed, str) and typed.strip() else fields.get('directory')
        directory = directory or None
        if directory is not None:
            directory = paths.directory_inside(directory, target.add_directories)
        return AddOptions(start=start, directory=directory, label=label.strip(), priority=priority,
                          priorities=scale)

    def render_add(self, request, name, form, status=200, **context):
        backend = self.backend(name)
        return self.target_page(request, 'add.html', name, status=status,
                                directories=self.app.config.target(name).add_directories, form=form,
                                priorities=backend.CAPABILITIES.priorities, labels=self.labels(backend),
                                **context)

    @staticmethod
    def labels(backend):
        """The labels the target's torrents have, for the label box to suggest (Backend.labels:
        for rTorrent one round trip of one field a torrent); none if it cannot say."""
        if backend.CAPABILITIES.labels == 'none':
            return []
        try:
            counts = backend.labels()
        except BackendError:
            return []
        return sorted((label for label in counts if label), key=str.casefold)

    def torrent_url(self, request, name, result):
        if result.status == 'refused' or not result.info_hash:
            return None
        return self.url_for(request, 'torrent', name=name, info_hash=result.info_hash)


class Settings(Pages):
    """A target's settings that pyroTorrent keeps and re-applies (model/settings.py), the
    header's quick limits, and their JSON API."""

    @expose('/target/<name>/settings', 'viewer', endpoint='settings')
    def on_settings(self, request, name, status=200, problem=None, errors=None):
        backend = self.backend(name)
        if not backend.CAPABILITIES.settings_write:
            raise NotFound("pyroTorrent cannot read or change the settings of %s '%s' yet"
                           % (backend.client, name))
        store = self.app.store()
        if isinstance(store, StoreError):
            return self.target_page(request, 'settings/page.html', name, status=503, store_error=str(store))
        if self.app.is_refresh(request):    # one round trip, shared by its viewers
            (fields, groups, live, restarted), _ = self.app.shared.get(
                (name, 'settings'), lambda: settings.view(store, backend), keep=self.app.live_keep)
        else:
            fields, groups, live, restarted = settings.view(store, backend)
        caps = backend.CAPABILITIES
        return self.target_page(request, 'settings/page.html', name, status=status, fields=fields,
                                groups=groups, live=live, restarted=restarted, problem=problem,
                                errors=errors or {}, presets=settings.ENCRYPTION,
                                has_groups='groups' in caps.settings_write, alt_native=caps.alt_native,
                                rate_unit=settings.unit_words(caps.rate_unit),
                                heartbeat=self.app.heartbeat())

    @expose('/target/<name>/settings', 'admin', POST, endpoint='settings_save')
    def on_settings_save(self, request, name):
        form, back = request.form, self.url_for(request, 'settings', name=name)
        if form.get('keep'):
            self.keep(request, name, [form['keep']])
            return redirect(back, 303)
        changes = {} if form.get('apply') else _settings_form(form, self.app.speed_groups(name))
        clean, errors, notes = self.validate(name, changes, bare=1024)
        if errors:
            return self.on_settings(request, name, status=400, errors=errors,
                                    problem='Nothing was changed: ' + settings.in_words(errors) + '.')
        self.tell_report(request, name, self.change(name, clean, request, everything=bool(form.get('apply')),
                                                    notes=notes))
        return redirect(back, 303)

    @expose('/target/<name>/limits', 'user', POST)
    def on_quick_limits(self, request, name):
        """The header's ↓/↑ limits and the alternative speeds switch, from any page."""
        form = request.form
        changes = {}
        alt = self.app.desired(name).get('alt_enabled', False)
        for key in ('down_limit', 'up_limit'):
            if form.get(key, '').strip():
                changes[('alt_' if alt else '') + key] = form[key]
        if form.get('alt_enabled') in ('on', 'off'):
            changes['alt_enabled'] = form['alt_enabled']
        clean, errors, notes = self.validate(name, changes, bare=1024)
        if errors:
            raise BadRequest('Nothing was changed on %s: %s.' % (name, settings.in_words(errors)))
        if clean:
            self.tell_report(request, name, self.change(name, clean, request, notes=notes))
        return redirect(self.back_to(request, form, name), 303)

    @expose('/api/target/<name>/settings', 'viewer', endpoint='api_settings')
    def on_api_settings(self, request, name):
        return self.json(self.as_json(name))

    @expose('/api/target/<name>/settings', 'admin', POST, endpoint='api_settings_save')
    def on_api_settings_save(self, request, name):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest('Send a JSON object of settings, like {"down_limit": 512000, "encryption": "preferred"}')
        keep, apply_all = body.pop('keep_live', None), body.pop('apply', False) is True
        if keep is not None:
            if not isinstance(keep, list):
                raise BadRequest('keep_live is a list of field names')
            self.keep(request, name, keep)
            return self.json(dict(self.as_json(name), applied={}, refused={}, notes=[]))
        clean, errors, notes = self.validate(name, body)
        if errors:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % settings.in_words(errors),
                                  True, details={'fields': errors})
        report = self.change(name, clean, request, everything=apply_all or None, notes=notes)
        return self.json(dict(self.as_json(name), **report.as_dict()))

    # -- shared by the page, the header and the API ------------------------------------

    def validate(self, name, changes, bare=1):
        """(clean, errors, notes): the rates rounded to what the target's client keeps
        (Capabilities.rate_unit), a note for each one rounded."""
        notes = []
        clean, errors = settings.validate(changes, bare=bare, unit=self.backend(name).CAPABILITIES.rate_unit,
                                          notes=notes)
        return clean, errors, notes

    def change(self, name, clean, request, everything=None, notes=()):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s cannot be kept: %s' % (name, store))
        backend = self.backend(name)
        if not backend.CAPABILITIES.settings_write:
            raise BadRequest('%s has no settings pyroTorrent can set' % backend.client)
        try:
            report = settings.apply(store, backend, clean, request.user.name or 'local', everything=everything)
        except settings.Busy as exc:
            raise Conflict('Nothing was changed: %s.' % exc) from None
        report.notes[:0] = list(notes)
        return report

    def keep(self, request, name, fields):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s cannot be kept: %s' % (name, store))
        try:
            kept = settings.keep_live(store, self.backend(name), fields, request.user.name or 'local')
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        except settings.Busy as exc:
            raise Conflict('Nothing was changed: %s.' % exc) from None
        self.tell(request, 'pyroTorrent now keeps %s\'s value of %s.' % (self.backend(name).client, ', '.join(kept)))

    def tell_report(self, request, name, report):
        if report.applied:
            self.tell(request, 'Applied to %s: %s.' % (name, ', '.join('%s %s' % (k, _shown(k, v))
                                                                     for k, v in report.applied.items())))
        for note in report.notes:
            self.tell(request, note)
        for field, why in report.refused.items():
            self.tell(request, '%s not changed: %s' % (field, why), 'refused')

    def as_json(self, name):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s are unavailable: %s' % (name, store))
        fields, groups, live, restarted = settings.view(store, self.backend(name))
        beat = self.app.heartbeat()
        return {
            'target': name,
            'settings': {f.name: f.desired for f in fields},
            'live': {f.name: f.live for f in fields},
            'set_at': {f.name: f.set_at for f in fields if f.set_at},
            'drift': [f.name for f in fields if f.drift] + ['groups.' + g for g, v in groups.items() if v['drift']],
            'write_only': [f.name for f in fields if not f.readable and f.name != 'alt_enabled'],
            'groups': groups,
            'encryption_presets': {k: {'flags': list(f), 'effect': e} for k, (f, e) in settings.ENCRYPTION.items()},
            'restarted_since_applied': restarted,
            'worker': None if beat is None else {'ticked_at': beat.ticked_at, 'host': beat.host, 'pid': beat.pid,
                                                 'recent': beat.recent()},
        }


class Statistics(Pages):
    """Bytes moved (model/stats.py, sampled by the worker): a page per target and one across
    all, the JSON and CSV of them, and /metrics for Prometheus."""

    @expose('/stats/', 'viewer', endpoint='stats_all')
    @expose('/target/<name>/stats/', 'viewer', endpoint='stats')
    def on_stats(self, request, name=None):
        names = [name] if name else self.app.visible_targets(request.user)
        try:
            reader, now = self.app.stats_reader(), time.time()
        except StoreError as exc:
            return self.error(request, 503, 'No statistics yet', 'pyroTorrent keeps statistics in its store, '
                              'which the worker (python pyrotorrent.py worker) writes: %s.' % exc, False,
                              target=name)
        if self.app.is_refresh(request):    # the live parts alone, shared by their viewers
            context, _ = self.app.shared.get(('stats', tuple(names), bool(name)),
                                             lambda: self.stats_context(reader, names, name, now, live=True),
                                             keep=self.app.live_keep)
        else:
            context = self.stats_context(reader, names, name, now)
        if name:
            return self.target_page(request, 'stats/stats.html', name, chart_svg=_chart_svg,
                                    glance=(context['charts'][0], context['summary']), **context)   # its own hour
        return self.render('stats/stats.html', request, chart_svg=_chart_svg, **context)

    def stats_context(self, reader, names, name, now, live=False):
        """What the statistics page shows; live=True: only its live parts (the last sample,
        the totals, the cap, the targets' table, the last hour), what a refresh needs."""
        context = dict(charts=[reader.chart(names, r, now=now) for r in stats.RANGES if not live or r == 'hour'],
                       summary=reader.summary(names, now), cap=self.monthly_cap(names),
                       began=reader.began(names), sampled=reader.sampled(names), names=names,
                       tables={}, events=[], per_target=None)
        if not live:
            month = stats.month_start(now, reader.zone)
            context['tables'] = {kind: self.by_key(reader, names, kind, month) for kind in ('tracker', 'label')}
            context['events'] = reader.events(names, now - 31 * stats.DAY, now)[-20:]
        if not name:     # no per-torrent table: at 10,000 torrents it costs more than the rest (by=torrent)
            context['per_target'] = [(n, reader.summary([n], now)) for n in names]
        return context

    @expose('/api/stats', 'viewer', endpoint='api_stats_all')
    @expose('/api/target/<name>/stats', 'viewer')
    def on_api_stats(self, request, name=None):
        names, chart, by, rows = self.stats_query(request, name)
        reader = self.app.stats_reader()
        return self.json({
            'targets': names, 'range': chart.range, 'resolution': chart.resolution,
            'time_zone': str(reader.zone), 'start': chart.start, 'end': chart.end,
            'up': chart.up, 'down': chart.down, 'summary': reader.summary(names),
            'slots': [{'start': s.start, 'end': s.end, 'label': s.label, 'up': s.up, 'down': s.down,
                       'gap': s.gap, 'known': s.known} for s in chart.slots],
            'gaps': [dataclasses.asdict(e) for e in chart.gaps], 'by': by, 'rows': rows})

    @expose('/stats.csv', 'viewer', endpoint='stats_csv_all')
    @expose('/target/<name>/stats.csv', 'viewer')
    def on_stats_csv(self, request, name=None):
        names, chart, by, rows = self.stats_query(request, name)
        out = io.StringIO()
        writer = csvsafe.writer(out)      # no cell a spreadsheet would run as a formula
        if by:
            writer.writerow([by, 'name', 'down_bytes', 'up_bytes', 'removed'])
            for row in rows:
                writer.writerow([row['key'], row['name'], row['down'], row['up'], 'yes' if row['gone'] else ''])
        else:
            writer.writerow(['start', 'end', 'down_bytes', 'up_bytes', 'gap'])
            zone = self.app.stats_reader().zone
            for s in chart.slots:
                writer.writerow([_iso(s.start, zone), _iso(s.end, zone), s.down, s.up, 'yes' if s.gap else ''])
        filename = 'pyrotorrent-%s-%s%s.csv' % (name or 'all', chart.range, '-by-' + by if by else '')
        return Response(out.getvalue(), mimetype='text/csv',
                        headers={'Content-Disposition': 'attachment; filename="%s"' % filename})

    @expose('/metrics', PUBLIC)
    def on_metrics(self, request):
        """Prometheus counters; off unless METRICS lists networks, and only to those."""
        from model import metrics
        networks = self.app.config.METRICS
        if not networks:
            raise HTTPNotFound('/metrics is off: list the networks that may read it in METRICS (config.py)')
        try:
            address = ipaddress.ip_address(request.remote_addr or '')
        except ValueError:
            address = None
        if address is None or forwarded(request) or not any(
                address in ipaddress.ip_network(n, strict=False) for n in networks):
            return Response('/metrics answers only the networks in METRICS (config.py), directly (no proxy).\n',
                            status=403, mimetype='text/plain')
        body = metrics.exposition(self.app.stats_reader(), self.app.target_names, self.app.config.METRICS_TORRENTS)
        return Response(body, mimetype=metrics.CONTENT_TYPE_LATEST)

    def error(self, request, status, title, message, api, **context):
        return self.app.error(request, status, title, message, api, **context)

    def stats_query(self, request, name):
        """(targets, Chart, by, rows by key) of ?range=...&by=...; BadRequest in words."""
        names = [name] if name else self.app.visible_targets(request.user)
        range_name = request.args.get('range', 'day')
        if range_name not in stats.RANGES:
            raise BadRequest("range must be one of %s, not '%s'" % (', '.join(stats.RANGES), range_name))
        by = request.args.get('by') or None
        if by not in (None, 'tracker', 'label', 'torrent', 'target'):
            raise BadRequest("by must be tracker, label, torrent or target, not '%s'" % by)
        try:
            reader = self.app.stats_reader()
        except StoreError as exc:
            raise ServiceUnavailable('No statistics yet: %s (the worker writes them: python pyrotorrent.py worker)'
                                     % exc) from None
        chart = reader.chart(names, range_name)
        rows = None
        if by:
            resolution = chart.resolution if by != 'torrent' or chart.resolution != stats.MINUTE else stats.HOUR
            rows = reader.by_key(names, by, chart.start, chart.end, resolution)
        return names, chart, by, rows

    @staticmethod
    def by_key(reader, names, kind, month):
        """This month's and all time's bytes of each series of a kind, most this month first."""
        return reader.by_key_since(names, kind, month)

    def monthly_cap(self, names):
        """The data cap these targets' month counts against (STATS_MONTHLY_CAP), or None: one
        number is all targets together (shown across all, and on the page of a lone target)."""
        cap = self.app.config.STATS_MONTHLY_CAP
        if isinstance(cap, dict):
            caps = [cap[n] for n in names if n in cap]
            return sum(caps) if caps else None
        if cap and set(names) >= set(self.app.target_names):
            return cap
        return None


def _chart_svg(chart, direction, small=False):
    """The SVG of one direction of a Chart (a template helper)."""
    values = [getattr(s, direction) if s.known else None for s in chart.slots]
    peak = max([v for v in values if v] or [0])
    title = '%s, last %s' % ('received' if direction == 'down' else 'sent', chart.range)
    return svgchart.bars(values, [s.gap for s in chart.slots], title=title, kind=direction, small=small,
                         top_label=format_size(peak) if peak else '')


def _iso(timestamp, zone):
    return datetime.datetime.fromtimestamp(timestamp, zone).isoformat()


class Schedules(Pages):
    """A target's weekly schedule and its override, its rules (with a preview before they
    are kept), its events, and their JSON API (model/schedule.py, rules.py, events.py; the
    worker runs them).  Viewers look, admins change."""

    @expose('/target/<name>/schedule', 'viewer', endpoint='schedule')
    def on_schedule(self, request, name, status=200, problem=None, grid=None):
        store = self.automation_store(name)
        view = self.schedule_view(store, name)
        if grid is not None:
            view['schedule'] = grid
        return self.target_page(request, 'schedule/grid.html', name, status=status, problem=problem,
                                rows=schedule.grid_rows(view['schedule']), kinds=schedule.KINDS,
                                cell_choices=schedule.CELL_MINUTES, defaults=schedule.DEFAULT_PROFILES,
                                tick_seconds=self.app.config.WORKER_TICK_SECONDS, **view)

    @expose('/target/<name>/schedule', 'admin', POST, endpoint='schedule_save')
    def on_schedule_save(self, request, name):
        form, back = request.form, self.url_for(request, 'schedule', name=name)
        store = self.automation_store(name)
        try:
            if form.get('back'):
                schedule.set_override(store, name, None, self.who(request), time.time(), self.app.time_zone)
                self.tell(request, 'Back to the schedule: the worker applies it within a tick.')
            elif form.get('override'):
                done = schedule.set_override(store, name, form['override'], self.who(request), time.time(),
                                             self.app.time_zone, self.app.desired(name))
                until = datetime.datetime.fromtimestamp(done['until'], self.app.time_zone).strftime(
                    '%Y-%m-%d %H:%M %Z') if done['until'] else 'you go back to the schedule'
                self.tell(request, "Profile '%s' until %s; the worker applies it within a tick." % (done['profile'], until))
            else:
                grid = schedule.validate(_schedule_form(form, schedule.load(store, name)[0]), bare=1024)
                schedule.save(store, name, grid, self.who(request), self.app.desired(name))
                self.tell(request, 'Schedule saved (%s); the worker applies it within a tick.'
                          % ('on' if grid['enabled'] else 'off'))
        except ValueError as exc:
            return self.on_schedule(request, name, status=400, problem='Nothing was changed: %s.' % exc)
        self.push_timetable(request, store, name)
        return redirect(back, 303)

    def push_timetable(self, request, store, name):
        """A schedule that fits the client's own timetable is given to it now (the worker
        checks again every tick)."""
        try:
            window = schedule.sync_timetable(store, self.backend(name), self.who(request))
        except BackendError as exc:
            if request is not None:
                self.tell(request, 'The schedule could not be given to %s now (%s); the worker tries again.'
                          % (name, exc), 'refused')
            return
        if window and request is not None and not request.path.startswith('/api/'):
            self.tell(request, '%s runs this schedule itself (its alternative-speed timetable), even while '
                               'pyroTorrent is down.' % self.backend(name).client)

    @expose('/target/<name>/rules', 'viewer', endpoint='rules')
    def on_rules(self, request, name, status=200, problem=None, preview=None, form=None):
        store = self.automation_store(name)
        kept = rules.load(store, name)
        return self.target_page(request, 'schedule/rules.html', name, status=status, problem=problem,
                                rules=kept, describe=rules.describe, preview=preview, form=form or {},
                                conditions=rules.CONDITIONS, actions=rules.ACTIONS, triggers=events.TRIGGERS,
                                can_delete_data=self.backend(name).can_delete_data)

    @expose('/target/<name>/rules', 'admin', POST, endpoint='rules_save')
    def on_rules_save(self, request, name):
        form, back = request.form, self.url_for(request, 'rules', name=name)
        store = self.automation_store(name)
        kept = rules.load(store, name)
        try:
            if form.get('delete'):
                kept = [r for r in kept if r['name'] != form['delete']]
                rules.save(store, name, kept, self.who(request))
                self.tell(request, "Rule '%s' removed." % form['delete'])
                return redirect(back, 303)
            for state in ('enable', 'disable'):     # the state to set, not a flip: sent twice, the same
                if form.get(state):
                    kept = [dict(r, enabled=state == 'enable') if r['name'] == form[state] else r for r in kept]
                    rules.save(store, name, kept, self.who(request))
                    return redirect(back, 303)
            new = _rule_form(form)
            context = self.rule_context(name, kept + [new])
            rule = rules.validate(new, context)
            clean = rules.validate_all([r for r in kept if r['name'] != rule['name']] + [rule], context)
        except ValueError as exc:
            return self.on_rules(request, name, status=400, problem='Nothing was changed: %s.' % exc, form=form)
        touched = rules.preview(rule, context.seen, self.clocks(store, name), time.time())
        if form.get('preview'):
            return self.on_rules(request, name, preview={'rule': rule, 'torrents': touched}, form=form)
        rules.save(store, name, clean, self.who(request))
        self.tell(request, "Rule '%s' saved; it would act on %d torrent(s) now, and the worker runs it within a tick."
                  % (rule['name'], len(touched)))
        return redirect(back, 303)

    @expose('/target/<name>/events', 'viewer', endpoint='events')
    def on_events(self, request, name):
        store = self.automation_store(name)
        kind = request.args.get('kind') or None
        if kind is not None and kind not in events.KINDS:
            raise BadRequest("There is no kind of event '%s' (there are: %s)" % (kind, ', '.join(events.KINDS)))
        shown = events.recent(store, name, limit=200, kinds=[kind] if kind else None)
        return self.target_page(request, 'schedule/events.html', name, events=shown, in_words=events.in_words,
                                kinds=events.KINDS, kind=kind, webhook=bool(self.app.config.WEBHOOK_URL),
                                latest=max((e.seq for e in shown), default=0), poll_seconds=self.app.config.EVENTS_SECONDS)

    # -- the API ------------------------------------------------------------------------

    @expose('/api/target/<name>/schedule', 'viewer', endpoint='api_schedule')
    def on_api_schedule(self, request, name):
        return self.json(self.schedule_json(self.automation_store(name), name))

    @expose('/api/target/<name>/schedule', 'admin', POST, endpoint='api_schedule_save')
    def on_api_schedule_save(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        try:
            if isinstance(body, dict) and set(body) == {'override'}:
                schedule.set_override(store, name, body['override'], self.who(request), time.time(),
                                      self.app.time_zone, self.app.desired(name))
            else:
                schedule.save(store, name, schedule.validate(body), self.who(request), self.app.desired(name))
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % exc, True)
        self.push_timetable(request, store, name)
        return self.json(self.schedule_json(store, name))

    @expose('/api/target/<name>/rules', 'viewer', endpoint='api_rules')
    def on_api_rules(self, request, name):
        store = self.automation_store(name)
        return self.json({'target': name, 'rules': rules.load(store, name)})

    @expose('/api/target/<name>/rules', 'admin', POST, endpoint='api_rules_save')
    def on_api_rules_save(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        if not isinstance(body, dict) or not isinstance(body.get('rules'), list):
            raise BadRequest('Send a JSON object like {"rules": [{"name":, "match":, "when":, "do":}]}')
        try:
            context = self.rule_context(name, body['rules'])
            clean = rules.validate_all(body['rules'], context)
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % exc, True)
        rules.save(store, name, clean, self.who(request))
        clocks = self.clocks(store, name)
        return self.json({'target': name, 'rules': rules.load(store, name), 'would_touch': {
            r['name']: [t.hash for t in rules.preview(r, context.seen, clocks, time.time())] for r in clean}})

    @expose('/api/target/<name>/rules/preview', 'admin', POST, endpoint='api_rules_preview')
    def on_api_rules_preview(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        try:
            context = self.rule_context(name, rules.load(store, name) + [body])
            rule = rules.validate(body, context)
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', str(exc), True)
        touched = rules.preview(rule, context.seen, self.clocks(store, name), time.time())
        return self.json({'target': name, 'rule': rule, 'describe': rules.describe(rule),
                          'torrents': [{'hash': t.hash, 'name': t.name, 'label': t.label, 'ratio': t.ratio,
                                        'state': t.state} for t in touched]})

    @expose('/api/target/<name>/events', 'viewer', endpoint='api_events')
    def on_api_events(self, request, name):
        store = self.automation_store(name)
        since = _whole_number(request.args, 'since', 0, 0, 10 ** 15)
        limit = _whole_number(request.args, 'limit', 100, 1, 1000)
        kinds = [k for k in request.args.getlist('kind') if k]
        unknown = [k for k in kinds if k not in events.KINDS]
        if unknown:
            raise BadRequest("There is no kind of event '%s' (there are: %s)" % (unknown[0], ', '.join(events.KINDS)))
        found = events.recent(store, name, since=since, limit=limit, kinds=kinds or None)
        def link(e):
            if e.subject and e.kind != 'removed':
                return self.app.url_for(request, 'torrent', name=name, info_hash=e.subject)
            return None
        return self.json({'target': name, 'latest': max([e.seq for e in found] + [since]), 'events': [
            dict(e.as_dict(), text=events.in_words(e), kind_title=events.KINDS[e.kind], link=link(e))
            for e in found]})

    # -- shared -------------------------------------------------------------------------

    def automation_store(self, name):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Schedules, rules and events of %s are unavailable: %s' % (name, store))
        return store

    @staticmethod
    def who(request):
        return request.user.name or 'local'

    @staticmethod
    def clocks(store, name):
        return {item: data for item, (data, _) in store.seen(name).items()}

    def rule_context(self, name, given):
        backend = self.backend(name)
        sets = {r['do']['label'] for r in given if isinstance(r, dict) and isinstance(r.get('do'), dict)
                and isinstance(r['do'].get('label'), str)}
        return rules.Context(backend.snapshot(), groups=self.app.speed_groups(name),
                             priorities=backend.CAPABILITIES.priorities, can_delete_data=backend.can_delete_data,
                             labels_set=sets)

    def schedule_view(self, store, name):
        grid, override = schedule.load(store, name)
        now = time.time()
        force = schedule.in_force(grid, override, now, self.app.time_zone)
        applied = store.values(name, schedule.KIND).get('applied')
        pushed = store.values(name, schedule.KIND).get('timetable')
        return {'schedule': grid, 'force': force, 'now': now, 'applied': applied.value if applied else None,
                'run_by': 'client' if pushed is not None and pushed.value else 'worker',
                'timetable': pushed.value if pushed is not None else None,
                'layer': settings.current_layer(store, name), 'held': store.held(name),
                'time_zone': str(self.app.time_zone), 'heartbeat': self.app.heartbeat(),
                'zoned': lambda t: datetime.datetime.fromtimestamp(t, self.app.time_zone).strftime('%Y-%m-%d %H:%M %Z')}

    def schedule_json(self, store, name):
        view = self.schedule_view(store, name)
        grid = dict(view['schedule'])
        view.pop('zoned')
        return {'target': name, 'schedule': grid, 'in_force': view['force'].as_dict(view['now']),
                'applied': view['applied'], 'held': sorted(view['held']), 'time_zone': view['time_zone'],
                'run_by': view['run_by'], 'timetable': view['timetable']}


AREAS = (Accounts, Lists, Torrents, Downloads, Adding, Settings, Statistics, Schedules)
url_map = route_map(AREAS)[0]
ACCESS = {rule.endpoint: rule.role for rule in url_map.iter_rules()}   # endpoint -> least role


class PyroTorrent(App):
    """The app: the areas above over the core, with one Backend per configured target."""

    def __init__(self, config, areas=AREAS, url_map=None):
        self.backends = {t.name: backend_for(t, cache_seconds=config.CACHE_SECONDS,
                                               max_answer_bytes=config.MAX_ANSWER_BYTES) for t in config.targets}
        super().__init__(config, areas, self.backends, os.path.join(HERE, 'templates'),
                         url_map=url_map if url_map is not None else globals()['url_map'])
        self.shared = Shared()          # one question in flight per target, however many ask
        self.changes = {}               # target -> POSTs about it so far (lib.shared keys of page loads)
        self.idle_rows = IdleRows(is_idle, keep=LIVE_FULL_SECONDS, limit=IDLE_ROWS)    # stopped rows a refresh need not ask
        self._store = None
        self.time_zone = schedule.time_zone(config.TIME_ZONE)      # the schedules' (config.py checked it)
        self.live_keep = LIVE_KEEP * config.REFRESH_SECONDS
        self.jinja.globals.update(columns=COLUMNS, descending_first=DESCENDING_FIRST, any_label=ANY_LABEL,
                                  live_known=Lists.known_text,
                                  refresh_seconds=config.REFRESH_SECONDS, down_seconds=DOWN_SECONDS,
                                  narrow_hidden=('label', 'added'),   # columns a phone does without
                                  view_titles=VIEW_TITLES, duplicate_views=DUPLICATE_VIEWS,
                                  overview_states=OVERVIEW_STATES,
                                  alt_on=lambda name: self.desired(name).get('alt_enabled', False))

    def dispatch(self, request):
        try:
            return super().dispatch(request)
        finally:        # a POST may have changed the target: a page load after it asks afresh
            if request.method == 'POST' and request.target_name:
                self.changes[request.target_name] = self.changes.get(request.target_name, 0) + 1

    def store(self):
        """The store (opened on first use), or the StoreError that says why it cannot be."""
        if self._store is None:
            try:
                self._store = Store.open(self.config.store_url, self.config.store_base)
            except StoreError as exc:
                log.error('%s', exc)
                return exc
        return self._store

    def existing_store(self):
        """The store if it exists already (a page never creates it by being looked at)."""
        if self._store is None and not _store_exists(self.config):
            return None
        store = self.store()
        return None if isinstance(store, StoreError) else store

    def desired(self, name):
        store = self.existing_store()
        return settings.desired_values(store, name) if store else {}

    def speed_groups(self, name):
        try:
            return sorted(self.desired(name).get('groups', {}))
        except StoreError:
            return []

    def heartbeat(self):
        store = self.existing_store()
        try:
            return store.heartbeat('worker') if store else None
        except StoreError:
            return None

    def worker_notice(self, user):
        """Words for every page when settings are kept but no worker ticked lately, or None."""
        store = self.existing_store()
        try:
            if not store or not any(store.values(n, settings.DESIRED) for n in self.visible_targets(user)):
                return None
            beat = store.heartbeat('worker')
        except StoreError as exc:
            return str(exc)
        if beat is not None and beat.recent():
            return None
        since = 'no worker has ever ticked' if beat is None else 'no worker has ticked since %s' % FILTERS['date'](beat.ticked_at)
        return ('pyroTorrent keeps settings for rTorrent, but %s: they are not re-applied when rTorrent '
                'restarts. Start "pyrotorrent.py worker" (docs/setup.rst).' % since)

    def render(self, template, request, status=200, **context):
        context.setdefault('worker_notice', self.worker_notice(getattr(request, 'user', None)))
        return super().render(template, request, status=status, **context)

    def each_backend(self, request, ask, key):
        """[(name, url, answer or BackendError)] for every target the user may see, asked
        concurrently.  Visitors asking the same `key` at once share one request to each
        target, and a target found down or hung is remembered as such for DOWN_SECONDS: it
        costs one timeout, in parallel, however many people look."""
        def one(backend):
            try:
                answer, _ = self.shared.get((backend.name, key), lambda: ask(backend), keep_failure=DOWN_SECONDS,
                                            failures=(Unreachable, TimedOut))
                return backend.name, backend.url, answer
            except BackendError as exc:
                return backend.name, backend.url, exc
        backends = [self.backends[name] for name in self.visible_targets(request.user)]
        if len(backends) <= 1:
            return [one(b) for b in backends]
        with ThreadPoolExecutor(max_workers=len(backends)) as pool:   # this request's own: no queue
            # each in a copy of this request's context: its page deadlines (lib.deadline.page)
            return [f.result() for f in [pool.submit(contextvars.copy_context().run, one, b) for b in backends]]

    def stats_reader(self):
        """The statistics of the store (opened on first use; lib.store.StoreError in words)."""
        if getattr(self, '_stats_reader', None) is None:
            store = self.existing_store()       # pages only read it: the worker makes the store
            if store is None:
                failed = self.store() if _store_exists(self.config) else None
                if isinstance(failed, StoreError):
                    raise failed                # it is there but cannot be opened: say why
                raise StoreError('the store %s does not exist yet: the worker (python pyrotorrent.py worker) '
                                 'makes it' % redacted(self.config.store_url))
            self._stats_reader = stats.Reader(store, stats.time_zone(self.config.TIME_ZONE))
        return self._stats_reader

    def stats_glance(self, names):
        """{target: (last hour's Chart, summary)} for headers and the front page; {} when the
        store cannot be read (a page never fails for its statistics)."""
        try:
            reader, now = self.stats_reader(), time.time()
            return {n: (reader.chart([n], 'hour', now=now), reader.summary([n], now)) for n in names
                    if self.backends[n].CAPABILITIES.transfer_totals and reader.began([n]) is not None}
        except StoreError:
            return {}

    def stats_history(self, name, info_hash):
        """A torrent's own series for its page: {'day': Chart, 'month': Chart, 'all': (up, down)}, or None."""
        try:
            reader, now = self.stats_reader(), time.time()
            key = info_hash.upper()
            if reader.began([name]) is None:
                return None
            return {'day': reader.chart([name], 'day', 'torrent', key, now), 'month': reader.chart(
                [name], 'month', 'torrent', key, now), 'all': reader.total([name], 'torrent', key)}
        except StoreError:
            return None

    def endpoint_of(self, request, path):
        """The endpoint a local path leads to, or None."""
        root = request.script_root
        if not path.startswith(root + '/'):
            return None
        try:
            endpoint, _ = request.url_adapter.match(path[len(root):].split('?', 1)[0].split('#', 1)[0],
                                                    method='GET')
        except HTTPException:           # no such page, or a redirect to one
            return None
        return endpoint

    def failure(self, request, exc, api):
        if isinstance(exc, BackendError):
            return self.error(request, exc.status, "'%s' %s" % (exc.target, exc.problem), str(exc), api,
                              details=exc.as_dict(), error=exc, target=exc.target)
        if isinstance(exc, NotFound):
            return self.error(request, 404, 'Not Found', str(exc), api)
        return super().failure(request, exc, api)


MAX_ADD_ITEMS = 200                     # files and links in one batch


class AddBatch(typing.NamedTuple):
    """What Adding.add did: results (AddResult, files first, then links, in the order sent),
    links (the link lines sent) and errors (the exception an item was refused with before the
    client saw it, else None), one a result."""
    results: list
    links: list
    errors: list


def _add_heading(result, error):
    """The word the add page puts before a result's reason: 'Refused' (pyroTorrent's rules or
    checks turned it down), 'Not fetched' (its link failed) or 'Not added' (the client's side)."""
    from lib.fetch import FetchError        # loaded by the add that gave this result already
    if result.status != 'refused':
        return None
    if isinstance(error, FetchError):
        return 'Refused' if error.refused else 'Not fetched'
    return 'Refused' if error is not None else 'Not added'


def _fetch_hint(error, config, admin):
    """How a link refused for pointing into a non-public network could be allowed: the
    setting with an example value for an admin, whom to ask for anyone else; None otherwise."""
    network = getattr(error, 'network', None)
    if network is None:
        return None
    if not admin:
        return ('pyroTorrent does not fetch links into this network; if it should, ask an admin '
                'of this pyroTorrent to allow it.')
    bits = network.max_prefixlen if network.is_loopback else (24 if network.version == 4 else 64)
    value = [str(n) for n in config.FETCH_ALLOW_NETWORKS] + [str(ipaddress.ip_network((network, bits), strict=False))]
    return ('To allow links into this network for every user, set FETCH_ALLOW_NETWORKS = %r in config.py '
            'and restart pyroTorrent.' % (value,))
YES_NO = {'1': True, 'yes': True, 'true': True, 'on': True, '0': False, 'no': False, 'false': False, 'off': False}


LIVE_HEADER = 'X-Live-Known'


def known_pages(request):
    """{(target, view): {'size', 'total', 'views', 'hashes'}} from a refresh's X-Live-Known
    header (Lists.known_text of each part, space-separated); what cannot be read is left
    out, and that part's refresh fetches its whole list."""
    known = {}
    for part in request.headers.get(LIVE_HEADER, '').split(' ')[:20]:
        fields = parse_qs(part, max_num_fields=200)
        try:
            (target,), (view,), (size,), (total,), (hashes,) = (fields[k] for k in ('target', 'view', 'size', 'total', 'h'))
            size, total = int(size), int(total)
        except (KeyError, ValueError):
            continue
        if len(hashes) % 40 or len(hashes) > 40 * LIVE_MAX_ROWS or re.search('[^0-9A-F]', hashes):
            continue
        known[(target, view)] = {'size': size, 'total': total, 'views': fields.get('v', []),
                                 'hashes': [hashes[i:i + 40] for i in range(0, len(hashes), 40)],
                                 'added': _added_range(fields.get('a', [''])[0])}
    return known


def _added_range(text):
    """(oldest, newest) unix times from a known part's 'a' ('OLDEST:NEWEST'), else None."""
    match = re.fullmatch('([0-9]{1,18}):([0-9]{1,18})', text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _json_batch(request):
    """(files, links, fields) of a JSON add call: {"files": [{"filename":, "data": base64}],
    "links": [...] or one text, one a line, and the options}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValueError('The body is not a JSON object.')
    links = data.get('links', [])
    if isinstance(links, str):
        links = links.splitlines()
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        raise ValueError('links must be a list of texts (links and magnet links).')
    files = []
    for n, upload in enumerate(data.get('files', []) if isinstance(data.get('files', []), list) else [None]):
        if not isinstance(upload, dict) or not isinstance(upload.get('data'), str):
            raise ValueError('files[%d] must be {"filename": ..., "data": "<base64 of the .torrent>"}.' % n)
        try:
            raw = base64.b64decode(upload['data'], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError('files[%d]: data is not base64.' % n) from None
        files.append((str(upload.get('filename') or 'file %d' % (n + 1)), raw))
    return files, links, data


def _upload_item(filename, data):
    if len(data) > metafile.MAX_SIZE:
        return metafile.MetafileError(
            'the file is larger than %s bytes, the largest .torrent rTorrent can be handed in one '
            'request over SCGI' % '{:,}'.format(metafile.MAX_SIZE), filename)
    try:
        return metafile.parse(data, filename)
    except metafile.MetafileError as exc:
        return exc


def _store_exists(config):
    try:
        return store_exists(config.store_url, config.store_base)
    except StoreError:
        return False


def _settings_form(form, groups):
    """The settings page's fields as changes: an empty field changes nothing."""
    changes = {}
    for field in settings.RATE_FIELDS + tuple(settings.COUNT_FIELDS):
        if form.get(field, '').strip():
            changes[field] = form[field]
    if form.get('alt_enabled') in ('on', 'off'):
        changes['alt_enabled'] = form['alt_enabled']
    if form.get('encryption'):
        changes['encryption'] = form['encryption']
    edited = {}
    for group in groups:
        if form.get('remove_' + group):
            continue
        edited[group] = {'down_limit': form.get('group_down_' + group, '0').strip() or '0',
                         'up_limit': form.get('group_up_' + group, '0').strip() or '0'}
    new = form.get('new_group', '').strip()
    if new:
        edited[new] = {'down_limit': form.get('new_group_down', '0').strip() or '0',
                       'up_limit': form.get('new_group_up', '0').strip() or '0'}
    if edited or groups:
        changes['groups'] = edited
    return changes


def _schedule_form(form, old):
    """The schedule page's form as a schedule to validate: one select a cell (cell_N), the
    profiles kept (minus those ticked to remove), a new limited one, and the cells' size
    (a new size keeps the week as it was, in the new cells)."""
    raw = form.get('cell_minutes', '')
    minutes = int(raw) if raw.isdigit() else old['cell_minutes']
    profiles = {n: p for n, p in old['profiles'].items() if not form.get('remove_profile_' + n)}
    new = form.get('new_profile', '').strip()
    if new:
        profiles[new] = {'kind': 'limited', 'down_limit': form.get('new_down', '0').strip() or '0',
                         'up_limit': form.get('new_up', '0').strip() or '0'}
    if minutes != old['cell_minutes'] and minutes in schedule.CELL_MINUTES:
        cells = schedule.resized(old, minutes)['cells']
    else:
        cells = [form.get('cell_%d' % i, name) for i, name in enumerate(old['cells'])]
    return {'enabled': form.get('enabled') == 'on', 'cell_minutes': minutes, 'profiles': profiles, 'cells': cells}


def _rule_form(form):
    """The rules page's form as a rule to validate."""
    match = {'all': True} if form.get('match') == 'all' else {form.get('match', ''): form.get('match_value', '').strip()}
    when_kind, value = form.get('when', ''), form.get('when_value', '').strip()
    if when_kind == 'ratio':
        try:
            value = float(value)
        except ValueError:
            raise ValueError("the ratio must be a number, like 2 or 1.5, not '%s'" % value) from None
    action = form.get('do', '')
    do = {action: form.get('do_value', '').strip()} if action in ('label', 'group', 'priority') else action
    rule = {'name': form.get('rule_name', ''), 'match': match, 'when': {when_kind: value}, 'do': do}
    if form.get('confirm_delete_data') == 'on':
        rule['confirm_delete_data'] = True
    return rule


def _shown(field, value):
    if field in settings.RATE_FIELDS:
        return FILTERS['limit'](value)
    if field == 'groups':
        return ', '.join(sorted(value)) or 'none'
    return str(value)


def _torrents(count):
    return '%d torrent%s' % (count, '' if count == 1 else 's')


def _either(words):
    """'a, b or c'."""
    words = list(words)
    return ', '.join(words[:-1]) + ' or ' + words[-1] if len(words) > 1 else ''.join(words)


def _has_control(text):
    return any(ord(c) < 32 or ord(c) == 127 for c in text or '')


def _local_path(target, script_root):
    """Where to go after login: a path of this site only (never //host or a scheme)."""
    home = script_root + '/'
    if not target or not target.startswith(home) or target.startswith('//') or '\\' in target:
        return home
    if any(ord(c) < 32 for c in target):
        return home
    return target


def _whole_number(args, key, default, low, high):
    raw = args.get(key)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("%s must be a whole number, not '%s'" % (key, raw)) from None
    if not low <= value <= high:
        raise BadRequest('%s must be from %d to %d, not %d' % (key, low, high, value))
    return value


def make_app(config=None):
    """The WSGI application for a Config (default: config.py, or $PYROTORRENT_CONFIG)."""
    config = config or configuration.load()
    core = PyroTorrent(config)
    session_options = sessions.options(config.session_options, config.BASE_URL)
    app = under_base_url(sessions.Sessions(core, session_options), config.BASE_URL)
    app.pyrotorrent = core          # for tests and tools that look inside
    return app


def fewer_malloc_arenas(arenas=2):
    """On glibc, at most `arenas` malloc arenas for the serving threads, unless
    MALLOC_ARENA_MAX says otherwise; True if set.  By default each thread under contention
    gets an arena of its own and memory freed there stays there: with 16 viewers at 10,000
    torrents the FastCGI process peaked at 81.4 MB, with 2 arenas at 72.4 MB
    (tests/bench/bench_live.py; the GIL keeps threads from allocating at once anyway)."""
    if 'MALLOC_ARENA_MAX' in os.environ:
        return False
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):        # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1


M_ARENA_MAX = -8        # glibc's malloc.h


def main(argv=None):
    parser = argparse.ArgumentParser(description='pyroTorrent, a web interface to rTorrent. '
                                     'With no options it serves FastCGI on standard input, as spawn-fcgi runs it.')
    parser.add_argument('--config', help='configuration file (default: $PYROTORRENT_CONFIG or config.py)')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--fcgi', metavar='SOCKET|HOST:PORT', help='serve FastCGI on a unix socket or TCP address')
    where.add_argument('--http', metavar='HOST:PORT', help='serve plain HTTP (development, demo)')
    parser.add_argument('command', nargs='?', choices=['passwd', 'routes', 'worker', 'store'],
                        help='passwd: ask for a password and print its hash, for users in config.py; '
                             'routes: print every route with its role; '
                             'worker: run the worker (re-applies settings when rTorrent restarts); '
                             'store copy --from URL --to URL: copy a store into an empty one (docs/scaling.rst)')
    parser.add_argument('what', nargs='?', choices=['copy'], help=argparse.SUPPRESS)
    parser.add_argument('--from', dest='source', metavar='URL', help='store copy: the store to read (never changed)')
    parser.add_argument('--to', dest='destination', metavar='URL', help='store copy: the empty store to fill')
    args = parser.parse_args(argv)
    if args.command == 'store':
        if args.what != 'copy' or not (args.source and args.destination):
            parser.error('say: pyrotorrent.py store copy --from sqlite:////PATH --to postgresql://...')
        return store_copy(args.source, args.destination)
    if args.command == 'passwd':
        return passwd()
    if args.command == 'routes':
        return print_routes()
    if args.command == 'worker':
        return worker(args.config)
    logging.basicConfig(level=logging.WARNING, format='pyrotorrent: %(levelname)s %(message)s')
    fewer_malloc_arenas()
    on_stdin = not (args.fcgi or args.http)
    if on_stdin and not stat.S_ISSOCK(os.fstat(0).st_mode):
        parser.error('standard input is not a FastCGI socket: run pyrotorrent.py under spawn-fcgi, '
                     'or give --fcgi SOCKET|HOST:PORT or --http HOST:PORT')
    try:
        config = configuration.load(args.config)
    except configuration.ConfigError as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        if not on_stdin:
            return 2
        # Under spawn-fcgi nobody reads our stderr, and exiting leaves the web server with a
        # bare 503: answer every request with a page that says where to look instead.
        from flup.server.fcgi import WSGIServer
        WSGIServer(not_configured).run()
        return 2
    try:
        app = make_app(config)
    except UnknownClient as exc:
        print('pyrotorrent: %s: %s' % (config.path, exc), file=sys.stderr)
        return 2
    if args.http:
        from werkzeug.serving import run_simple
        host, port = _address(parser, args.http)
        if config.AUTH and not config.users and not _loopback_host(host):
            parser.error('%s is not a loopback address, and config.py declares no users: add users '
                         '(python pyrotorrent.py passwd), or set AUTH = False to serve everyone' % host)
        static = serve_static(app, config.STATIC_URL, os.path.join(HERE, 'static'))
        run_simple(host, port, static, threaded=True, use_reloader=False)
        return 0
    from lib.fcgi import WSGIServer       # flup's, its thread pool mended: no request queues
    if args.fcgi:
        bind = args.fcgi if '/' in args.fcgi else _address(parser, args.fcgi)
        WSGIServer(app, bindAddress=bind).run()
    else:
        WSGIServer(app).run()
    return 0


def passwd():
    """Ask for a password twice (never echoed, never on the command line) and print its hash."""
    import getpass
    try:
        first = getpass.getpass('Password: ')
        if len(first) < 8:
            print('pyrotorrent: a password needs at least 8 characters', file=sys.stderr)
            return 1
        if getpass.getpass('Again: ') != first:
            print('pyrotorrent: the two passwords differ; nothing printed', file=sys.stderr)
            return 1
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return 1
    print(auth.hash_password(first))
    print("# in config.py: users = {'NAME': {'password': '<the line above>', 'role': 'user'}}", file=sys.stderr)
    return 0


def worker(config_path):
    """The worker: ticks over every target until SIGTERM or Ctrl-C (lib/worker.py)."""
    from lib.webhook import Webhook
    from lib.worker import Task, Worker, open_store
    from model.tasks import tasks_for
    logging.basicConfig(level=logging.INFO, format='%(asctime)s pyrotorrent worker: %(levelname)s %(message)s')
    try:
        config = configuration.load(config_path)
        backends = {t.name: backend_for(t, cache_seconds=config.CACHE_SECONDS,
                                               max_answer_bytes=config.MAX_ANSWER_BYTES) for t in config.targets}
        store = open_store(config.store_url, config.store_base, config.WORKER_TICK_SECONDS)   # waits, says why
    except (configuration.ConfigError, StoreError, UnknownClient) as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        return 2
    if store is None:               # stopped while waiting for the store
        return 0
    from model.stats import Policy
    policy = Policy.from_config(config)
    hook = Webhook(config.WEBHOOK_URL, store).start() if config.WEBHOOK_URL else None

    def notify(event):          # the webhook's queue: a store write, never the network
        hook.send_later('%s:%s' % (event.target, event.key), dict(event.as_dict(), text=events.in_words(event)))

    # expired sessions of the file store: the worker's to delete, never a request's
    purge = sessions.purger(sessions.options(config.session_options, config.BASE_URL))

    def tasks(on_lease):        # every write through the lease-checked store
        return tasks_for(on_lease, backends, policy, config.WORKER_TICK_SECONDS, tz=schedule.time_zone(config.TIME_ZONE),
                         notify=notify if hook else None, automate_seconds=config.EVENTS_SECONDS,
                         events_keep_days=config.EVENTS_KEEP_DAYS) + [
            Task('sessions', purge)]
    try:
        return Worker(store, tasks, config.WORKER_TICK_SECONDS).run()
    finally:
        if hook:
            hook.stop()


def store_copy(source_url, destination_url):
    """Copy every row of one store into another, empty one, in one transaction (lib.store.copy_store)."""
    import socket
    from lib.store import copy_store
    try:
        source = Store.open(source_url, create=False)
        destination = Store.open(destination_url)
        copied = copy_store(source, destination, host=socket.gethostname(), pid=os.getpid())
    except StoreError as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        return 1
    for table, count in sorted(copied.items()):
        print('%-14s %d row(s)' % (table, count))
    print('copied %s into %s; the source is unchanged: set STORE to the new one on every host'
          % (source.path, destination.path))
    return 0


def print_routes():
    """The route table: rule, methods, least role, handler."""
    for rule in sorted(url_map.iter_rules(), key=lambda r: r.rule):
        methods = ','.join(sorted(m for m in rule.methods if m not in ('HEAD', 'OPTIONS')))
        print('%-56s %-9s %-7s %s' % (rule.rule, methods, rule.role, rule.endpoint))
    return 0


def _loopback_host(host):
    return host == 'localhost' or auth.is_local(host.strip('[]'))


def not_configured(environ, start_response):
    """The app when config.py cannot be read (the details stay on the server)."""
    start_response('503 Service Unavailable', [('Content-Type', 'text/plain; charset=utf-8')])
    return [b'pyroTorrent cannot start: its configuration file has a mistake.\n'
            b'On the server, run "python test.py" in the pyroTorrent folder to see which setting.\n']


def _address(parser, text):
    host, _, port = text.rpartition(':')
    if not host or not port.isdigit():
        parser.error("'%s' is not HOST:PORT (e.g. 127.0.0.1:8080)" % text)
    return host, int(port)


if __name__ == '__main__':
    sys.exit(main())
