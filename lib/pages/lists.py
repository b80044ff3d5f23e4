"""The front page, a target's torrent list and views, the list's columns, and what a
target is (its JSON).  A list's live refresh is lib/pages/live.py.
"""
import logging
from urllib.parse import urlencode

from werkzeug.exceptions import BadRequest
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from lib.pages.base import Pages, chart_svg, has_control, local_path, whole_number
from lib.pages.live import Live, parts_showing
from lib.pages.pane import open_hash, pane_context
from lib.store import StoreError
from lib.web import POST, expose
from model.clients.interface import ACTION_HELP, fitting_actions
from model.clients.trackers import tracker_name
from model.clients.types import COLUMNS, DESCENDING_FIRST, STATE_FILTERS, STATES, ListQuery
from model.clients.errors import BackendError


log = logging.getLogger('pyrotorrent')


# What the list's bulk bar says each choice will do (ACTION_HELP for the client's own actions).
BULK_HELP = dict(ACTION_HELP, label='give them this label (replacing theirs)', unlabel='take their labels away',
                 priority='set their priority', erase='asks first; their data stays on disk unless you choose otherwise',
                 group='move them to this speed group; active ones are stopped and started again around it')


ANY_LABEL = '*'


MAX_PER_PAGE = 1000


MIN_WIDTH, MAX_WIDTH = 30, 2000     # pixels a dragged column may be


ACTIVE_ROWS = 10            # the front page's "active now" rows a target, fastest first


class Lists(Live, Pages):
    """The front page, a target's torrent list and views, and what a target is."""

    @expose('/', 'viewer')
    def on_index(self, request):
        """Every target at a glance: those that cannot be asked first, naming the cause; then
        each one's figures, counts by state and what is active now (Backend.overview)."""
        refresh = self.app.is_refresh(request)

        def ask(backend):       # a refresh shares one answer a target with every viewer
            if not refresh:
                return backend.overview(ACTIVE_ROWS)
            return self.app.single_flight.get((backend.name, 'overview'), lambda: backend.overview(ACTIVE_ROWS),
                                       keep=self.app.live_keep)[0]
        cards = self.app.each_backend(request, ask, key=('front', refresh))
        cards.sort(key=lambda card: not isinstance(card[2], BackendError))     # stable: config order
        return self.render('index.html', request, cards=cards, chart_svg=chart_svg,
                           glances=self.app.stats_glance([name for name, _, _ in cards]),
                           shown=self.shown_columns(request))

    @expose('/target/<name>/', 'viewer', endpoint='target')
    @expose('/target/<name>/view/<view>/', 'viewer', endpoint='target')
    def on_target(self, request, name, view='main'):
        query = self.list_query(request, view)
        listing = self.listing(request, name, query, parts_showing(request).get((name, view)))
        opened = open_hash(request.args)
        unopened = [(k, v) for k, v in request.args.items(multi=True) if k != 'open']
        back = request.script_root + request.path + ('?' + urlencode(unopened) if unopened else '')
        pane = pane_context(self.app, self.backend(name), request, opened, back) if opened else {}
        layout = self.column_layout(request)
        return self.target_page(request, 'target.html', name, listing=listing, action_help=BULK_HELP,
                                request_query=request.query_string.decode('latin-1'), list_back=back,
                                shown=self.shown_columns(request, layout), widths=layout.get('widths', {}),
                                totals=totals(listing.torrents), menu_fits=menu_fits(self.backend(name)), **pane)

    def preference(self, request, key):
        """A list preference of this user: from the store for a logged-in user, else from the
        browser's session (None when neither keeps one)."""
        chosen = None
        if request.user.name:
            store = self.app.existing_store()
            try:
                chosen = store.preference(request.user.name, key) if store else None
            except StoreError as exc:
                log.error('%s', exc)
        if chosen is None:
            chosen = request.environ['beaker.session'].get(key)
        return chosen

    def keep_preference(self, request, key, value):
        """Keep a list preference where preference() reads it; says where, in words."""
        where = 'for this browser session'
        if request.user.name:
            store = self.app.store()
            try:
                if isinstance(store, StoreError):
                    raise store
                store.put_preference(request.user.name, key, value)
                where = 'for your account'
            except StoreError as exc:
                where = 'for this browser session only (the store cannot keep it: %s)' % exc
        session = request.environ['beaker.session']
        session[key] = value
        session.save()
        return where

    def column_layout(self, request):
        """{'order': [every column], 'widths': {column: px}} as this user dragged them."""
        layout = self.preference(request, 'column_layout')
        if not isinstance(layout, dict):
            layout = {}
        order = [c for c in layout.get('order') or () if c in COLUMNS]
        widths = layout.get('widths') if isinstance(layout.get('widths'), dict) else {}
        return {'order': order + [c for c in COLUMNS if c not in order],
                'widths': {c: w for c, w in widths.items() if c in COLUMNS and isinstance(w, int)}}

    def shown_columns(self, request, layout=None):
        """The list's columns this user chose (the name always), in the order they dragged
        them to (COLUMNS order until then)."""
        chosen = self.preference(request, 'columns')
        order = (layout or self.column_layout(request))['order']
        if not isinstance(chosen, list):
            return order
        return [c for c in order if c == 'name' or c in chosen]

    @expose('/columns', 'viewer', POST)
    def on_columns(self, request):
        """Keep the list columns a user ticked (the name is always shown); back to the list."""
        form = request.form
        chosen = form.getlist('column')
        unknown = [c for c in chosen if c not in COLUMNS]
        back = local_path(form.get('next'), request.script_root)
        if unknown:
            raise BadRequest('There is no column %r; the list has: %s. Nothing was changed.'
                             % (unknown[0], ', '.join(COLUMNS)))
        chosen = [c for c in COLUMNS if c == 'name' or c in chosen]
        where = self.keep_preference(request, 'columns', chosen)
        self.tell(request, 'The list shows %s, kept %s.' % (', '.join(COLUMNS[c] for c in chosen), where))
        return redirect(back, 303)

    @expose('/columns/layout', 'viewer', POST)
    def on_column_layout(self, request):
        """The columns' order and widths as dragged on the list (static/columns.js): `order`
        the columns comma-separated, `width` one 'column:pixels' each (none: as the page
        lays them out)."""
        form = request.form
        order = [c for c in form.get('order', '').split(',') if c]
        widths = {}
        for item in form.getlist('width'):
            column, _, px = item.partition(':')
            if column not in COLUMNS or not px.isdigit() or not MIN_WIDTH <= int(px) <= MAX_WIDTH:
                raise BadRequest("A column's width is given as column:pixels, from %d to %d pixels, of one of: %s; "
                                 "not '%s'. Nothing was changed." % (MIN_WIDTH, MAX_WIDTH, ', '.join(COLUMNS), item))
            widths[column] = int(px)
        unknown = [c for c in order if c not in COLUMNS]
        if unknown or len(set(order)) != len(order):
            raise BadRequest("The columns' order names each of %s at most once, not '%s'. Nothing was changed."
                             % (', '.join(COLUMNS), form.get('order', '')))
        where = self.keep_preference(request, 'column_layout', {'order': order, 'widths': widths})
        if request.headers.get('X-Requested-With') == 'columns':     # columns.js: nothing to show
            return Response(status=204)
        self.tell(request, "The list's columns keep this order and these widths %s." % where)
        return redirect(local_path(form.get('next'), request.script_root), 303)

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
        return query_from(request.args, view, self.app.config.PAGE_SIZE)


