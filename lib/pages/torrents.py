"""One torrent in full, and every action on one torrent or many (the list's bulk bar,
the torrent page's buttons, removing with or without data, files' priorities, trackers).
"""
import dataclasses
import logging
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import redirect

from lib import paths
from lib.names import MAX_LABEL, check as check_name
from lib.pages.base import Pages, either, local_path, torrents_in_words
from lib.pages.lists import query_from
from lib.web import GET, POST, expose
from model.clients.interface import ACTION_HELP, fitting_actions
from model.clients.errors import BackendError


log = logging.getLogger('pyrotorrent')


# What an action's message says it did ('Stopped 3 torrents.').
DONE = {'start': 'Started', 'resume': 'Resumed', 'stop': 'Stopped', 'pause': 'Paused',
        'close': 'Closed', 'recheck': 'Started a hash check of', 'announce': 'Announced',
        'label': 'Set the label of', 'priority': 'Set the priority of',
        'directory': 'Set the download directory of', 'erase': 'Removed', 'group': 'Set the speed group of',
        'start_now': 'Started (ahead of the queue)', 'queue_top': 'Moved to the front of the queue',
        'queue_up': 'Moved up the queue', 'queue_down': 'Moved down the queue',
        'queue_bottom': 'Moved to the end of the queue', 'unlabel': 'Removed the label of'}
