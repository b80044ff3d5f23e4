#!/usr/bin/env python3
"""pyroTorrent: a web interface to rTorrent.

make_app(config) returns a plain WSGI callable; run as a program it serves FastCGI on
standard input (what spawn-fcgi hands it), on a socket, or plain HTTP for development.
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
from urllib.parse import quote, urlencode
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:            # spawn-fcgi may start us from any folder
    sys.path.insert(0, HERE)

import simplejson
from jinja2 import Environment, FileSystemLoader
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.datastructures import MultiDict
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from lib import auth, download
from lib import config as configuration
from lib import fetch, metafile, paths, sessions
from lib.format import FILTERS
from lib.paths import PathNotFound, resolve_inside
from lib.wsgi import under_base_url
from model.backend import COLUMNS, DESCENDING_FIRST, FILE_PRIORITIES, PRIORITIES, AddOptions, ListQuery
from model.errors import BackendError, NotFound
from model.rtorrent import RTorrent

GET, POST = ['GET'], ['POST']          # GET includes HEAD; a GET never changes anything
url_map = Map([
    Rule('/', endpoint='index', methods=GET),
    Rule('/login', endpoint='login', methods=GET + POST),
    Rule('/logout', endpoint='logout', methods=POST),
    Rule('/target/<name>/', endpoint='target', methods=GET),
    Rule('/target/<name>/view/<view>/', endpoint='target', methods=GET),
    Rule('/target/<name>/torrent/<info_hash>/', endpoint='torrent', methods=GET),
    Rule('/target/<name>/torrent/<info_hash>/metafile', endpoint='metafile', methods=GET),
    Rule('/target/<name>/torrent/<info_hash>/data/<path:path>', endpoint='download', methods=GET),
    Rule('/target/<name>/torrent/<info_hash>/archive', endpoint='archive', methods=GET),
    Rule('/target/<name>/torrent/<info_hash>/files', endpoint='file_priorities', methods=POST),
    Rule('/target/<name>/torrent/<info_hash>/trackers', endpoint='trackers', methods=POST),
    Rule('/target/<name>/action', endpoint='action', methods=POST),
    Rule('/target/<name>/erase', endpoint='erase', methods=GET + POST),
    Rule('/target/<name>/add', endpoint='add', methods=GET + POST),
    Rule('/api/session', endpoint='api_session', methods=GET),
    Rule('/api/target/<name>/torrents', endpoint='api_torrents', methods=GET),
    Rule('/api/target/<name>/torrent/<info_hash>', endpoint='api_torrent', methods=GET),
    Rule('/api/target/<name>/action', endpoint='api_action', methods=POST),
    Rule('/api/target/<name>/add', endpoint='api_add', methods=POST),
])
# The least role each endpoint needs (lib.auth.ROLES); PUBLIC: anyone, logged in or not.
# make_app refuses to start if an endpoint is missing here.  A route with <name> also
# answers 404 for a target the user may not see, exactly as for one that does not exist.
PUBLIC = None
ACCESS = {
    'login': PUBLIC,
    'logout': PUBLIC,
    'index': 'viewer',
    'target': 'viewer',
    'torrent': 'viewer',
    'metafile': 'viewer',               # reading a torrent's data is looking at it
    'download': 'viewer',
    'archive': 'viewer',
    'file_priorities': 'user',
    'trackers': 'user',
    'action': 'user',
    'erase': 'user',
    'api_session': 'viewer',
    'api_torrents': 'viewer',
    'api_torrent': 'viewer',
    'api_action': 'user',
    'add': 'user',
    'api_add': 'user',
}
# What an action's message says it did ('Stopped 3 torrents.').
DONE = {'start': 'Started', 'resume': 'Resumed', 'stop': 'Stopped', 'pause': 'Paused',
        'close': 'Closed', 'recheck': 'Started a hash check of', 'announce': 'Announced',
        'label': 'Set the label of', 'priority': 'Set the priority of',
        'directory': 'Set the download directory of', 'erase': 'Removed'}

log = logging.getLogger('pyrotorrent')
ENCODED_SEPARATOR = re.compile('%(2f|00)', re.I)   # a backslash is a plain character here
ANY_LABEL = '*'
MAX_PER_PAGE = 1000


def unguarded(routes):
    """The endpoints of a Map that have no ACCESS entry."""
    return sorted({rule.endpoint for rule in routes.iter_rules()} - set(ACCESS))


class PyroTorrent:
    def __init__(self, config):
        missing = unguarded(url_map)
        if missing:
            raise RuntimeError('no ACCESS entry for endpoint(s) %s' % ', '.join(missing))
        self.config = config
        self.throttle = auth.LoginThrottle()
        self.backends = {t.name: RTorrent(t, cache_seconds=config.CACHE_SECONDS) for t in config.targets}
        self.pool = ThreadPoolExecutor(max_workers=max(4, 2 * len(self.backends)))
        self.jinja = Environment(loader=FileSystemLoader(os.path.join(HERE, 'templates')),
                                 autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.jinja.filters.update(FILTERS)
        self.jinja.globals.update(static_url=config.STATIC_URL, columns=COLUMNS, descending_first=DESCENDING_FIRST,
                                  any_label=ANY_LABEL, csrf_field=auth.CSRF_FIELD,
                                  priorities=PRIORITIES, file_priorities=FILE_PRIORITIES,
                                  refresh_seconds=config.REFRESH_SECONDS,
                                  narrow_hidden=('label', 'added'))   # columns a phone does without

    # -- pages ------------------------------------------------------------------------

    def on_index(self, request):
        query = ListQuery(per_page=self.config.PAGE_SIZE)
        cards = self.each_backend(request, lambda backend: backend.torrent_list(query))
        return self.render('index.html', request, cards=cards)

    def on_login(self, request):
        next_url = _local_path(request.values.get('next'), request.script_root)
        if not self.config.users:
            return redirect(next_url, 303)
        if request.method != 'POST':
            return self.render('login.html', request, next_url=next_url)
        name, password = request.form.get('name', ''), request.form.get('password', '')
        keys = self.throttle.keys(name, request.remote_addr)
        wait = self.throttle.begin(keys)     # counted as a failure before the slow hash runs
        if wait > 0:
            response = self.render('login.html', request, status=429, next_url=next_url, name=name,
                                   problem='Too many failed logins for this name or from this address: '
                                           'try again in %d s.' % (wait + 0.999))
            response.headers['Retry-After'] = str(int(wait + 0.999))
            return response
        user = auth.check_login(self.config.users, name, password)
        if user is None:
            return self.render('login.html', request, status=401, next_url=next_url, name=name,
                               problem='That name and password do not match.')
        self.throttle.succeeded(keys)
        session = request.environ['beaker.session']
        session.invalidate()                # a new id: a session id planted before login is worth nothing
        session['user'], session['stamp'] = user.name, user.stamp()
        session.save()
        return redirect(next_url, 303)

    def on_logout(self, request):
        session = request.environ['beaker.session']
        session.delete()                    # the stored session is emptied and the cookie expires
        return redirect(request.script_root + ('/login' if self.config.users else '/'), 303)

    def on_api_session(self, request):
        user = request.user
        return self.json({'user': user.name or None, 'role': user.role,
                          'targets': self.visible_targets(user),
                          'csrf_token': auth.csrf_token(request.environ['beaker.session']),
                          'csrf_header': auth.CSRF_HEADER})

    def on_target(self, request, name, view='main'):
        backend = self.backend(name)
        listing = backend.torrent_list(self.list_query(request, view))
        return self.render('target.html', request, target=name, url=backend.url, listing=listing,
                           request_query=request.query_string.decode('latin-1'))

    def on_torrent(self, request, name, info_hash):
        backend = self.backend(name)
        header, detail = backend.torrent_detail(info_hash)
        return self.render('torrent.html', request, target=name, url=backend.url, header=header,
                           detail=detail, torrent=detail.torrent, tree=detail.tree,
                           here=request.script_root + request.path)

    def on_api_torrent(self, request, name, info_hash):
        header, detail = self.backend(name).torrent_detail(info_hash)
        data = dataclasses.asdict(detail)
        data['torrent'] = detail.torrent.as_dict()
        for key in ('local_directory', 'local_metafile'):       # the server's own paths stay on it
            data.pop(key)
        return self.json({'target': name, 'header': vars(header), 'torrent': data})

    # -- acting on torrents -------------------------------------------------------------

    def on_action(self, request, name):
        """One action on the selected torrents (the torrent page sends one hash, the list
        page many); back where the user was, with a message."""
        form = request.form
        action, hashes = form.get('action', ''), form.getlist('hash')
        back = self.back_to(request, form, name)
        if action == 'erase':
            return redirect('%s/target/%s/erase?%s' % (request.script_root, _quote(name), urlencode(
                [('hash', h) for h in hashes] + [('next', back)])), 303)
        if not hashes:
            self.tell(request, 'Select at least one torrent first; nothing was changed.', 'refused')
            return redirect(back, 303)
        results = self.run_action(self.backend(name), action, hashes, form)
        self.tell_results(request, action, results)
        return redirect(back, 303)

    def on_api_action(self, request, name):
        """The JSON twin of on_action (erase included, no confirmation page: a client
        that sends "erase" with "delete_data": true has said what it wants)."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get('hashes'), list):
            raise BadRequest('Send a JSON object like {"action": "stop", "hashes": ["<40 hex digits>"]}')
        action = body.get('action', '')
        if action == 'erase':
            results = self.backend(name).erase(body['hashes'], delete_data=body.get('delete_data') is True)
        else:
            values = MultiDict({k: str(v) for k, v in body.items() if k in ('label', 'priority', 'directory')})
            results = self.run_action(self.backend(name), action, body['hashes'], values)
        return self.json({'action': action, 'results': [
            dict(hash=r.hash, ok=r.ok, reason=r.reason,
                 **({'deleted': len(r.erased_data.deleted)} if r.erased_data else {})) for r in results]})

    def run_action(self, backend, action, hashes, values):
        """[ActionResult] of one action; BadRequest in words for a value it cannot take."""
        try:
            if action in backend.ACTIONS and action != 'erase':      # erase: on_erase, on_api_action
                return backend.act(action, hashes)
            if action == 'label':
                return backend.set_label(hashes, values.get('label', '').strip())
            if action == 'priority':
                return backend.set_priority(hashes, int(values.get('priority', '')))
            if action == 'directory':
                return backend.set_directory(hashes, values.get('directory', '').strip())
        except ValueError as exc:
            raise BadRequest('Cannot %s: %s. Nothing was changed.' % (action, exc)) from None
        raise BadRequest("There is no action '%s' (there are: %s, erase)" % (action, ', '.join(DONE)))

    def tell_results(self, request, action, results):
        done = [r for r in results if r.ok]
        if done:
            self.tell(request, '%s %s.' % (DONE[action], _torrents(len(done))))
        refused = [r for r in results if not r.ok]
        for result in refused[:5]:
            self.tell(request, result.reason, 'refused')
        if len(refused) > 5:
            self.tell(request, 'and %d more torrents were not changed either.' % (len(refused) - 5), 'refused')

    def on_erase(self, request, name):
        """GET: what will be removed, and the choice about its data; POST: do it."""
        backend = self.backend(name)
        values = request.form if request.method == 'POST' else request.args
        hashes = values.getlist('hash')
        back = self.back_to(request, values, name)
        if _is_torrent_page(back):          # the torrent page of a torrent about to be gone
            back = self.list_url(request, name)
        if request.method == 'GET':
            names = backend.names(hashes)
            return self.render('erase.html', request, target=name, names=names, next_url=back,
                               can_delete_data=backend.can_delete_data)
        data = values.get('data', 'keep')
        if data not in ('keep', 'delete') or (data == 'delete' and not backend.can_delete_data):
            raise BadRequest('data must be "keep" or, for a target with download_roots, "delete"')
        results = backend.erase(hashes, delete_data=data == 'delete')
        done = [r for r in results if r.ok]
        if done and data == 'delete':
            files = sum(len(r.erased_data.deleted) for r in done)
            self.tell(request, 'Removed %s from rTorrent and deleted %d file%s of their data.'
                      % (_torrents(len(done)), files, '' if files == 1 else 's'))
        elif done:
            self.tell(request, 'Removed %s from rTorrent; the data is still on disk.' % _torrents(len(done)))
        for result in [r for r in results if not r.ok or r.reason][:5]:
            self.tell(request, result.reason, 'refused')
        return redirect(back, 303)

    def on_file_priorities(self, request, name, info_hash):
        """Files chosen one by one ('file') or by folder ('folder': its file indexes)."""
        form = request.form
        indexes = set()
        for value in form.getlist('file') + [i for v in form.getlist('folder') for i in v.split(',')]:
            if not value.strip().isdigit():
                raise BadRequest("'%s' is not a file number" % value)
            indexes.add(int(value))
        back = request.script_root + '/target/%s/torrent/%s/#files' % (_quote(name), info_hash)
        if not indexes:
            self.tell(request, 'Select files or folders first; nothing was changed.', 'refused')
            return redirect(back, 303)
        priority = form.get('priority', '')
        if priority not in ('0', '1', '2'):
            raise BadRequest('priority must be 0 (off), 1 (normal) or 2 (high)')
        result = self.backend(name).set_file_priorities(info_hash, {i: int(priority) for i in indexes})
        if result.ok:
            self.tell(request, 'Set %d file%s to %s.' % (len(indexes), '' if len(indexes) == 1 else 's',
                                                         FILE_PRIORITIES[int(priority)]))
        else:
            self.tell(request, result.reason, 'refused')
        return redirect(back, 303)

    def on_trackers(self, request, name, info_hash):
        form = request.form
        index, enabled = form.get('tracker', ''), form.get('enabled', '')
        if not index.isdigit() or enabled not in ('0', '1'):
            raise BadRequest('tracker must be a tracker number and enabled 0 or 1')
        result = self.backend(name).set_tracker_enabled(info_hash, [int(index)], enabled == '1')
        self.tell(request, ('%s tracker %d.' % ('Enabled' if enabled == '1' else 'Disabled', int(index) + 1))
                  if result.ok else result.reason, 'done' if result.ok else 'refused')
        return redirect(request.script_root + '/target/%s/torrent/%s/#trackers' % (_quote(name), info_hash), 303)

    # -- downloads ----------------------------------------------------------------------

    def on_metafile(self, request, name, info_hash):
        _, detail = self.backend(name).torrent_detail(info_hash)
        if not detail.local_metafile:
            raise NotFound("pyroTorrent cannot see the session folder of rTorrent '%s', which holds "
                           "the .torrent of %s (give the target a path_map)" % (name, detail.torrent.hash))
        try:
            return download.metafile_response(request.environ, detail.local_metafile, detail.torrent.name)
        except PathNotFound as exc:
            raise NotFound("The .torrent of %s is not in rTorrent '%s''s session folder: %s"
                           % (detail.torrent.hash, name, exc)) from None

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
        local = self.data_folder(name, detail)
        try:
            resolved = resolve_inside(local, path)
        except PathNotFound as exc:
            raise NotFound("'%s' of torrent %s cannot be served: %s" % (path, detail.torrent.hash, exc)) from None
        return download.file_response(request.environ, resolved, file.name)

    def on_archive(self, request, name, info_hash):
        """The complete files of the torrent, or of one folder of it, as one streamed zip."""
        _, detail = self.backend(name).torrent_detail(info_hash)
        folder = request.args.get('folder', '').strip('/')
        files = [f for f in detail.files if not folder or f.path.startswith(folder + '/')]
        if not files:
            raise NotFound("Torrent %s has no folder '%s'" % (detail.torrent.hash, folder))
        complete = [f.path for f in files if f.progress >= 1.0]
        if not complete:
            raise NotFound('None of these files is complete yet: nothing to download.')
        entries = download.archive_entries(self.data_folder(name, detail), complete,
                                           prefix=detail.torrent.name if detail.multi_file else '')
        title = folder.rsplit('/', 1)[-1] if folder else detail.torrent.name
        return download.archive_response(entries, title)

    def data_folder(self, name, detail):
        if not detail.local_directory:
            raise NotFound("pyroTorrent cannot see the disk of rTorrent '%s' (give the target a "
                           "path_map in config.py)" % name)
        return detail.local_directory

    def list_url(self, request, name):
        return '%s/target/%s/' % (request.script_root, _quote(name))

    def back_to(self, request, values, name):
        """Where a form's POST returns: its 'next' (a path of this site only), else the list."""
        if values.get('next'):
            return _local_path(values.get('next'), request.script_root)
        return self.list_url(request, name)

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

    # -- adding torrents --------------------------------------------------------------

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

    def on_api_add(self, request, name):
        try:
            results = self.add(request, name)
        except ValueError as exc:
            return self.error(request, 400, 'Bad Request', str(exc), api=True)
        return self.json({'target': name, 'results': [
            dict(r.as_dict(), url=self.torrent_url(request, name, r)) for r in results]})

    def add(self, request, name):
        """[AddResult] for an add form or API call, one per file and link in the order sent;
        ValueError, with nothing added, for options that cannot be used or an empty batch."""
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
        options = self.add_options(fields, self.config.target(name))
        policy = fetch.Policy.from_config(self.config)
        items = [_upload_item(filename, data) for filename, data in files]
        items += fetch.fetch_metafiles(links, policy)     # side by side, on threads of this request's own
        results = self.backend(name).add_torrents(items, options)
        for result in results:          # the page and the API show the source apart
            if result.reason and result.source and result.reason.startswith(result.source + ': '):
                result.reason = result.reason[len(result.source) + 2:]
        return results

    @staticmethod
    def add_options(fields, target):
        """The AddOptions of a form or a JSON object; ValueError in words."""
        start = fields.get('start', True)
        if not isinstance(start, bool):
            if str(start).lower() not in YES_NO:
                raise ValueError("start must be yes or no, not '%s'" % start)
            start = YES_NO[str(start).lower()]
        priority = fields.get('priority', 'normal')
        names = {v: k for k, v in PRIORITIES.items()}
        if isinstance(priority, str) and priority.strip().lower() in names:
            priority = names[priority.strip().lower()]
        elif isinstance(priority, str) and priority.strip() in ('0', '1', '2', '3'):
            priority = int(priority)
        elif not isinstance(priority, int) or isinstance(priority, bool) or priority not in PRIORITIES:
            raise ValueError("the priority must be off, low, normal or high, not '%s'" % priority)
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
        return self.render('add.html', request, status=status, target=name, url=self.backend(name).url,
                           directories=self.config.target(name).add_directories, form=form,
                           priorities=PRIORITIES, **context)

    @staticmethod
    def torrent_url(request, name, result):
        if result.status == 'refused' or not result.info_hash:
            return None
        return '%s/target/%s/torrent/%s/' % (request.script_root, _quote(name), result.info_hash)

    # -- helpers ----------------------------------------------------------------------

    def backend(self, name):
        return self.backends[name]          # dispatch has checked the name (see ACCESS)

    def check_target(self, request, name):
        """404 for a target this user may not see, in the very words used for one that does
        not exist."""
        visible = self.visible_targets(request.user)
        if name not in visible:
            raise NotFound("There is no target named '%s' (you have: %s)" % (name, ', '.join(visible) or 'none'))

    def visible_targets(self, user):
        return [name for name in self.backends if user and user.may_see(name)]

    def each_backend(self, request, ask):
        """[(name, url, answer or BackendError)] for every target the user may see, asked
        concurrently."""
        def one(backend):
            try:
                return backend.name, backend.url, ask(backend)
            except BackendError as exc:
                return backend.name, backend.url, exc
        backends = [self.backends[name] for name in self.visible_targets(request.user)]
        if len(backends) <= 1:
            return [one(b) for b in backends]
        return list(self.pool.map(one, backends))

    def list_query(self, request, view):
        args = request.args
        sort = args.get('sort', 'name')
        if sort not in COLUMNS:
            raise BadRequest("Cannot sort by '%s'; choose one of: %s" % (sort, ', '.join(COLUMNS)))
        order = args.get('order', 'desc' if sort in DESCENDING_FIRST else 'asc')
        if order not in ('asc', 'desc'):
            raise BadRequest("order must be 'asc' or 'desc', not '%s'" % order)
        page = _whole_number(args, 'page', 1, 1, 10 ** 9)
        per_page = _whole_number(args, 'per_page', self.config.PAGE_SIZE, 1, MAX_PER_PAGE)
        label = args.get('label', ANY_LABEL)
        return ListQuery(view=view, sort=sort, reverse=order == 'desc', text=args.get('q', '').strip(),
                         label=None if label == ANY_LABEL else label, page=page, per_page=per_page)

    def render(self, template, request, status=200, **context):
        context.setdefault('target', None)
        user = getattr(request, 'user', None)
        session = request.environ.get('beaker.session')
        html = self.jinja.get_template(template).render(
            base_url=request.script_root, user=user, targets=self.visible_targets(user),
            open_access=self.open_access(), csrf_token=lambda: auth.csrf_token(session),
            messages=self.messages(request), **context)
        return Response(html, status=status, mimetype='text/html')

    @staticmethod
    def tell(request, text, kind='done'):
        """A message the next page shows once (after a POST, before its redirect)."""
        session = request.environ['beaker.session']
        session['messages'] = session.get('messages', []) + [[kind, text]]
        session.save()

    @staticmethod
    def messages(request):
        session = request.environ.get('beaker.session')
        if session is None or request.headers.get('X-Requested-With') == 'refresh' or 'messages' not in session:
            return []
        told = session.pop('messages')
        session.save()
        return told

    def open_access(self):
        """None with users; else 'local' (no users: loopback only) or 'off' (AUTH = False)."""
        if self.config.users:
            return None
        return 'off' if self.config.AUTH is False else 'local'

    @staticmethod
    def json(data, status=200):
        # <, > and & as \u escapes: the JSON stays inert even if something embeds it in HTML
        text = simplejson.dumps(data, ensure_ascii=False).replace('<', '\\u003c').replace(
            '>', '\\u003e').replace('&', '\\u0026')
        return Response(text, status=status, mimetype='application/json')

    def error(self, request, status, title, message, api, backend_error=None):
        """The error as JSON (under /api/) or as a page; a BackendError adds its target,
        url, problem and cause to both."""
        if api:
            details = backend_error.as_dict() if backend_error else {}
            return self.json({'error': dict(details, status=status, title=title, message=message)}, status)
        return self.render('error.html', request, status=status, title=title, message=message,
                           error=backend_error, target=backend_error.target if backend_error else None)

    # -- WSGI -------------------------------------------------------------------------

    def dispatch(self, request):
        adapter = url_map.bind_to_environ(request.environ)
        api = request.path.startswith('/api/')
        request.user = None
        try:
            endpoint, values = adapter.match()
            refused = self.authorize(request, endpoint, values, api)
            if refused is not None:
                return refused
            return getattr(self, 'on_' + endpoint)(request, **values)
        except BackendError as exc:
            return self.error(request, exc.status, "'%s' %s" % (exc.target, exc.problem), str(exc), api, exc)
        except NotFound as exc:
            return self.error(request, 404, 'Not Found', str(exc), api)
        except RequestEntityTooLarge:
            return self.error(request, 413, 'Too Large',
                              'This request is larger than the %s pyroTorrent takes in one '
                              '(MAX_UPLOAD_BYTES in config.py); nothing was added. Send fewer or '
                              'smaller files at a time.' % FILTERS['size'](self.config.MAX_UPLOAD_BYTES), api)
        except HTTPException as exc:
            if exc.code in (301, 302, 307, 308):
                return exc.get_response(request.environ)
            return self.error(request, exc.code, exc.name, exc.description, api)
        except Exception:           # a bug: the traceback goes to the log, never to the page
            log.exception('%s %s failed', request.method, request.full_path)
            return self.error(request, 500, 'Internal Server Error',
                              'pyroTorrent failed to build this page; the details are in its log.', api)

    def authorize(self, request, endpoint, values, api):
        """None if this request may go on, else the response that refuses it.  Every route
        passes here: who is asking, whether their role suffices, whether they may see the
        target, and a CSRF token for anything but GET."""
        session = request.environ['beaker.session']
        mode = self.open_access()
        if mode == 'local' and not (auth.is_local(request.remote_addr) and not _forwarded(request)):
            return self.error(request, 403, 'Forbidden',
                              'pyroTorrent has no users configured, so it answers only on this machine '
                              '(loopback). Declare users in config.py (see docs/security.rst), or set '
                              'AUTH = False to serve everyone without a login.', api)
        if mode:
            request.user = auth.NOBODY
        else:
            user = self.config.user(session.get('user'))
            if user is not None and session.get('stamp') == user.stamp():
                request.user = user
        if request.method not in ('GET', 'HEAD'):
            sent = request.headers.get(auth.CSRF_HEADER) or request.form.get(auth.CSRF_FIELD)
            if not auth.csrf_valid(session, sent):
                return self.error(request, 403, 'Forbidden',
                                  'This form has expired or did not come from pyroTorrent (its CSRF '
                                  'token is missing or wrong); nothing was changed. Reload the page and '
                                  'try again.', api)
        need = ACCESS[endpoint]
        if need is PUBLIC:
            return None
        if request.user is None:
            if api:
                return self.json({'error': {'status': 401, 'title': 'Unauthorized',
                                            'message': 'Log in first: POST name and password to %s/login'
                                                       % request.script_root}}, 401)
            here = request.full_path.rstrip('?')
            return redirect('%s/login?next=%s' % (request.script_root, _quote(request.script_root + here)), 303)
        if 'name' in values:
            self.check_target(request, values['name'])
        if not request.user.can(need):
            return self.error(request, 403, 'Forbidden', "Your account '%s' is a %s: it %s."
                              % (request.user.name, request.user.role, auth.ROLE_SAYS[request.user.role]), api)
        return None

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = self.config.MAX_UPLOAD_BYTES   # larger: 413, the body unread
        response = self.dispatch(request)
        for header, value in SECURITY_HEADERS:
            response.headers.setdefault(header, value)
        return response(environ, start_response)


