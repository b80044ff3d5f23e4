"""Actions on one torrent or many, each one batched round trip (set_directory and erase
with its data: two, the first reading what the second may touch)."""
from lib.erase import delete_files
from lib.metafile import is_info_hash
from model.clients.detail import FILE_PRIORITIES
from model.clients.types import ActionResult, PRIORITIES
from model.clients.rtorrent import commands
from model.clients.rtorrent.connection import Fault
from lib.paths import inside_any
from model.clients.rtorrent.rows import _unique


class Actions:
    # Each takes one hash or a list of them and returns [ActionResult] in the order given
    # (a hash given twice counts once): ok, or the reason in words.  A malformed hash is
    # refused without asking rtorrent.  Every value (label, directory, priority) travels
    # as an XML-RPC parameter, never inside a command.

    def act(self, action, hashes):
        """One of ACTIONS (start, resume, stop, pause, close, recheck, announce, erase) on
        every hash, in one round trip.  The module docstring says what each leaves."""
        if action not in commands.ACTIONS:
            raise ValueError('unknown action %r (known: %s)' % (action, ', '.join(commands.ACTIONS)))
        return self._run(hashes, lambda h: [(c, [h]) for c in commands.ACTIONS[action]])

    def set_label(self, hashes, label):
        """d.custom1 of every hash; '' removes the label.  Any text goes, verbatim."""
        if not isinstance(label, str):
            raise ValueError('a label is text, not %r' % (label,))
        return self._run(hashes, lambda h: [(commands.SETTERS['label'], [h, label])])

    def set_priority(self, hashes, priority):
        """Torrent priority: 0 off, 1 low, 2 normal, 3 high (rtorrent takes other numbers
        and stores something else: they are refused here)."""
        if priority not in PRIORITIES or isinstance(priority, bool):
            raise ValueError('a priority is one of %s, not %r' % (PRIORITIES, priority))
        return self._run(hashes, lambda h: [(commands.SETTERS['priority'], [h, priority]),
                                            (commands.SETTERS['update_priorities'], [h])])

    def set_directory(self, hashes, directory):
        """Where a torrent's data goes: the folder that holds its file or (multi-file) its
        folder, as rtorrent sees it.  Only for a torrent that is stopped and closed (0.9.8
        takes d.directory.set on an open torrent, closes it and leaves it unable to start);
        refused otherwise with the reason.  Two round trips: the states, then the change."""
        if not isinstance(directory, str) or not directory.startswith('/') or '\0' in directory:
            raise ValueError('a download directory is an absolute path, not %r' % (directory,))
        fields = ('started', 'open', 'active', 'hashing')
        branch, condition = commands.ROW[:2]
        states = {}
        results = self._run(hashes, lambda h: [(branch, [h, condition, commands.packed(fields), ''])],
                            keep=states)
        allowed = []
        for result in results:
            if result.ok:
                row = self._unpack(states[result.hash], fields, [result.hash])[0]
                busy = [word for field, word in (('started', 'started'), ('hashing', 'checking'),
                                                 ('open', 'open')) if row[field]]
                if busy:
                    result.ok = False
                    result.reason = ('%s is %s: stop and close it before changing its directory'
                                     % (result.hash, ' and '.join(busy)))
                else:
                    allowed.append(result.hash)
        setter = commands.SETTERS['directory']
        done = {r.hash: r for r in self._run(allowed, lambda h: [(setter, [h, directory])])} if allowed else {}
        return [done.get(r.hash, r) for r in results]

    def set_file_priorities(self, info_hash, priorities):
        """{file index: priority (0 off, 1 normal, 2 high)} for one torrent, then
        d.update_priorities so they take effect; one ActionResult.  A folder or a selection
        is the list of its file indexes (Folder.indexes)."""
        if not priorities or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                     and p in FILE_PRIORITIES and not isinstance(p, bool)
                                     for i, p in dict(priorities).items()):
            raise ValueError('file priorities are {file index: one of %s}, not %r' % (FILE_PRIORITIES, priorities))
        setter = commands.SETTERS['file_priority']
        return self._run([info_hash], lambda h: [(setter, ['%s:f%d' % (h, i), p]) for i, p in sorted(priorities.items())]
                         + [(commands.SETTERS['update_priorities'], [h])])[0]

    def set_tracker_enabled(self, info_hash, indexes, enabled):
        """Enable or disable the trackers at these indexes (Tracker.index) of one torrent."""
        if isinstance(indexes, int):
            indexes = [indexes]
        if not indexes or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes):
            raise ValueError('tracker indexes are whole numbers, not %r' % (indexes,))
        setter = commands.SETTERS['tracker_enabled']
        return self._run([info_hash], lambda h: [(setter, ['%s:t%d' % (h, i), int(bool(enabled))])
                                                 for i in indexes])[0]

    def erase(self, hashes, delete_data=False):
        """Remove torrents from rtorrent (d.stop, d.close, d.erase: files closed first), and
        with delete_data their data too, by lib.erase.delete_files: only their own files,
        only inside the target's download roots, never through a symlink.

        With delete_data, a first round trip reads each torrent's folder and files; a
        torrent whose data pyroTorrent cannot delete (no path mapping, outside every
        download root) is refused and stays in rtorrent.  Then one round trip erases the
        others, and only then their files are deleted (nothing writes to them any more).
        Each ok ActionResult of a delete carries the EraseReport in .erased_data."""
        if not delete_data:
            return self.act('erase', hashes)
        roots = self.paths.local_roots()
        if not roots:
            why = ('pyroTorrent cannot see its disk (give the target a path_map)' if not self.paths.visible
                   else 'the target declares no download_roots')
            return [ActionResult(h, False, "data of rTorrent '%s' cannot be deleted: %s" % (self.name, why))
                    for h in _unique(hashes)]
        fields = {}
        get_files = commands.MULTICALL['files'], commands.FILE['path'] + '='
        first = self._run(hashes, lambda h: [(commands.TORRENT['directory'], [h]),
                                             (commands.TORRENT['multi_file'], [h]),
                                             (get_files[0], [h, '', get_files[1]])], keep=fields)
        plans = {}
        for result in first:
            if not result.ok:
                continue
            directory, multi, files = fields[result.hash]
            local = self.paths.to_local(directory)
            if not local or not inside_any(local, roots):
                result.ok = False
                result.reason = ('%s is in %s, outside the download roots (%s): its data is not '
                                 'deleted and it stays in rTorrent' % (result.hash, directory,
                                                                      ', '.join(self.paths.download_roots)))
                continue
            plans[result.hash] = (local, [f[0] for f in files], bool(multi))
        erased = {r.hash: r for r in self.act('erase', list(plans))} if plans else {}
        results = []
        for result in first:
            if result.hash in erased:
                result = erased[result.hash]
                if result.ok:
                    local, files, multi = plans[result.hash]
                    result.erased_data = delete_files(local, files, roots, own_folder=multi)
                    if not result.erased_data.ok:
                        result.reason = '; '.join('%s: %s' % s for s in result.erased_data.skipped)
            results.append(result)
        return results

    def _run(self, hashes, calls_for, keep=None):
        """Send calls_for(hash) for every well-formed hash in one multicall; ActionResults
        in the order given.  keep: a dict that gets {hash: [answer of each call]}."""
        order = _unique(hashes)
        results, calls, spans = {}, [], []
        for h in order:
            if not is_info_hash(h):
                results[h] = ActionResult(h, False, "'%s' is not a torrent hash (40 hexadecimal digits)" % h)
                continue
            mine = calls_for(h)
            spans.append((h, len(calls), len(mine)))
            calls.extend(mine)
        answer = self.multicall(calls)
        for h, start, count in spans:
            slots = answer[start:start + count]
            fault = next((s for s in slots if isinstance(s, Fault)), None)
            if fault is None:
                results[h] = ActionResult(h, True)
            elif 'info-hash' in (fault.text or ''):
                results[h] = ActionResult(h, False, "%s '%s' has no torrent with hash %s" % (self.client, self.name, h))
            else:
                command, params = calls[start + slots.index(fault)]
                results[h] = ActionResult(h, False, '%s refused %s: %s (fault %s)'   # 'HASH:f9': which file
                                          % (command, params[0], fault.text, fault.code))
            if keep is not None:
                keep[h] = slots
        return [results[h] for h in order]
