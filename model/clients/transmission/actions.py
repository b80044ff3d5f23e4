"""Actions on one torrent or many: two calls each, whatever the number (a torrent-get that
says which of the hashes Transmission has, then the one call that acts on all of them:
Transmission silently skips ids it does not know, so the first call is what lets every
hash get its own ActionResult)."""
from lib.erase import delete_files
from lib.metafile import is_info_hash
from lib.paths import inside_any
from model.clients.types import ActionResult
from model.clients.errors import CommandFault
from model.clients.transmission.rows import PRIORITIES, unique

# action -> the RPC method that does it to a list of ids
ACTIONS = {
    'start': 'torrent-start',
    'start_now': 'torrent-start-now',        # ahead of the queue
    'stop': 'torrent-stop',
    'recheck': 'torrent-verify',
    'announce': 'torrent-reannounce',
    'queue_top': 'queue-move-top',
    'queue_up': 'queue-move-up',
    'queue_down': 'queue-move-down',
    'queue_bottom': 'queue-move-bottom',
    'erase': 'torrent-remove',
}


class Actions:
    def act(self, action, hashes):
        if action not in ACTIONS:
            raise ValueError('unknown action %r (known: %s)' % (action, ', '.join(ACTIONS)))
        return self._run(hashes, lambda ids: self.call(ACTIONS[action], ids=ids))

    def set_label(self, hashes, label):
        """Transmission keeps several labels a torrent: the text is split at commas (a label
        cannot hold one, Transmission says), '' removes them all."""
        if not isinstance(label, str):
            raise ValueError('a label is text, not %r' % (label,))
        labels = list(dict.fromkeys(part.strip() for part in label.split(',') if part.strip()))
        return self._run(hashes, lambda ids: self.call('torrent-set', ids=ids, labels=labels))

    def set_priority(self, hashes, priority):
        if priority not in PRIORITIES or isinstance(priority, bool):
            raise ValueError('a priority is one of %s, not %r' % (PRIORITIES, priority))
        return self._run(hashes, lambda ids: self.call('torrent-set', ids=ids, bandwidthPriority=priority))

    def set_directory(self, hashes, directory):
        """torrent-set-location with move: Transmission moves the data there itself, in any state."""
        if not isinstance(directory, str) or not directory.startswith('/') or '\0' in directory:
            raise ValueError('a download directory is an absolute path, not %r' % (directory,))
        return self._run(hashes, lambda ids: self.call('torrent-set-location', ids=ids,
                                                      location=directory, move=True))

    def set_file_priorities(self, info_hash, priorities):
        """{file index: -1 low, 0 normal, 1 high}; the files are wanted again too (a priority
        chosen for a skipped file means: get it)."""
        priorities = dict(priorities or {})
        if not priorities or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                     and p in PRIORITIES and not isinstance(p, bool)
                                     for i, p in priorities.items()):
            raise ValueError('file priorities are {file index: one of %s}, not %r' % (PRIORITIES, priorities))
        # an empty list means "every file" to Transmission: only lists with something in them go
        arguments = {'files-wanted': sorted(priorities)}
        for value, word in PRIORITIES.items():
            chosen = sorted(i for i, p in priorities.items() if p == value)
            if chosen:
                arguments['priority-' + word] = chosen
        return self._files(info_hash, sorted(priorities), arguments)

    def set_files_wanted(self, info_hash, indexes, wanted):
        indexes = [indexes] if isinstance(indexes, int) else list(indexes or ())
        if not indexes or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes):
            raise ValueError('file indexes are whole numbers, not %r' % (indexes,))
        return self._files(info_hash, indexes, {'files-wanted' if wanted else 'files-unwanted': sorted(indexes)})

    def set_tracker_enabled(self, info_hash, indexes, enabled):
        return ActionResult(str(info_hash), False, '%s cannot disable or enable a tracker' % self.client)

    def _files(self, info_hash, indexes, arguments):
        counts = {}
        results = self._run([info_hash], lambda ids: self.call('torrent-set', ids=ids, **arguments),
                            fields=['priorities'], keep=counts, check=lambda row: (
                                None if max(indexes) < len(row['priorities']) else
                                '%s has %d files, none numbered %d' % (row['hashString'].upper(), len(row['priorities']),
                                                      max(indexes))))
        return results[0]

    def erase(self, hashes, delete_data=False):
        """torrent-remove.  With delete_data, the data goes too, deleted by pyroTorrent when it
        sees the target's disk and its download roots (lib.erase: only the torrent's own files,
        never through a symlink), else by Transmission itself (delete-local-data) -- then only
        for torrents inside the download roots when the target declares any."""
        if not delete_data:
            return self.act('erase', hashes)
        local_roots = self.paths.local_roots()
        remote_roots = self.paths.download_roots
        rows = {}

        def allowed(row):
            where = row['downloadDir'].rstrip('/') or '/'
            if local_roots:
                local = self.paths.to_local(where)
                if not local or not inside_any(local, local_roots):
                    return ('%s is in %s, outside the download roots (%s): its data is not deleted '
                            'and it stays in %s' % (row['hashString'].upper(), where,
                                                    ', '.join(remote_roots), self.client))
            elif remote_roots and not inside_any(where, remote_roots):
                return ('%s is in %s, outside the download roots (%s): its data is not deleted and '
                        'it stays in %s' % (row['hashString'].upper(), where, ', '.join(remote_roots), self.client))
            return None

        if not local_roots:
            return self._run(hashes, lambda ids: self.call('torrent-remove', ids=ids, **{'delete-local-data': True}),
                             fields=['downloadDir'], check=allowed)
        results = self._run(hashes, lambda ids: self.call('torrent-remove', ids=ids),
                            fields=['downloadDir', 'files'], check=allowed, keep=rows)
        for result in results:
            if result.ok:
                row = rows[result.hash]
                names = [f['name'] for f in row['files']]
                local = self.paths.to_local(row['downloadDir'].rstrip('/') or '/')
                multi = any('/' in n for n in names)
                top = names[0].split('/', 1)[0] if multi else ''
                if multi:   # its own folder, as lib.erase takes it
                    local, names = local + '/' + top, [n[len(top) + 1:] for n in names]
                result.erased_data = delete_files(local, names, local_roots, own_folder=multi)
                if not result.erased_data.ok:
                    result.reason = '; '.join('%s: %s' % s for s in result.erased_data.skipped)
        return results

    def _run(self, hashes, send, fields=(), check=None, keep=None):
        """ActionResults in the order given (a hash given twice counts once): one torrent-get
        of the given hashes (with `fields` more), `check(row)` -> None or why not for each,
        then send(ids) once for the rest.  keep: a dict that gets {hash: its row}."""
        order = unique(hashes)
        results = {}
        wanted = [h for h in order if is_info_hash(h)]
        for h in order:
            if h not in wanted:
                results[h] = ActionResult(h, False, "'%s' is not a torrent hash (40 hexadecimal digits)" % h)
        rows = {}
        if wanted:
            answer = self.call('torrent-get', ids=[h.lower() for h in wanted], fields=['hashString'] + list(fields))
            rows = {r['hashString'].upper(): r for r in self._table(answer, 'the selected torrents')}
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
                keep[h] = rows[h]
        if go:
            try:
                send([h.lower() for h in go])
            except CommandFault as exc:     # it said no, in its words: a refusal for each
                for h in go:
                    results[h] = ActionResult(h, False, "%s '%s' refused: %s" % (self.client, self.name, exc.cause))
                    keep is not None and keep.pop(h, None)
            else:
                for h in go:
                    results[h] = ActionResult(h, True)
        return [results[h] for h in order]
