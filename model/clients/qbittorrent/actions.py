"""Actions on one torrent or many: two round trips each, whatever the number (sync/maindata says
which of the hashes qBittorrent has, since it silently skips hashes it does not know, then the
one call that acts on all of them)."""
from lib.erase import delete_files
from lib.metafile import is_info_hash
from lib.paths import inside_any
from model.clients.errors import CommandFault
from model.clients.types import ActionResult
from model.clients.qbittorrent.rows import FILE_PRIORITIES, PRIORITIES, unique

# action -> (API method, its fields besides hashes).  Its "pause" closes the torrent's peers and
# files (4.x): what the others call stop; "resume" is start.
ACTIONS = {
    'start': ('torrents/resume', {}),
    'start_now': ('torrents/setForceStart', {'value': 'true'}),    # resumed ahead of the queue (a resume undoes it)
    'stop': ('torrents/pause', {}),
    'recheck': ('torrents/recheck', {}),
    'announce': ('torrents/reannounce', {}),
    'queue_top': ('torrents/topPrio', {}),
    'queue_up': ('torrents/increasePrio', {}),
    'queue_down': ('torrents/decreasePrio', {}),
    'queue_bottom': ('torrents/bottomPrio', {}),
    'erase': ('torrents/delete', {'deleteFiles': 'false'}),
}
MAX_CATEGORY = 255


def _joined(hashes):
    return '|'.join(h.lower() for h in hashes)


class Actions:
    def act(self, action, hashes):
        if action not in ACTIONS:
            raise ValueError('unknown action %r (known: %s)' % (action, ', '.join(ACTIONS)))
        method, fields = ACTIONS[action]
        return self._run(hashes, lambda go: self.post(method, hashes=_joined(go), **fields))

    def set_label(self, hashes, label):
        """Its category (one a torrent), made first when it has none of that name; '' removes it."""
        if not isinstance(label, str):
            raise ValueError('a label is text, not %r' % (label,))
        label = label.strip()
        if '\\' in label or label.startswith('/') or label.endswith('/') or '//' in label:
            raise ValueError('a qBittorrent category may not hold "\\", begin or end with "/" or hold "//": %r'
                             % label)

        def send(go):
            if label:
                try:
                    self.post('torrents/createCategory', category=label, savePath='')
                except CommandFault:    # 409: it has that category already
                    pass
            self.post('torrents/setCategory', hashes=_joined(go), category=label)
        return self._run(hashes, send)

    def set_priority(self, hashes, priority):
        if priority not in PRIORITIES or isinstance(priority, bool):
            raise ValueError('%s has no priority a torrent but %s, not %r' % (self.client, PRIORITIES, priority))
        return self._run(hashes, lambda go: None)

    def set_directory(self, hashes, directory):
        """torrents/setLocation: qBittorrent moves the data there itself, in any state."""
        if not isinstance(directory, str) or not directory.startswith('/') or '\0' in directory:
            raise ValueError('a download directory is an absolute path, not %r' % (directory,))
        return self._run(hashes, lambda go: self.post('torrents/setLocation', hashes=_joined(go), location=directory))

    def set_file_priorities(self, info_hash, priorities):
        """{file index: 0 skip, 1 normal, 6 high, 7 maximal}: one torrents/filePrio a priority given."""
        priorities = dict(priorities or {})
        if not priorities or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                     and p in FILE_PRIORITIES and not isinstance(p, bool)
                                     for i, p in priorities.items()):
            raise ValueError('file priorities are {file index: one of %s}, not %r' % (FILE_PRIORITIES, priorities))

        def send(go):
            for value in sorted(set(priorities.values())):
                chosen = sorted(i for i, p in priorities.items() if p == value)
                self.post('torrents/filePrio', hash=go[0].lower(), id='|'.join(map(str, chosen)), priority=value)
        return self._run([info_hash], send)[0]

    def set_files_wanted(self, info_hash, indexes, wanted):
        return ActionResult(str(info_hash), False, "%s skips a file by its priority 'skip'" % self.client)

    def set_tracker_enabled(self, info_hash, indexes, enabled):
        return ActionResult(str(info_hash), False, '%s cannot disable or enable a tracker' % self.client)

    def erase(self, hashes, delete_data=False):
        """torrents/delete.  With delete_data, the data goes too, by the rules Transmission's
        follow: deleted by pyroTorrent when it sees the target's disk and its download roots
        (lib.erase: only the torrent's own files, never through a symlink), else by qBittorrent
        itself (deleteFiles) -- then only for torrents inside the download roots when declared."""
        if not delete_data:
            return self.act('erase', hashes)
        local_roots = self.paths.local_roots()
        remote_roots = self.paths.download_roots

        def allowed(row):
            where = row['save_path'].rstrip('/') or '/'
            inside = None
            if local_roots:
                local = self.paths.to_local(where)
                inside = bool(local) and inside_any(local, local_roots)
            elif remote_roots:
                inside = inside_any(where, remote_roots)
            if inside is False:
                return ('%s is in %s, outside the download roots (%s): its data is not deleted and it stays in %s'
                        % (row['hash'].upper(), where, ', '.join(remote_roots), self.client))
            return None

        if not local_roots:
            return self._run(hashes, lambda go: self.post('torrents/delete', hashes=_joined(go), deleteFiles='true'),
                             check=allowed)
        rows, files = {}, {}

        def send(go):
            for h in go:        # its own file list, read before it is gone
                files[h] = [f['name'] for f in self.json('torrents/files', hash=h.lower())]
            self.post('torrents/delete', hashes=_joined(go), deleteFiles='false')
        results = self._run(hashes, send, check=allowed, keep=rows)
        for result in results:
            if result.ok:
                names = files[result.hash]
                local = self.paths.to_local(rows[result.hash]['save_path'].rstrip('/') or '/')
                multi = any('/' in n for n in names)
                top = names[0].split('/', 1)[0] if multi else ''
                if multi:
                    local, names = local + '/' + top, [n[len(top) + 1:] for n in names]
                result.erased_data = delete_files(local, names, local_roots, own_folder=multi)
                if not result.erased_data.ok:
                    result.reason = '; '.join('%s: %s' % s for s in result.erased_data.skipped)
        return results

    def _run(self, hashes, send, check=None, keep=None):
        """ActionResults in the order given (a hash given twice counts once): one sync/maindata
        says which it has, `check(row)` -> None or why not for each, then send(hashes) once."""
        order = unique(hashes)
        results = {}
        wanted = [h for h in order if is_info_hash(h)]
        for h in order:
            if h not in wanted:
                results[h] = ActionResult(h, False, "'%s' is not a torrent hash (40 hexadecimal digits)" % h)
        rows = self.maindata()['torrents'] if wanted else {}
        go = []
        for h in wanted:
            if h not in rows:
                results[h] = ActionResult(h, False, "%s '%s' has no torrent with hash %s" % (self.client, self.name, h))
                continue
            why = check(rows[h]) if check else None
            if why:
                results[h] = ActionResult(h, False, why)
                continue
            go.append(h)
            if keep is not None:
                keep[h] = dict(rows[h])
        if go:
            try:
                send(go)
            except CommandFault as exc:     # it said no, in its words: a refusal for each
                for h in go:
                    results[h] = ActionResult(h, False, "%s '%s' refused: %s" % (self.client, self.name, exc.cause))
                    keep is not None and keep.pop(h, None)
            else:
                for h in go:
                    results[h] = ActionResult(h, True)
        return [results[h] for h in order]
