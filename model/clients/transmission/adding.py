"""Adding a batch of torrents to Transmission.

Transmission's RPC adds one torrent a call (torrent-add), so a batch of N costs N + 2 or
N + 3 calls: one torrent-get says which are there already ('present', left alone), one
torrent-add each of the others, one torrent-set gives every added torrent the labels (RPC
16 takes no labels in torrent-add; 17 would), one torrent-get reads back what each got."""
import base64

from model.clients.types import AddResult
from model.clients.errors import CommandFault
from model.clients.transmission.rows import PRIORITIES


class Adding:
    def add_torrents(self, items, options):
        results = [None] * len(items)
        todo, first = [], {}
        for i, item in enumerate(items):
            if isinstance(item, BaseException):
                results[i] = AddResult('refused', source=getattr(item, 'source', '') or '', reason=str(item))
            elif item.info_hash in first:
                results[i] = AddResult('refused', item.source, item.info_hash, item.name or None,
                                       reason='the same torrent as item %d of this batch' % (first[item.info_hash] + 1))
            else:
                first[item.info_hash] = i
                todo.append((i, item))
        if not todo:
            return results
        labels = list(dict.fromkeys(p.strip() for p in options.label.split(',') if p.strip()))
        if options.priority not in PRIORITIES:
            raise ValueError('the priority must be one of %s for %s, not %r'
                             % (', '.join('%d (%s)' % kv for kv in PRIORITIES.items()), self.client, options.priority))

        there = {r['hashString'].upper(): r['name'] for r in self._table(self.call(
            'torrent-get', ids=[item.info_hash.lower() for _, item in todo], fields=['hashString', 'name']),
            'the torrents to add')}
        added = {}
        for i, item in todo:
            if item.info_hash in there:
                results[i] = AddResult('present', item.source, item.info_hash, there[item.info_hash])
                continue
            arguments = {'paused': not options.start, 'bandwidthPriority': options.priority}
            if item.kind == 'metafile':
                arguments['metainfo'] = base64.b64encode(item.raw).decode('ascii')
            else:
                arguments['filename'] = item.uri
            if options.directory is not None:
                arguments['download-dir'] = options.directory
            known = dict(source=item.source, info_hash=item.info_hash)
            try:
                answer = self.call('torrent-add', **arguments)
            except CommandFault as exc:
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='%s refused it: %s' % (self.client, exc.cause.split(': ', 1)[-1]), **known)
                continue
            made = answer.get('torrent-added') or answer.get('torrent-duplicate') or {}
            if 'torrent-duplicate' in answer:      # added by someone else since the first call
                results[i] = AddResult('present', name=made.get('name'), **known)
                continue
            added[item.info_hash] = (i, item)
        if not added:
            return results
        ids = [h.lower() for h in added]
        if labels:
            self.call('torrent-set', ids=ids, labels=labels)
        back = {r['hashString'].upper(): r for r in self._table(self.call(
            'torrent-get', ids=ids, fields=['hashString', 'name', 'downloadDir', 'labels', 'bandwidthPriority', 'status']),
            'the added torrents')}
        for info_hash, (i, item) in added.items():
            row = back.get(info_hash)
            known = dict(source=item.source, info_hash=info_hash)
            if row is None:
                results[i] = AddResult('refused', name=item.name or None,
                                       reason='%s did not keep it' % self.client, **known)
            else:
                results[i] = AddResult('added', name=item.name or row['name'], size=item.size,
                                       note=self._changed(row, options, labels), **known)
        return results

    def _changed(self, row, options, labels):
        """None if the read-back shows every option asked for; else what changed, in words."""
        changes = []
        if labels and list(row['labels']) != labels:
            changes.append('the labels to %s' % (', '.join(row['labels']) or 'none'))
        if options.directory is not None and row['downloadDir'].rstrip('/') != options.directory.rstrip('/'):
            changes.append('the download directory to %r' % row['downloadDir'])
        if row['bandwidthPriority'] != options.priority:
            changes.append('the priority to %s' % PRIORITIES.get(row['bandwidthPriority'], row['bandwidthPriority']))
        if not changes:
            return None
        return "%s's own configuration changed %s" % (self.client, ', '.join(changes))
