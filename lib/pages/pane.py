"""The list's detail pane (static/pane.js): one torrent's parts (general, files, peers,
trackers, history) as a fragment, from the same template as the torrent page's; the list
page renders it too when its URL names the open torrent (?open=HASH), so a reload and the
live refresh keep it, with or without JavaScript.
"""
import re

from lib.pages.base import Pages, local_path
from lib.web import expose
from model.clients.errors import NotFound
from model.clients.interface import ACTION_HELP, fitting_actions


HASH = re.compile('[0-9A-Fa-f]{40}')


def open_hash(args):
    """The torrent the list's URL keeps open (?open=), or None when it names none."""
    value = args.get('open', '')
    return value.upper() if HASH.fullmatch(value) else None


class Pane(Pages):
    """The detail pane beside the list."""

    @expose('/target/<name>/torrent/<info_hash>/pane', 'viewer')
    def on_pane(self, request, name, info_hash):
        back = local_path(request.args.get('next'), request.script_root)
        return self.target_page(request, 'torrent_pane.html', name, action_help=ACTION_HELP,
                                **pane_context(self.app, self.backend(name), request, info_hash, back))


def pane_context(app, backend, request, info_hash, back):
    """The pane's context: the torrent's parts, or pane_missing in words when it is gone."""
    name = backend.name
    here = '%s%sopen=%s' % (back, '&' if '?' in back else '?', info_hash.upper())   # the list with the pane open
    try:
        if app.is_refresh(request):        # one round trip, shared with the torrent page's viewers
            (header, detail), _ = app.single_flight.get((name, 'detail', info_hash.upper()),
                                                 lambda: backend.torrent_detail(info_hash), keep=app.live_keep)
        else:
            header, detail = backend.torrent_detail(info_hash)
    except NotFound:
        return {'pane_missing': "No torrent %s is in %s '%s' (any more)." % (info_hash.upper(), backend.client, name),
                'pane_back': back, 'pane_here': here, 'pane_hash': info_hash.upper()}
    return {'header': header, 'detail': detail, 'torrent': detail.torrent, 'tree': detail.tree,
            'pane_back': back, 'pane_here': here, 'pane_hash': detail.torrent.hash,
            'offered': fitting_actions(detail.torrent.state, backend.ACTIONS, detail.movable),
            'history': app.stats_history(name, detail.torrent.hash)}
