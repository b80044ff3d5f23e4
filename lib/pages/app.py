"""PyroTorrent, the web application: every area's pages over lib/web.App, one Backend a
configured target, the store opened on first use, and what every page asks of them.
"""
import contextvars
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

from werkzeug.exceptions import HTTPException

from lib.format import FILTERS
from lib.idle_rows import IdleRows
from lib.pages.accounts import Accounts
from lib.pages.adding import Adding
from lib.pages.automation import Schedules
from lib.pages.downloads import Downloads
from lib.pages.lists import ANY_LABEL, Lists
from lib.pages.pane import Pane
from lib.pages.live import IDLE_ROWS, LIVE_FULL_SECONDS, LIVE_KEEP
from lib.pages.settings import Settings
from lib.pages.statistics import Statistics
from lib.pages.torrents import Torrents
from lib.single_flight import SingleFlight
from lib.store import Store, StoreError, store_exists
from lib.transport import redacted
from lib.web import App, route_map
from lib.zone import time_zone
from model import settings, stats
from model.clients import backend_for
from model.clients.types import COLUMNS, DESCENDING_FIRST, STATE_FILTERS, is_idle
from model.clients.errors import BackendError, NotFound, TimedOut, Unreachable


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # templates/ is there

log = logging.getLogger('pyrotorrent')


DOWN_SECONDS = 10           # a target found down is not asked again for the front page before this


AREAS = (Accounts, Lists, Pane, Torrents, Downloads, Adding, Settings, Statistics, Schedules)
URL_MAP = route_map(AREAS)[0]
ACCESS = {rule.endpoint: rule.role for rule in URL_MAP.iter_rules()}   # endpoint -> least role


class PyroTorrent(App):
    """The app: the areas above over the core, with one Backend per configured target."""

    def __init__(self, config, areas=AREAS, url_map=None):
        self.backends = {t.name: backend_for(t, cache_seconds=config.CACHE_SECONDS,
                                               max_answer_bytes=config.MAX_ANSWER_BYTES) for t in config.targets}
        super().__init__(config, areas, self.backends, os.path.join(ROOT, 'templates'),
                         url_map=url_map if url_map is not None else URL_MAP)
        self.single_flight = SingleFlight()     # one question in flight per target, however many ask
        self.changes = {}               # target -> POSTs about it so far (lib.single_flight keys of page loads)
        self.idle_rows = IdleRows(is_idle, keep=LIVE_FULL_SECONDS, limit=IDLE_ROWS)    # stopped rows a refresh need not ask
        self._store = None
        self.time_zone = time_zone(config.TIME_ZONE)       # schedules' and statistics' (config.py checked it)
        self.live_keep = LIVE_KEEP * config.REFRESH_SECONDS
        self.jinja.globals.update(columns=COLUMNS, descending_first=DESCENDING_FIRST, any_label=ANY_LABEL,
                                  live_showing=Lists.showing_text,
                                  refresh_seconds=config.REFRESH_SECONDS, down_seconds=DOWN_SECONDS,
                                  narrow_hidden=('label', 'added'),   # columns a phone does without
                                  state_filters=STATE_FILTERS,
                                  alt_on=lambda name: self.desired(name).get('alt_enabled', False))

    def dispatch(self, request):
        # a POST sent by static/notice.js: its words come back as JSON instead of a redirect
        notice = request.method == 'POST' and request.headers.get('X-Requested-With') == 'notice'
        request.notices = [] if notice else None
        try:
            response = super().dispatch(request)
        finally:        # a POST may have changed the target: a page load after it asks afresh
            if request.method == 'POST' and request.target_name:
                self.changes[request.target_name] = self.changes.get(request.target_name, 0) + 1
        if notice and response.status_code in (302, 303):
            return self.json({'notices': [{'kind': k, 'text': t} for k, t in request.notices]})
        return response

    def tell(self, request, text, kind='done'):
        if getattr(request, 'notices', None) is not None:
            request.notices.append((kind, self.for_viewer(request, text)))
        else:
            super().tell(request, text, kind)

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
        context.setdefault('bar', _bar(context))
        query = request.query_string.decode('latin-1')
        context.setdefault('here_path', request.script_root + request.path + ('?' + query if query else ''))
        return super().render(template, request, status=status, **context)

    def each_backend(self, request, ask, key):
        """[(name, url, answer or BackendError)] for every target the user may see, asked
        concurrently.  Visitors asking the same `key` at once share one request to each
        target, and a target found down or hung is remembered as such for DOWN_SECONDS: it
        costs one timeout, in parallel, however many people look."""
        def one(backend):
            try:
                answer, _ = self.single_flight.get((backend.name, key), lambda: ask(backend), keep_failure=DOWN_SECONDS,
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
            self._stats_reader = stats.Reader(store, self.time_zone)
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


def _store_exists(config):
    try:
        return store_exists(config.store_url, config.store_base)
    except StoreError:
        return False


def _bar(context):
    """[(target, Header)] the top bar shows: those the page asked anyway (no extra round trip)."""
    if 'cards' in context:
        return [(name, o.header) for name, _, o in context['cards'] if not isinstance(o, BackendError)]
    header = context['listing'].header if 'listing' in context else context.get('header')
    return [(context['target'], header)] if header is not None and context.get('target') else []
