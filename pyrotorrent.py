#!/usr/bin/env python3
"""pyroTorrent: a web interface to rTorrent.

make_app(config) returns a plain WSGI callable; run as a program it serves FastCGI on
standard input (what spawn-fcgi hands it), on a socket, or plain HTTP for development.

The pages come in areas, one class each: Accounts, Lists, Torrents, Downloads, Adding.
Each route sits beside its handler with the least role it needs (`expose(rule, role)`);
lib/web.py is the core every area shares (dispatch, who may pass, pages, JSON, errors).
`python pyrotorrent.py routes` prints the whole route table.
"""
import argparse
import base64
import binascii
import dataclasses
import logging
import os
import re
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:            # spawn-fcgi may start us from any folder
    sys.path.insert(0, HERE)

from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.datastructures import MultiDict
from werkzeug.utils import redirect

from lib import auth, download
from lib import config as configuration
from lib import fetch, metafile, paths, sessions
from lib.paths import PathNotFound
from lib.shared import Shared
from lib.web import GET, POST, PUBLIC, App, Area, expose, route_map, unguarded  # noqa: F401
from lib.wsgi import under_base_url
from model import UnknownClient, backend_for
from model.backend import (ACTION_HELP, COLUMNS, DESCENDING_FIRST, MAX_LABEL, AddOptions, ListQuery, TorrentList,
                           check_text)
from model.errors import BackendError, NotFound, TimedOut, Unreachable

# What an action's message says it did ('Stopped 3 torrents.').
DONE = {'start': 'Started', 'resume': 'Resumed', 'stop': 'Stopped', 'pause': 'Paused',
        'close': 'Closed', 'recheck': 'Started a hash check of', 'announce': 'Announced',
        'label': 'Set the label of', 'priority': 'Set the priority of',
        'directory': 'Set the download directory of', 'erase': 'Removed'}
