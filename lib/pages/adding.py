"""Adding torrents: uploads, direct links and magnet links, by the add page or the API,
with the form's and the JSON body's parsing.
"""
import base64
import binascii
import ipaddress
import logging
import typing

from lib import metafile, names, paths
from lib.pages.base import Pages, either
from lib.web import GET, POST, expose
from model.clients.types import AddOptions, Priority
from model.clients.errors import BackendError


log = logging.getLogger('pyrotorrent')


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
    from lib.fetch import FetchError  # loaded by the add that gave this result already
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
        from lib import fetch  # requests: loaded by the first add, never by the worker
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
        priority = fields.get('priority', Priority.NORMAL)
        by_word = {v: k for k, v in scale.items()}
        if isinstance(priority, str) and priority.strip().lower() in by_word:
            priority = by_word[priority.strip().lower()]
        elif isinstance(priority, str) and priority.strip() in [str(p) for p in scale]:
            priority = int(priority)
        elif not isinstance(priority, int) or isinstance(priority, bool) or priority not in scale:
            raise ValueError("the priority must be %s, not '%s'" % (either(scale.values()), priority))
        label = fields.get('label') or ''
        if not isinstance(label, str):
            raise ValueError('the label must be text')
        typed = fields.get('path')          # the form's "or a folder inside them", over its choice
        directory = typed.strip() if isinstance(typed, str) and typed.strip() else fields.get('directory')
        directory = directory or None
        if directory is not None:
            directory = paths.directory_inside(directory, target.add_directories)
        label = names.check('label', label, names.MAX_LABEL) if label.strip(' ') else ''
        return AddOptions(start=start, directory=directory, label=label, priority=priority,
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
