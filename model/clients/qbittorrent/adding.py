"""Adding a batch of torrents to qBittorrent in three round trips (four to six with a
category), whatever the number: sync/maindata says which are there already ('present', left
alone), one torrents/add carries every .torrent as a file part and every magnet link in
`urls`, and sync/maindata reads back what each became.  qBittorrent adds asynchronously and
answers only "Ok." or "Fails." for the whole batch: the read-back is asked again, briefly,
until every item is listed (within the page's time for the target)."""
import time

from model.clients.errors import CommandFault
from model.clients.types import AddResult
from model.clients.qbittorrent.api import MAX_UPLOAD

READ_BACK_TRIES = 20
READ_BACK_WAIT = 0.1      # seconds between read-backs while it is still adding


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
        there = self.maindata()['torrents']
        send = []
        for i, item in todo:
            if item.info_hash in there:
                results[i] = AddResult('present', item.source, item.info_hash, there[item.info_hash]['name'])
            else:
                send.append((i, item))
        if not send:
            return results
        label = options.label.strip()
        fields = {'paused': 'false' if options.start else 'true'}
        if options.directory is not None:
            fields['savepath'] = options.directory
        if label:
            fields['category'] = label
            try:
                self.post('torrents/createCategory', category=label, savePath='')
            except CommandFault:        # 409: it has it already
                pass
        files = [('torrents', '%d.torrent' % i, item.raw) for i, item in send if item.kind == 'metafile']
        if sum(len(f[2]) for f in files) > MAX_UPLOAD:
            raise ValueError('these .torrent files are %d bytes together, more than the %d pyroTorrent sends '
                             '%s at once: add fewer at a time' % (sum(len(f[2]) for f in files), MAX_UPLOAD, self.client))
        links = [item.uri for _, item in send if item.kind != 'metafile']
        if links:
            fields['urls'] = '\n'.join(links)
        try:
            answer = self.post('torrents/add', files=files, **fields).strip()
        except CommandFault as exc:
            answer = exc.cause
        back = self._read_back([item.info_hash for _, item in send])
        for i, item in send:
            row = back.get(item.info_hash)
            known = dict(source=item.source, info_hash=item.info_hash)
            if row is None:
                results[i] = AddResult('refused', name=item.name or None, reason='%s did not take it (it answered %r)'
                                       % (self.client, answer[:80]), **known)
            else:
                results[i] = AddResult('added', name=item.name or row['name'], size=item.size,
                                       note=self._changed(row, options, label), **known)
        return results

    def _read_back(self, hashes):
        for attempt in range(READ_BACK_TRIES):
            found = self.maindata()['torrents']
            if all(h in found for h in hashes) or attempt == READ_BACK_TRIES - 1:
                break
            time.sleep(READ_BACK_WAIT)
        return {h: dict(found[h]) for h in hashes if h in found}

    def _changed(self, row, options, label):
        """None if the read-back shows every option asked for; else what changed, in words."""
        changes = []
        if label and row.get('category') != label:
            changes.append('the category to %s' % (row.get('category') or 'none'))
        if options.directory is not None and (row.get('save_path') or '').rstrip('/') != options.directory.rstrip('/'):
            changes.append('the download directory to %r' % row.get('save_path'))
        if not changes:
            return None
        return "%s's own configuration changed %s" % (self.client, ', '.join(changes))