VALUE_ACTIONS = ('label', 'priority', 'directory')   # actions that take a value from the form

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
        return self.render(template, request, target=name, url=backend.url, caps=backend.CAPABILITIES,
                           client=backend.client, **context)

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
            return self.render('login.html', request, next_url=next_url)
        name, password = request.form.get('name', ''), request.form.get('password', '')
        keys = throttle.keys(name, request.remote_addr)
        wait = throttle.wait(keys)
        if wait > 0:
            response = self.render('login.html', request, status=429, next_url=next_url, name=name,
                                   problem='Too many failed logins for this name or from this address: '
                                           'try again in %d s.' % (wait + 0.999))
            response.headers['Retry-After'] = str(int(wait + 0.999))
            return response
        user = auth.check_login(config.users, name, password)
        if user is None:
            throttle.failed(keys)
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
        query, known = ListQuery(per_page=self.app.config.PAGE_SIZE), known_pages(request)
        cards = self.app.each_backend(
            request, lambda backend: self.listing(request, backend.name, query, known.get((backend.name, 'main'))),
            key=('front', query.per_page, self.app.is_refresh(request), request.headers.get(LIVE_HEADER, '')))
        return self.render('index.html', request, cards=cards)

    @expose('/target/<name>/', 'viewer', endpoint='target')
    @expose('/target/<name>/view/<view>/', 'viewer', endpoint='target')
    def on_target(self, request, name, view='main'):
        query = self.list_query(request, view)
        listing = self.listing(request, name, query, known_pages(request).get((name, view)))
        return self.target_page(request, 'target.html', name, listing=listing,
                                request_query=request.query_string.decode('latin-1'))

    def listing(self, request, name, query, known=None):
        """The TorrentList a page shows.  A page load asks afresh; a refresh (live.js) gets an
        answer shared with every viewer of the same query within LIVE_KEEP of an interval:
        one round trip for the rows it shows when nothing can have moved them (`known`: what
        it shows), else the whole list, and the whole list at least every LIVE_FULL_SECONDS."""
        backend, shared, keep = self.backend(name), self.app.shared, self.app.live_keep
        key = (name, dataclasses.astuple(query))
        # a stamp kept LIVE_FULL_SECONDS from a whole list: a refresh that finds none (age 0) is one
        _, since_full = shared.get(('full due',) + key, lambda: True, keep=LIVE_FULL_SECONDS)
        if not self.app.is_refresh(request):
            return backend.torrent_list(query)
        if known and query.sort in STABLE_SORTS and since_full > 0:
            listing = self.refreshed_rows(backend, query, known)
            if listing is not None:
                return listing
        return shared.get(('list',) + key, lambda: backend.torrent_list(query), keep=keep)[0]

    def refreshed_rows(self, backend, query, known):
        """The listing of the rows a page shows, from one shared torrent_rows round trip; None
        when its order or membership may have changed (a view's size, the views, a row gone)."""
        hashes, views = known['hashes'], known['views']
        try:
            (header, torrents, sizes), _ = self.app.shared.get(
                (backend.name, 'rows', tuple(hashes), tuple(views)),
                lambda: backend.torrent_rows(hashes, views), keep=self.app.live_keep)
        except NotImplementedError:         # a client without it: the whole list
            return None
        if sizes.get(query.view) != known['size'] or header.views != views or None in torrents.values():
            return None
        filtered = query.text or query.label is not None
        return TorrentList(header=header, query=query, torrents=list(torrents.values()),
                           total=known['total'] if filtered else known['size'], view_total=known['size'],
                           labels=None, view_sizes=sizes)

    @staticmethod
    def known_text(name, listing):
        """What a list part shows, for live.js to send back with its refreshes ('' for more
        than LIVE_MAX_ROWS rows: those refresh in full)."""
        if len(listing.torrents) > LIVE_MAX_ROWS:
            return ''
        return urlencode([('target', name), ('view', listing.query.view), ('size', listing.view_total),
                          ('total', listing.total)] + [('v', v) for v in listing.header.views]
                         + [('h', ''.join(t.hash for t in listing.torrents))])

    @expose('/api/target/<name>/torrents', 'viewer')
    def on_api_torrents(self, request, name):
        listing = self.backend(name).torrent_list(self.list_query(request, request.args.get('view', 'main')))
        q = listing.query
        return self.json({
            'target': name, 'view': q.view, 'sort': q.sort, 'order': 'desc' if q.reverse else 'asc',
            'text': q.text, 'label': q.label, 'page': q.page, 'per_page': q.per_page,
            'pages': listing.pages, 'total': listing.total, 'view_total': listing.view_total,
            'header': vars(listing.header), 'view_sizes': listing.view_sizes, 'labels': listing.labels,
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
        label = args.get('label', ANY_LABEL)
        for what, text in (('view', view), ('label', label)):
            if _has_control(text):
                raise BadRequest('A %s name cannot hold control characters (line breaks, tabs, NUL): '
                                 'no %s is named %r' % (what, what, text))
        return ListQuery(view=view, sort=sort, reverse=order == 'desc', text=args.get('q', '').strip(),
                         label=None if label == ANY_LABEL else label, page=page, per_page=per_page)


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
                                here=request.script_root + request.path)

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
        if not hashes:
            self.tell(request, 'Select at least one torrent first; nothing was changed.', 'refused')
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
        try:
            if action in backend.ACTIONS and action != 'erase':      # erase: on_erase, on_api_action
                return backend.act(action, hashes)
            if action == 'label':
                label = values.get('label', '').strip()
                check_text('the label', label, MAX_LABEL)
                return backend.set_label(hashes, label)
            if action == 'priority':
                return backend.set_priority(hashes, int(values.get('priority', '')))
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
        known = [a for a in backend.ACTIONS] + [a for a in VALUE_ACTIONS if a not in backend.ACTIONS]
        raise BadRequest("There is no action '%s' (there are: %s)" % (action, ', '.join(known)))

    def tell_results(self, request, action, results):
        done = [r for r in results if r.ok]
        if done:
            self.tell(request, '%s %s.' % (DONE[action], _torrents(len(done))))
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
                                    can_delete_data=backend.can_delete_data)
        data = values.get('data', 'keep')
        if data not in ('keep', 'delete') or (data == 'delete' and not backend.can_delete_data):
            raise BadRequest('data must be "keep" or, for a target with download_roots, "delete"')
        results = backend.erase(hashes, delete_data=data == 'delete')
        done = [r for r in results if r.ok]
        if done and data == 'delete':
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
        if priority not in [str(p) for p in scale]:
            raise BadRequest('priority must be %s' % _either('%d (%s)' % kv for kv in scale.items()))
        result = backend.set_file_priorities(info_hash, {i: int(priority) for i in indexes})
        if result.ok:
            self.tell(request, 'Set %d file%s to %s.' % (len(indexes), '' if len(indexes) == 1 else 's',
                                                         scale[int(priority)]))
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

    def __init__(self, app):
        super().__init__(app)
        self.fetchers = ThreadPoolExecutor(max_workers=4)      # links of a batch, fetched side by side

    @expose('/target/<name>/add', 'user', GET + POST)
    def on_add(self, request, name):
        """The add form (a GET adds nothing; ?magnet= fills the links in, for the browser's
        magnet: handler), and on POST the result of each item, rendered at once: a refresh
        re-posts only after the browser asks, and then finds each torrent already present."""
        if request.method != 'POST':
            return self.render_add(request, name, {'links': request.args.get('magnet', '')})
        try:
            results = self.add(request, name)
        except ValueError as exc:
            return self.render_add(request, name, request.form, status=400, problem=str(exc))
        return self.render_add(request, name, dict(request.form.to_dict(), links=''), results=results)

    @expose('/api/target/<name>/add', 'user', POST)
    def on_api_add(self, request, name):
        try:
            results = self.add(request, name)
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', str(exc), api=True)
        return self.json({'target': name, 'results': [
            dict(r.as_dict(), url=self.torrent_url(request, name, r)) for r in results]})

    def add(self, request, name):
        """[AddResult] for an add form or API call, one per file and link in the order sent;
        ValueError, with nothing added, for options that cannot be used or an empty batch."""
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
        policy = fetch.Policy.from_config(self.app.config)
        items = [_upload_item(filename, data) for filename, data in files]
        items += list(self.fetchers.map(lambda line: _link_item(line, policy), links))
        results = backend.add_torrents(items, options)
        for result in results:          # the page and the API show the source apart
            if result.reason and result.source and result.reason.startswith(result.source + ': '):
                result.reason = result.reason[len(result.source) + 2:]
        return results

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
        return AddOptions(start=start, directory=directory, label=label.strip(), priority=priority)

    def render_add(self, request, name, form, status=200, **context):
        return self.target_page(request, 'add.html', name, status=status,
                                directories=self.app.config.target(name).add_directories, form=form,
                                priorities=self.backend(name).CAPABILITIES.priorities, **context)

    def torrent_url(self, request, name, result):
        if result.status == 'refused' or not result.info_hash:
            return None
        return self.url_for(request, 'torrent', name=name, info_hash=result.info_hash)


