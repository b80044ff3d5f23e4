"""Deleting exactly a torrent's data, and nothing beside it.

delete_files(directory, files, roots, own_folder) removes:

- each of the torrent's own files (its f.path list, relative to `directory`), and only those;
- only when `directory` lies inside one of `roots` (the target's download roots, local);
- never through a symlink: every folder on the way is opened with O_NOFOLLOW relative to
  the one before (openat-style), so a folder swapped for a symlink stops the walk; a file
  that is a symlink is unlinked itself, its target is never touched;
- then the torrent's folders that are now empty (deepest first), and `directory` itself
  when `own_folder` (a multi-file torrent's own folder), never a root.

Everything else stays: a stray file in the torrent's folder keeps that folder.

Order with rtorrent (model/rtorrent.py erase): one round trip reads each torrent's folder
and file list (a torrent whose data may not be deleted is refused there and stays); a
second stops, closes (files closed, nothing written any more) and erases it; only then
are the files deleted here.  A failure to delete leaves data behind, never a torrent in
rtorrent pointing at missing files.
"""
import dataclasses
import errno
import os
import stat

from lib.paths import PathNotFound, components

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


@dataclasses.dataclass
class EraseReport:
    deleted: list = dataclasses.field(default_factory=list)        # local paths of files (or symlinks) removed
    removed_folders: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)        # (path, reason in words)

    @property
    def ok(self):
        return not self.skipped

    def as_dict(self):
        return dataclasses.asdict(self)


def root_of(directory, roots):
    """The root (as given) that holds `directory`, compared lexically on normalised paths,
    and the relative path from it ('' when equal); (None, None) if none does."""
    directory = os.path.normpath(directory)
    for root in roots:
        for form in dict.fromkeys((os.path.normpath(root), os.path.realpath(root))):
            if directory == form:
                return form, ''
            if directory.startswith(form.rstrip('/') + '/'):
                return form, directory[len(form.rstrip('/')) + 1:]
    return None, None


def _open_dir(parent_fd, name):
    return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)


def _walk(root, parts):
    """fds of root and of each folder in parts below it, none followed through a symlink.
    Raises OSError (ELOOP/ENOTDIR for a symlink) with the fds opened so far closed."""
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0))]
    try:
        for part in parts:
            fds.append(_open_dir(fds[-1], part))
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    return fds


def _why(exc):
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return 'a folder on its way is a symlink or not a folder: not followed'
    if exc.errno == errno.ENOENT:
        return 'does not exist'
    return exc.strerror or str(exc)


def delete_files(directory, files, roots, own_folder=False):
    """Delete a torrent's files; returns an EraseReport.  See the module's docstring.

    directory: the local folder the f.path entries are relative to (d.directory, mapped);
    files: the f.path of each file; roots: local download roots; own_folder: remove
    `directory` too once empty (a multi-file torrent's own folder)."""
    report = EraseReport()
    root, rel = root_of(directory, roots) if directory else (None, None)
    if root is None:
        report.skipped.append((directory, 'not inside a download root of this target (%s)'
                               % (', '.join(roots) or 'none declared')))
        return report
    dir_parts = rel.split('/') if rel else []
    if own_folder and not dir_parts:
        own_folder = False          # the root itself: never removed
    try:
        base_fds = _walk(root, dir_parts)
    except OSError as exc:
        report.skipped.append((directory, _why(exc)))
        return report
    folders = set()
    try:
        for relative in files:
            path = os.path.join(directory, relative)
            try:
                parts = components(relative)
            except PathNotFound as exc:
                report.skipped.append((path, str(exc)))
                continue
            try:
                fds = [base_fds[-1]] + _walk_from(base_fds[-1], parts[:-1])
            except OSError as exc:
                report.skipped.append((path, _why(exc)))
                continue
            try:
                st = os.lstat(parts[-1], dir_fd=fds[-1])
                if stat.S_ISDIR(st.st_mode):
                    report.skipped.append((path, 'is a folder, not a file'))
                else:
                    os.unlink(parts[-1], dir_fd=fds[-1])     # a symlink goes, its target stays
                    report.deleted.append(path)
            except OSError as exc:
                report.skipped.append((path, _why(exc)))
            finally:
                for fd in fds[1:]:
                    os.close(fd)
            for depth in range(1, len(parts)):
                folders.add(tuple(parts[:depth]))
        # now-empty folders of the torrent, deepest first; a folder with anything left stays
        for folder in sorted(folders, key=len, reverse=True):
            _remove_empty(base_fds[-1], folder, os.path.join(directory, *folder), report)
        if own_folder:
            _remove_empty(base_fds[-2], (dir_parts[-1],), directory, report)
    finally:
        for fd in base_fds:
            os.close(fd)
    return report


def _walk_from(fd, parts):
    fds = []
    try:
        for part in parts:
            fds.append(_open_dir(fds[-1] if fds else fd, part))
    except OSError:
        for opened in fds:
            os.close(opened)
        raise
    return fds


def _remove_empty(base_fd, parts, path, report):
    try:
        fds = _walk_from(base_fd, parts[:-1])
    except OSError:
        return
    try:
        parent = fds[-1] if fds else base_fd
        st = os.lstat(parts[-1], dir_fd=parent)
        if stat.S_ISDIR(st.st_mode):
            os.rmdir(parts[-1], dir_fd=parent)
            report.removed_folders.append(path)
    except OSError:
        pass            # not empty (something not the torrent's is in it), or gone
    finally:
        for fd in fds:
            os.close(fd)
