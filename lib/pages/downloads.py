"""A torrent's .torrent, one of its files (with Range), a zip of it or of a folder.
"""
import logging
import re

from lib import download
from lib.pages.base import Pages
from lib.paths import PathNotFound
from lib.web import expose
from model.clients.errors import NotFound


log = logging.getLogger('pyrotorrent')


ENCODED_SEPARATOR = re.compile('%(2f|00)', re.I)   # a backslash is a plain character here


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