def query_from(args, view, page_size):
    """The ListQuery of a list page's arguments (a URL's query); BadRequest in words."""
    sort = args.get('sort', 'name')
    if sort not in COLUMNS:
        raise BadRequest("Cannot sort by '%s'; choose one of: %s" % (sort, ', '.join(COLUMNS)))
    order = args.get('order', 'desc' if sort in DESCENDING_FIRST else 'asc')
    if order not in ('asc', 'desc'):
        raise BadRequest("order must be 'asc' or 'desc', not '%s'" % order)
    page = whole_number(args, 'page', 1, 1, 10 ** 9)
    per_page = whole_number(args, 'per_page', page_size, 1, MAX_PER_PAGE)
    label, tracker = args.get('label', ANY_LABEL), args.get('tracker', ANY_LABEL)
    state = args.get('state') or None
    if state is not None and state not in STATE_FILTERS:
        raise BadRequest("No list shows the state '%s'; choose one of: %s"
                         % (state, ', '.join(STATE_FILTERS)))
    for what, text in (('view', view), ('label', label), ('tracker', tracker)):
        if has_control(text):
            raise BadRequest('A %s name cannot hold control characters (line breaks, tabs, NUL): '
                             'no %s is named %r' % (what, what, text))
    return ListQuery(view=view, sort=sort, reverse=order == 'desc', text=args.get('q', '').strip(),
                     label=None if label == ANY_LABEL else label, state=state, page=page, per_page=per_page,
                     tracker=None if tracker == ANY_LABEL else tracker_name(tracker))


def menu_fits(backend):
    """{action: [states it fits]} for the list's menu (static/menu.js): an item shows when it
    fits one selected torrent's state at least, so a mixed selection offers both."""
    fits = {}
    for state in STATES:
        for action in fitting_actions(state, backend.ACTIONS, False):
            fits.setdefault(action, []).append(state)
    return fits


def totals(torrents):
    """The totals line under the list: how many rows, their size and rates summed."""
    return {'count': len(torrents), 'size': sum(t.size or 0 for t in torrents),
            'down': sum(t.down_rate or 0 for t in torrents), 'up': sum(t.up_rate or 0 for t in torrents)}
