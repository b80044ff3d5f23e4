"""Where rtorrent's paths are on pyroTorrent's disk, and resolving a requested file safely.

rtorrent names paths as its own machine sees them.  pyroTorrent sees them:

- as they are, when the target is local: `local` set to True in its config, or, when
  unset, an scgi+unix:// URL or any URL whose host is a loopback address (127.0.0.0/8,
  ::1, localhost): the same machine;
- through the target's `path_map` ({rtorrent_prefix: local_prefix}, like a mount; the
  longest matching prefix wins, matched whole components), whether local or not;
- not at all otherwise (a remote target without a mapping, or a path outside every
  mapping of a remote target): to_local() gives None and pages offer no download and no
  delete-data choice.

Data may be deleted only inside the target's `download_roots` (rtorrent-side folders,
mapped like any path): see lib/erase.py.

resolve_inside() turns a requested relative path into a local file inside a base folder,
or raises PathNotFound (a 404 for handlers) for '..', '.', empty or absolute paths,
percent-encoded separators, NUL, and symlinks that lead out of the base.
"""
import ipaddress
import os
import urllib.parse

ENCODED_SEPARATORS = ('%2f', '%5c', '%00')


class PathNotFound(Exception):
    """A requested path that does not name a file pyroTorrent may serve (404)."""

    status = 404


def is_local_url(url):
    """True when the target runs on this machine: a unix socket, or a loopback host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == 'scgi+unix':
        return True
    host = (parts.hostname or '').lower()
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _under(path, prefix):
    """path relative to prefix ('' if equal), or None when path is not inside it."""
    if prefix == '/':
        return path.lstrip('/')
    if path == prefix:
        return ''
    if path.startswith(prefix + '/'):
        return path[len(prefix) + 1:]
    return None


class PathMap:
    """rtorrent-side paths to local ones for one target.

    PathMap.for_target(config_target), or PathMap(path_map_pairs, local, download_roots)."""

    def __init__(self, path_map=(), local=False, download_roots=(), add_directories=()):
        self.pairs = tuple(sorted(((_norm(r), _norm(l)) for r, l in path_map),
                                  key=lambda pair: -len(pair[0])))
        self.local = bool(local)
        self.download_roots = tuple(_norm(r) for r in download_roots)
        self.add_directories = tuple(_norm(r) for r in add_directories)

    @classmethod
    def for_target(cls, target):
        local = target.local if getattr(target, 'local', None) is not None else is_local_url(target.url)
        return cls(getattr(target, 'path_map', ()), local, getattr(target, 'download_roots', ()),
                   getattr(target, 'add_directories', ()))

    @classmethod
    def for_url(cls, url):
        return cls((), is_local_url(url), ())

    @property
    def visible(self):
        """Whether pyroTorrent can see any of the target's disk."""
        return self.local or bool(self.pairs)

    def to_local(self, path):
        """The local path of an rtorrent-side absolute path, or None if pyroTorrent cannot see it."""
        if not path or not path.startswith('/') or '\0' in path:
            return None
        path = _norm(path)
        for remote, local in self.pairs:
            rest = _under(path, remote)
            if rest is not None:
                return os.path.join(local, rest) if rest else local
        return path if self.local else None

    def local_roots(self):
        """The download roots pyroTorrent can see, as local paths."""
        return tuple(p for p in (self.to_local(r) for r in self.download_roots) if p)

    def served_roots(self):
        """The folders whose data may be downloaded, as local paths: the target's declared
        ones (download_roots and add_directories)."""
        return tuple(p for p in (self.to_local(r) for r in self.download_roots + self.add_directories) if p)

    @property
    def can_delete(self):
        """Whether a delete-data choice can be offered at all."""
        return bool(self.local_roots())


def free_bytes(path):
    """Bytes an unprivileged process may still write in the file system holding this local
    folder (os.statvfs: f_bavail blocks of f_frsize), or None when it cannot be asked."""
    try:
        found = os.statvfs(path)
    except (OSError, ValueError, TypeError):
        return None
    return found.f_bavail * found.f_frsize


def _norm(path):
    path = os.path.normpath(path)
    return '/' + path.lstrip('/') if path.startswith('//') else path


def components(relative):
    """The parts of a requested relative path ('a/b.txt' -> ['a', 'b.txt']), or PathNotFound."""
    if not isinstance(relative, str) or not relative:
        raise PathNotFound('no file named')
    if '\0' in relative:
        raise PathNotFound('a path cannot hold a NUL character')
    if relative.startswith('/'):
        raise PathNotFound("'%s' is an absolute path, not a file of the torrent" % relative)
    lowered = relative.lower()
    if any(code in lowered for code in ENCODED_SEPARATORS):
        raise PathNotFound("'%s' holds an encoded separator" % relative)
    parts = relative.split('/')
    for part in parts:
        if part in ('', '.', '..'):
            raise PathNotFound("'%s' is not a plain path inside the torrent (it holds %r)"
                               % (relative, part or '//'))
    return parts


def inside_any(path, roots):
    """Whether the absolute path `path` is one of the folders `roots` or below one, compared
    component by component (no file system access: for rtorrent-side paths too)."""
    path = path.rstrip('/') or '/'
    return any(path == root or path.startswith(root.rstrip('/') + '/') for root in roots)


def inside(path, base):
    """Whether the real path `path` is `base` or below it (both already real paths)."""
    try:
        return os.path.commonpath([path, base]) == base
    except ValueError:          # one relative, one absolute
        return False


def resolve_inside(base, relative, folder=False):
    """The real local path of `relative` (a path as a URL or f.path gives it) inside the
    local folder `base`: PathNotFound if it is malformed, missing, not a regular file (a
    folder when folder=True), or if a symlink along it leads out of base.  A symlink that
    stays inside base is followed.

    realpath-then-check: a symlink swapped in between the check and the open is not
    caught; lib/erase.py, which deletes, walks with O_NOFOLLOW instead."""
    if not base:
        raise PathNotFound('pyroTorrent cannot see this torrent\'s data')
    parts = components(relative)
    real_base = os.path.realpath(base)
    real = os.path.realpath(os.path.join(real_base, *parts))
    if not inside(real, real_base) or real == real_base:
        raise PathNotFound("'%s' leads outside the torrent's folder" % relative)
    if not (os.path.isdir(real) if folder else os.path.isfile(real)):
        raise PathNotFound("'%s' is not a %s of this torrent" % (relative, 'folder' if folder else 'file'))
    return real


def directory_inside(path, roots):
    """`path` normalised (no trailing '/') if it is one of the absolute folders `roots` or
    below one, compared whole component by component; ValueError in words otherwise.
    A path holding '', '.' or '..' components is refused, never resolved: it names a folder
    on rtorrent's side, which pyroTorrent may not see."""
    if not roots:
        raise ValueError('this target adds torrents into its default download directory only '
                         '(its configuration lists no add_directories)')
    if not isinstance(path, str) or not path.startswith('/'):
        raise ValueError("the download directory must be an absolute path (begin with '/'), not %r" % (path,))
    if '\0' in path:
        raise ValueError('the download directory cannot hold a NUL character')
    parts = path.rstrip('/').split('/')[1:]
    for part in parts:
        if part in ('', '.', '..'):
            raise ValueError("'%s' is not a plain path (it holds %r); give the folder itself"
                             % (path, part or '//'))
    clean = '/' + '/'.join(parts)
    if any(_under(clean, root) is not None for root in roots):
        return clean
    raise ValueError("'%s' is not inside the folders this target allows: %s" % (clean, ', '.join(roots)))