# On every answer: no inline script or style, no framing, no MIME sniffing, no referrer
# leaving for other sites.
SECURITY_HEADERS = (
    ('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    ('X-Frame-Options', 'DENY'),
    ('X-Content-Type-Options', 'nosniff'),
    ('Referrer-Policy', 'same-origin'),
)


MAX_ADD_ITEMS = 200                     # files and links in one batch
YES_NO = {'1': True, 'yes': True, 'true': True, 'on': True, '0': False, 'no': False, 'false': False, 'off': False}


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


def _forwarded(request):
    """A proxy on this machine that forwards requests from elsewhere says so."""
    return any(h in request.headers for h in ('Forwarded', 'X-Forwarded-For', 'X-Real-IP'))


def _torrents(count):
    return '%d torrent%s' % (count, '' if count == 1 else 's')


TORRENT_PAGE = re.compile(r'/target/[^/?]+/torrent/')


def _is_torrent_page(path):
    return bool(TORRENT_PAGE.search(path))


def _quote(text):
    return quote(text, safe='/')


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
    parser.add_argument('command', nargs='?', choices=['passwd'],
                        help='passwd: ask for a password and print its hash, for users in config.py')
    args = parser.parse_args(argv)
    if args.command == 'passwd':
        return passwd()
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
    app = make_app(config)
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
