"""Every torrent's transfer totals (the worker's statistics) and the worker's snapshot
(schedules, rules, events), each in ONE torrent-get of every torrent (format "table").

Totals are uploadedEver / downloadedEver: payload bytes, kept in Transmission's resume
files (they survive a restart).  The instance is which run of the daemon answers (Queries.instance)."""
from model.clients.types import RUNNING, Seen, TorrentTotals, TransferTotals
from model.clients.errors import BadAnswer
from model.clients.transmission.rows import ratio, state

TOTALS_FIELDS = ['hashString', 'uploadedEver', 'downloadedEver', 'labels', 'addedDate']
TOTALS_DETAILS = ['name', 'trackers']
SNAPSHOT_FIELDS = ['hashString', 'name', 'labels', 'status', 'leftUntilDone', 'totalSize', 'haveValid',
                   'rateDownload', 'rateUpload', 'uploadRatio', 'doneDate', 'addedDate', 'error', 'errorString',
                   'trackers', 'bandwidthPriority', 'downloadedEver']

STARTED_FIELDS = ['hashString', 'status', 'leftUntilDone', 'totalSize', 'haveValid']


def _first(labels):
    return labels[0] if labels else ''


class Totals:
    def transfer_totals(self, details=False):
        fields = TOTALS_FIELDS + (TOTALS_DETAILS if details else [])
        rows = self._table(self.call('torrent-get', fields=fields, format='table'), 'the transfer totals')
        try:
            torrents = []
            for r in rows:
                more = {}
                if details:
                    trackers = sorted(r['trackers'] or [], key=lambda t: t.get('tier', 0))
                    more = {'tracker': trackers[0]['announce'] if trackers else '', 'name': r['name']}
                torrents.append(TorrentTotals(r['hashString'].upper(), r['uploadedEver'], r['downloadedEver'],
                                              _first(r['labels']), r['addedDate'], **more))
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise BadAnswer(self, 'the transfer totals came back malformed: %s' % exc) from None
        return TransferTotals(instance=self.instance(), torrents=torrents, details=details)

    def started_hashes(self, incomplete=False):
        """[hash] of the torrents downloading or seeding (incomplete: those not complete),
        from a torrent-get of five small fields (Transmission has no server-side filter by
        status; 'recently-active' misses a torrent started long after its last activity)."""
        rows = self._table(self.call('torrent-get', fields=STARTED_FIELDS, format='table'), 'the started torrents')
        try:
            return [r['hashString'].upper() for r in rows if state(r['status'], r['leftUntilDone']) in RUNNING
                    and not (incomplete and r['totalSize'] > 0 and r['haveValid'] >= r['totalSize'])]
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadAnswer(self, 'the started torrents: %s' % exc) from None

    def snapshot(self):
        """[Seen] of every torrent, in one call."""
        rows = self._table(self.call('torrent-get', fields=SNAPSHOT_FIELDS, format='table'), 'the snapshot')
        seen = []
        try:
            for r in rows:
                seen.append(Seen(
                    hash=r['hashString'].upper(), name=r['name'], label=_first(r['labels']),
                    state=state(r['status'], r['leftUntilDone']), size=r['totalSize'], completed=r['haveValid'],
                    down_rate=r['rateDownload'], up_rate=r['rateUpload'], ratio=ratio(r['uploadRatio']),
                    finished=r['doneDate'] or 0, added=r['addedDate'],
                    message=r['errorString'] if r['error'] else '',
                    trackers=tuple(t['announce'] for t in sorted(r['trackers'] or [], key=lambda t: t.get('tier', 0))),
                    priority=r['bandwidthPriority'], group='', downloaded=r['downloadedEver']))
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadAnswer(self, 'the torrents for the worker: %s' % exc) from None
        return seen
