"""The front page, a target's torrent list and views, the list's columns, and what a
target is (its JSON).  A list's live refresh is lib/pages/live.py.
"""
import logging

from werkzeug.exceptions import BadRequest
from werkzeug.utils import redirect

from lib.pages.base import Pages, chart_svg, has_control, local_path, whole_number
from lib.pages.live import Live, known_pages
from lib.store import StoreError
from lib.web import POST, expose
from model.clients.interface import ACTION_HELP
from model.clients.types import COLUMNS, DESCENDING_FIRST, STATE_FILTERS, ListQuery
from model.clients.errors import BackendError


log = logging.getLogger('pyrotorrent')


# What the list's bulk bar says each choice will do (ACTION_HELP for the client's own actions).
BULK_HELP = dict(ACTION_HELP, label='give them this label (replacing theirs)', unlabel='take their labels away',
                 priority='set their priority', erase='asks first; their data stays on disk unless you choose otherwise',
                 group='move them to this speed group; active ones are stopped and started again around it')


ANY_LABEL = '*'


MAX_PER_PAGE = 1000


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
            return self.app.shared.get((backend.name, 'overview'), lambda: backend.overview(ACTIVE_ROWS),
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
        back = local_path(form.get('next'), request.script_root)
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
        page = whole_number(args, 'page', 1, 1, 10 ** 9)
        per_page = whole_number(args, 'per_page', self.app.config.PAGE_SIZE, 1, MAX_PER_PAGE)
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
                         tracker=None if tracker == ANY_LABEL else tracker.strip().lower())
