"""Every torrent's transfer totals in one round trip: what the worker's statistics sample.

system.pid and one d.multicall2 over 'main' in one system.multicall.  rtorrent 0.9.8 finds
a torrent by hash with a linear scan, so nothing here names a torrent: the view multicall
walks the list once.  Totals are d.up.total / d.down.total (payload, kept in the session),
never the rates (60-second moving averages) nor throttle.global_*.total (reset on
restart, protocol overhead included).
"""
import sys

from model.clients.types import TorrentTotals, TransferTotals
from model.clients.errors import BadAnswer, CommandFault
from model.clients.rtorrent import commands
from model.clients.rtorrent.connection import Fault

_PACKED = commands.packed(commands.TOTALS_FIELDS)


class Totals:
    def transfer_totals(self, details=False):
        fields = [_PACKED] + (list(commands.TOTALS_DETAILS) if details else [])
        pid, rows = self.multicall([(commands.SETTINGS['pid'], []),
                                    (self.view_multicall(), ['', 'main'] + fields)])
        for value in (pid, rows):
            if isinstance(value, Fault):
                raise CommandFault(self, '%s (fault %s)' % (value.text, value.code))
        torrents = []
        try:
            for i, row in enumerate(rows):
                rows[i] = None                  # the decoded answer goes as its totals are made
                r = self._unpack(row[:1], commands.TOTALS_FIELDS)[0]
                label = sys.intern(r['label'])
                if details:
                    torrents.append(TorrentTotals(r['hash'], r['up_total'], r['down_total'], label, r['added'],
                                                  row[2][0][0] if row[2] else '', row[1]))
                else:
                    torrents.append(TorrentTotals(r['hash'], r['up_total'], r['down_total'], label, r['added']))
        except (IndexError, TypeError) as exc:
            raise BadAnswer(self, 'the transfer totals came back malformed: %s' % exc) from None
        return TransferTotals(instance=pid, torrents=torrents, details=details)