MATCHING_MAX = 10 ** 6     # "all matching": every one of them, on one page of the server's own
VALUE_ACTIONS = ('label', 'priority', 'directory', 'group')   # actions that take a value from the form
class Torrents(Pages):
    """One torrent in full, and every action on one torrent or many."""

    @expose('/target/<name>/torrent/<info_hash>/', 'viewer')
    def on_torrent(self, request, name, info_hash):
        backend = self.backend(name)
        if self.app.is_refresh(request):    # one round trip, shared by its viewers
            (header, detail), _ = self.app.single_flight.get((name, 'detail', info_hash.upper()),
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
        if form.get('matching') and action:      # every torrent the list's filter matches, on every page
            hashes = self.matching(request, name, form)
            if hashes is None:
                return redirect(back, 303)
            if action == 'erase':       # the confirmation page finds them again (a URL is too short for 10,000)
                return redirect(self.url_for(request, 'erase', name=name, matching=form['matching'],
                                             matching_count=form.get('matching_count'), next=back), 303)
        if action == 'erase':
            return redirect(self.url_for(request, 'erase', name=name, hash=hashes, next=back), 303)
        if not hashes or not action:
            self.tell(request, 'Choose what to do with the selected torrents first; nothing was changed.'
                      if hashes else 'Select at least one torrent first; nothing was changed.', 'refused')
            return redirect(back, 303)
        results = self.run_action(self.backend(name), action, hashes, form)
        self.tell_results(request, name, action, results)
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

    def matching(self, request, name, values):
        """The hashes of every torrent the list's filter (`matching`: its query) matches now,
        in one round trip; None, with a message, when their count is not the one the user
        confirmed (`matching_count`): the set changed meanwhile, nothing is done."""
        try:
            args = MultiDict(parse_qsl(values.get('matching', ''), max_num_fields=50))
        except ValueError:
            raise BadRequest("'matching' holds a list page's filter (its URL's query), with at most 50 fields") from None
        query = dataclasses.replace(query_from(args, args.get('view', 'main'), 1), page=1, per_page=MATCHING_MAX)
        listing = self.backend(name).torrent_list(query)
        confirmed = values.get('matching_count', '')
        if not confirmed.isdigit() or int(confirmed) != listing.total:
            self.tell(request, 'The filter matches %s now, not the %s you confirmed: the list changed meanwhile. '
                      'Nothing was changed; look at the list again and choose once more.'
                      % (torrents_in_words(listing.total), confirmed or 'number'), 'refused')
            return None
        return [t.hash for t in listing.torrents]

    def run_action(self, backend, action, hashes, values):
        """[ActionResult] of one action; BadRequest in words for a value it cannot take."""
        self.app.idle_rows.forget(backend.name, hashes)      # their rows are asked again, not kept
        try:
            if action in backend.ACTIONS and action != 'erase':      # erase: on_erase, on_api_action
                return backend.act(action, hashes)
            if action == 'label':
                label = values.get('label', '')
                if not label.strip(' '):       # removing takes its own choice: an empty box is a slip
                    raise ValueError("the label box is empty; to take labels away choose 'remove label'")
                return backend.set_label(hashes, check_name('label', label, MAX_LABEL))
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
        actions = [a for a in backend.ACTIONS] + [a for a in VALUE_ACTIONS + ('unlabel',) if a not in backend.ACTIONS]
        raise BadRequest("There is no action '%s' (there are: %s)" % (action, ', '.join(actions)))

    def tell_results(self, request, name, action, results):
        """The words of an action's answer, naming the torrents ("Stopped 'a.iso' and 9 more."),
        their names asked in one round trip (the first done and the refused ones shown)."""
        done = [r for r in results if r.ok]
        refused = [r for r in results if not r.ok]
        names = self.names_of(name, [r.hash for r in done[:1] + refused[:5]])
        if done:
            self.tell(request, '%s %s.' % (DONE[action], named(names, done[0].hash, len(done))))
        for result in [r for r in done if r.reason][:5]:        # what else was done (a restart around it)
            self.tell(request, result.reason)
        for result in refused[:5]:
            if names.get(result.hash.upper()) is None:
                self.tell(request, 'A selected torrent is no longer on %s (removed meanwhile?); reload the list '
                          'and choose again.' % name, 'refused')
            else:
                self.tell(request, "'%s' was not changed: %s" % (names[result.hash.upper()], result.reason), 'refused')
        if len(refused) > 5:
            self.tell(request, 'and %d more torrents were not changed either.' % (len(refused) - 5), 'refused')

    def names_of(self, name, hashes):
        """{HASH: name or None}; {} when the client cannot say (the words fall back to counts)."""
        try:
            return {h.upper(): n for h, n in self.backend(name).names(hashes).items()} if hashes else {}
        except (BackendError, NotImplementedError) as exc:
            log.warning('the names of %d torrents of %s: %s', len(hashes), name, exc)
            return {}

    @expose('/target/<name>/erase', 'user', GET + POST)
    def on_erase(self, request, name):
        """GET: what will be removed, and the choice about its data; POST: do it."""
        backend = self.backend(name)
        values = request.form if request.method == 'POST' else request.args
        hashes = values.getlist('hash')
        back = self.back_to(request, values, name)
        if request.method == 'GET' and values.get('matching'):
            hashes = self.matching(request, name, values)
            if hashes is None:
                return redirect(back, 303)
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
        names = self.names_of(name, hashes[:1])     # asked before: a removed torrent has no name
        results = backend.erase(hashes, delete_data=data == 'delete')
        done = [r for r in results if r.ok]
        what = named(names, done[0].hash, len(done)) if done else ''
        if done and data == 'delete' and any(r.erased_data is None for r in done):   # the client deleted it
            self.tell(request, 'Removed %s from %s, which deleted their data itself.'
                      % (what, backend.client))
        elif done and data == 'delete':
            files = sum(len(r.erased_data.deleted) for r in done)
            self.tell(request, 'Removed %s from %s and deleted %d file%s of their data.'
                      % (what, backend.client, files, '' if files == 1 else 's'))
        elif done:
            self.tell(request, 'Removed %s from %s; the data is still on disk.' % (what, backend.client))
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
        back = (local_path(form['next'], request.script_root) if form.get('next')    # the list's pane
                else self.url_for(request, 'torrent', name=name, info_hash=info_hash) + '#files')
        if not indexes:
            self.tell(request, 'Select files or folders first; nothing was changed.', 'refused')
            return redirect(back, 303)
        priority = form.get('priority', '')
        skip = priority == 'skip' and backend.CAPABILITIES.file_wanted   # a flag apart from the priority
        if not skip and priority not in [str(p) for p in scale]:
            raise BadRequest('priority must be %s' % either(['%d (%s)' % kv for kv in scale.items()]
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
        return redirect(local_path(form['next'], request.script_root) if form.get('next')
                        else self.url_for(request, 'torrent', name=name, info_hash=info_hash) + '#trackers', 303)


def named(names, first, count):
    """"'debian-12.iso' and 9 more" (the first torrent by its name), else '10 torrents'."""
    shown = names.get(first.upper())
    if shown is None:
        return torrents_in_words(count)
    return "'%s'" % shown + (' and %d more' % (count - 1) if count > 1 else '')
