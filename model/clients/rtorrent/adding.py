"""Adding a batch of torrents in three round trips however many items."""
import time

from lib import xmlrpc
from lib.metafile import SCGI_BODY_LIMIT
from model.clients.types import AddResult, PRIORITIES
from model.clients.rtorrent import commands
from model.clients.rtorrent.connection import Fault, multicall_body

READ_BACK_PAUSES = (0.01, 0.04, 0.15, 0.3, 1.0)   # seconds; see Adding._read_back


class Adding:
    def add_torrents(self, items, options):
        """Add a batch of lib.metafile.Metafile / Magnet items (or exceptions, refused as they
        are) with one AddOptions; returns [AddResult], one per item, in order.

        Round trips, however many items: one asks d.name of every info-hash (a name: it is
        already there, 'present', left alone) and how large a request this rTorrent takes;
        one system.multicall sends every load (split only when the batch is larger than one
        request may be); one reads back the name, directory, label, priority and state of
        each (see _read_back).  A load that rtorrent silently dropped (load.raw* answers 0
        regardless, e.g. for a name holding "/") is 'refused: rTorrent did not accept it'.
        The options ride along as load's own extra commands (commands.ON_LOAD), so no torrent
        is ever listed without them; if the daemon's own configuration changes them right
        after, the result is 'added' with a note that says so (see _changed).

        ValueError, before anything is sent, for options rtorrent cannot be given safely
        (see commands.argument)."""
        option_commands = self._option_commands(options)
        results = [None] * len(items)
        todo, first = [], {}
        for i, item in enumerate(items):
            if isinstance(item, BaseException):
                results[i] = AddResult('refused', source=getattr(item, 'source', '') or '',
                                       reason=str(item))
            elif item.info_hash in first:
                results[i] = AddResult('refused', item.source, item.info_hash, item.name or None,
                                       reason='the same torrent as item %d of this batch'
                                       % (first[item.info_hash] + 1))
            else:
                first[item.info_hash] = i
                todo.append((i, item))
        if not todo:
            return results

        # Round trip 1: what is there already, and the request size this rTorrent takes.
        answer = self.multicall([(commands.REQUEST_LIMIT, [])] +
                                [(commands.TORRENT['name'], [item.info_hash]) for _, item in todo])
        limit = SCGI_BODY_LIMIT
        if isinstance(answer[0], int) and 0 < answer[0] < limit:
            limit = answer[0]
        loads = []
        for (i, item), name in zip(todo, answer[1:]):
            if not isinstance(name, Fault):
                results[i] = AddResult('present', item.source, item.info_hash, name)
                continue
            payload = xmlrpc.Binary(item.raw) if item.kind == 'metafile' else item.uri
            call = (commands.LOAD[item.kind, options.start], ['', payload] + option_commands)
            size = len(multicall_body([call]))
            if size > limit:
                results[i] = AddResult('refused', item.source, item.info_hash, item.name or None, reason=(
                    'as an XML-RPC request it is %s bytes, and rTorrent \'%s\' takes at most %s '
                    'bytes in one request (network.xmlrpc.size_limit, and 2,097,152 over SCGI)'
                    % ('{:,}'.format(size), self.name, '{:,}'.format(limit))))
                continue
            loads.append((i, item, call))
        if not loads:
            return results

        # Round trip 2: every load.  Round trip 3: what each made (see _read_back).
        answer = self.multicall([call for _, _, call in loads], limit=limit)
        faults = {item.info_hash: slot.text for (_, item, _), slot in zip(loads, answer)
                  if isinstance(slot, Fault)}
        answer = self._read_back([item.info_hash for _, item, _ in loads if item.info_hash not in faults])
        for i, item, _ in loads:
            fields = answer.get(item.info_hash)
            known = dict(source=item.source, info_hash=item.info_hash)
            if item.info_hash in faults:
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='rTorrent refused it: %s' % faults[item.info_hash], **known)
            elif fields is None:
                hint = (' (a magnet link without trackers needs DHT, which may be off)'
                        if item.kind == 'magnet' and not item.trackers else '')
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='rTorrent did not accept it' + hint, **known)
            else:
                results[i] = AddResult('added', name=item.name or fields['name'], size=item.size,
                                       note=self._changed(fields, options, item), **known)
        return results

    def _read_back(self, hashes):
        """{info_hash: {field: value} of commands.LOADED, or None if rtorrent lacks it}.

        rtorrent 0.9.8 answers load.raw* at once and creates the torrent a moment later in
        its main thread, while its SCGI thread may already answer the next request: measured
        here, 1 batch in 100 was not listed yet on the very next request, and was 1.6 ms
        later.  So a hash not there yet is asked again after growing pauses (READ_BACK_PAUSES,
        1.5 s in all) before it counts as dropped: one round trip unless that race happens,
        1.5 s more for a torrent rtorrent really dropped."""
        found, pending = {}, list(hashes)
        if not pending:
            return found
        for pause in (0,) + READ_BACK_PAUSES:
            if pause:
                time.sleep(pause)
            answer = self.multicall([(command, [info_hash]) for info_hash in pending
                                     for command in commands.LOADED.values()])
            width, missing = len(commands.LOADED), []
            for n, info_hash in enumerate(pending):
                values = answer[n * width:(n + 1) * width]
                if isinstance(values[0], Fault):
                    missing.append(info_hash)
                else:
                    found[info_hash] = dict(zip(commands.LOADED, values))
            pending = missing
            if not pending:
                break
        found.update(dict.fromkeys(pending))
        return found

    @staticmethod
    def _option_commands(options):
        """The load's extra commands for these options; ValueError for one that cannot be
        carried (commands.argument says which)."""
        wanted = [('label', options.label)] if options.label else []
        if options.directory is not None:
            wanted.append(('directory', options.directory))
        out = []
        for option, value in wanted:
            try:
                out.append('%s=%s' % (commands.ON_LOAD[option], commands.argument(value)))
            except ValueError as exc:
                raise ValueError('the %s %s' % ('download directory' if option == 'directory' else option,
                                                exc)) from None
        out.append('%s=%d' % (commands.ON_LOAD['priority'], options.priority))
        return out

    @staticmethod
    def _changed(fields, options, item):
        """None if the read-back shows every option asked for; else what rtorrent's own
        configuration made of them, in words.  The options were applied with the load, but
        an rc file may change them right after (measured: a method.set_key on
        event.download.inserted_new setting d.custom1 and d.directory wins over ours).
        The daemon's owner decided that, so the torrent stays; the user is told."""
        changes = []
        if options.label and fields['label'] != options.label:
            changes.append('the label to %r' % (fields['label'],))
        if options.directory is not None and not isinstance(fields['directory'], Fault):
            want = options.directory.rstrip('/') or '/'
            got = fields['directory'].rstrip('/') or '/'
            multi = item.kind == 'metafile' and len(item.files) > 1
            if got != want and not (multi and got == want.rstrip('/') + '/' + item.name):
                changes.append('the download directory to %r' % (fields['directory'],))
        if fields['priority'] != options.priority:
            changes.append('the priority to %s' % (PRIORITIES.get(fields['priority'], fields['priority']),))
        if fields['started'] != int(options.start):
            changes.append('it to %s' % ('started' if fields['started'] else 'stopped'))
        if not changes:
            return None
        return "rTorrent's own configuration changed %s" % ', '.join(changes)