AREAS = (Accounts, Lists, Torrents, Downloads, Adding)
url_map = route_map(AREAS)[0]
ACCESS = {rule.endpoint: rule.role for rule in url_map.iter_rules()}   # endpoint -> least role


class PyroTorrent(App):
    """The app: the areas above over the core, with one Backend per configured target."""

    def __init__(self, config, areas=AREAS, url_map=None):
        self.backends = {t.name: backend_for(t, cache_seconds=config.CACHE_SECONDS) for t in config.targets}
        super().__init__(config, areas, self.backends, os.path.join(HERE, 'templates'),
                         url_map=url_map if url_map is not None else globals()['url_map'])
        self.shared = Shared()          # one question in flight per target, however many ask
        self.live_keep = LIVE_KEEP * config.REFRESH_SECONDS
        self.jinja.globals.update(columns=COLUMNS, descending_first=DESCENDING_FIRST, any_label=ANY_LABEL,
                                  live_known=Lists.known_text,
                                  refresh_seconds=config.REFRESH_SECONDS, down_seconds=DOWN_SECONDS,
                                  narrow_hidden=('label', 'added'))   # columns a phone does without

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
            return list(pool.map(one, backends))

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
                                 'hashes': [hashes[i:i + 40] for i in range(0, len(hashes), 40)]}
    return known


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


def _link_item(line, policy):
    """A Magnet for a magnet: line, else the Metafile a direct link leads to; the error
    instead of either."""
    try:
        if line.lower().startswith('magnet:'):
            return metafile.parse_magnet(line, line)
        return fetch.fetch_metafile(line, policy)
    except (fetch.FetchError, metafile.MetafileError) as exc:
        return exc


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


def main(argv=None):
    parser = argparse.ArgumentParser(description='pyroTorrent, a web interface to rTorrent. '
                                     'With no options it serves FastCGI on standard input, as spawn-fcgi runs it.')
    parser.add_argument('--config', help='configuration file (default: $PYROTORRENT_CONFIG or config.py)')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--fcgi', metavar='SOCKET|HOST:PORT', help='serve FastCGI on a unix socket or TCP address')
    where.add_argument('--http', metavar='HOST:PORT', help='serve plain HTTP (development, demo)')
    parser.add_argument('command', nargs='?', choices=['passwd', 'routes'],
                        help='passwd: ask for a password and print its hash, for users in config.py; '
                             'routes: print every route with its role')
    args = parser.parse_args(argv)
    if args.command == 'passwd':
        return passwd()
    if args.command == 'routes':
        return print_routes()
    logging.basicConfig(level=logging.WARNING, format='pyrotorrent: %(levelname)s %(message)s')
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
        from werkzeug.middleware.shared_data import SharedDataMiddleware
        from werkzeug.serving import run_simple
        host, port = _address(parser, args.http)
        if config.AUTH and not config.users and not _loopback_host(host):
            parser.error('%s is not a loopback address, and config.py declares no users: add users '
                         '(python pyrotorrent.py passwd), or set AUTH = False to serve everyone' % host)
        static = SharedDataMiddleware(app, {config.STATIC_URL: os.path.join(HERE, 'static')})
        run_simple(host, port, static, threaded=True, use_reloader=False)
        return 0
    from flup.server.fcgi import WSGIServer
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
