"""Bytes moved (model/stats.py, sampled by the worker): a page per target and one across
all, the JSON and CSV of them, and /metrics for Prometheus.
"""
import dataclasses
import datetime
import io
import ipaddress
import logging
import time

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from lib import csvsafe
from lib.pages.base import Pages, chart_svg
from lib.store import StoreError
from lib.web import PUBLIC, expose, forwarded
from model import stats


log = logging.getLogger('pyrotorrent')


class Statistics(Pages):
    """Bytes moved (model/stats.py, sampled by the worker): a page per target and one across
    all, the JSON and CSV of them, and /metrics for Prometheus."""

    @expose('/stats/', 'viewer', endpoint='stats_all')
    @expose('/target/<name>/stats/', 'viewer', endpoint='stats')
    def on_stats(self, request, name=None):
        names = [name] if name else self.app.visible_targets(request.user)
        try:
            reader, now = self.app.stats_reader(), time.time()
        except StoreError as exc:
            return self.error(request, 503, 'No statistics yet', 'pyroTorrent keeps statistics in its store, '
                              'which the worker (python pyrotorrent.py worker) writes: %s.' % exc, False,
                              target=name)
        if self.app.is_refresh(request):    # the live parts alone, shared by their viewers
            context, _ = self.app.single_flight.get(('stats', tuple(names), bool(name)),
                                             lambda: self.stats_context(reader, names, name, now, live=True),
                                             keep=self.app.live_keep)
        else:
            context = self.stats_context(reader, names, name, now)
        if name:
            return self.target_page(request, 'stats/stats.html', name, chart_svg=chart_svg,
                                    glance=(context['charts'][0], context['summary']), **context)   # its own hour
        return self.render('stats/stats.html', request, chart_svg=chart_svg, **context)

    def stats_context(self, reader, names, name, now, live=False):
        """What the statistics page shows; live=True: only its live parts (the last sample,
        the totals, the cap, the targets' table, the last hour), what a refresh needs."""
        context = dict(charts=[reader.chart(names, r, now=now) for r in stats.RANGES if not live or r == 'hour'],
                       summary=reader.summary(names, now), cap=self.monthly_cap(names),
                       began=reader.began(names), sampled=reader.sampled(names), names=names,
                       tables={}, events=[], per_target=None)
        if not live:
            month = stats.month_start(now, reader.zone)
            context['tables'] = {kind: self.by_key(reader, names, kind, month) for kind in ('tracker', 'label')}
            context['events'] = reader.events(names, now - 31 * stats.DAY, now)[-20:]
        if not name:     # no per-torrent table: at 10,000 torrents it costs more than the rest (by=torrent)
            context['per_target'] = [(n, reader.summary([n], now)) for n in names]
        return context

    @expose('/api/stats', 'viewer', endpoint='api_stats_all')
    @expose('/api/target/<name>/stats', 'viewer')
    def on_api_stats(self, request, name=None):
        names, chart, by, rows = self.stats_query(request, name)
        reader = self.app.stats_reader()
        return self.json({
            'targets': names, 'range': chart.range, 'resolution': chart.resolution,
            'time_zone': str(reader.zone), 'start': chart.start, 'end': chart.end,
            'up': chart.up, 'down': chart.down, 'summary': reader.summary(names),
            'slots': [{'start': s.start, 'end': s.end, 'label': s.label, 'up': s.up, 'down': s.down,
                       'gap': s.gap, 'known': s.sampled} for s in chart.slots],
            'gaps': [dataclasses.asdict(e) for e in chart.gaps], 'by': by, 'rows': rows})

    @expose('/stats.csv', 'viewer', endpoint='stats_csv_all')
    @expose('/target/<name>/stats.csv', 'viewer')
    def on_stats_csv(self, request, name=None):
        names, chart, by, rows = self.stats_query(request, name)
        out = io.StringIO()
        writer = csvsafe.writer(out)      # no cell a spreadsheet would run as a formula
        if by:
            writer.writerow([by, 'name', 'down_bytes', 'up_bytes', 'removed'])
            for row in rows:
                writer.writerow([row['key'], row['name'], row['down'], row['up'], 'yes' if row['gone'] else ''])
        else:
            writer.writerow(['start', 'end', 'down_bytes', 'up_bytes', 'gap'])
            zone = self.app.stats_reader().zone
            for s in chart.slots:
                writer.writerow([_iso(s.start, zone), _iso(s.end, zone), s.down, s.up, 'yes' if s.gap else ''])
        filename = 'pyrotorrent-%s-%s%s.csv' % (name or 'all', chart.range, '-by-' + by if by else '')
        return Response(out.getvalue(), mimetype='text/csv',
                        headers={'Content-Disposition': 'attachment; filename="%s"' % filename})

    @expose('/metrics', PUBLIC)
    def on_metrics(self, request):
        """Prometheus counters; off unless METRICS lists networks, and only to those."""
        from model import metrics
        networks = self.app.config.METRICS
        if not networks:
            raise HTTPNotFound('/metrics is off: list the networks that may read it in METRICS (config.py)')
        try:
            address = ipaddress.ip_address(request.remote_addr or '')
        except ValueError:
            address = None
        if address is None or forwarded(request) or not any(
                address in ipaddress.ip_network(n, strict=False) for n in networks):
            return Response('/metrics answers only the networks in METRICS (config.py), directly (no proxy).\n',
                            status=403, mimetype='text/plain')
        body = metrics.exposition(self.app.stats_reader(), self.app.target_names, self.app.config.METRICS_TORRENTS)
        return Response(body, mimetype=metrics.CONTENT_TYPE_LATEST)

    def error(self, request, status, title, message, api, **context):
        return self.app.error(request, status, title, message, api, **context)

    def stats_query(self, request, name):
        """(targets, Chart, by, rows by key) of ?range=...&by=...; BadRequest in words."""
        names = [name] if name else self.app.visible_targets(request.user)
        range_name = request.args.get('range', 'day')
        if range_name not in stats.RANGES:
            raise BadRequest("range must be one of %s, not '%s'" % (', '.join(stats.RANGES), range_name))
        by = request.args.get('by') or None
        if by not in (None, 'tracker', 'label', 'torrent', 'target'):
            raise BadRequest("by must be tracker, label, torrent or target, not '%s'" % by)
        try:
            reader = self.app.stats_reader()
        except StoreError as exc:
            raise ServiceUnavailable('No statistics yet: %s (the worker writes them: python pyrotorrent.py worker)'
                                     % exc) from None
        chart = reader.chart(names, range_name)
        rows = None
        if by:
            resolution = chart.resolution if by != 'torrent' or chart.resolution != stats.MINUTE else stats.HOUR
            rows = reader.by_key(names, by, chart.start, chart.end, resolution)
        return names, chart, by, rows

    @staticmethod
    def by_key(reader, names, kind, month):
        """This month's and all time's bytes of each series of a kind, most this month first."""
        return reader.by_key_since(names, kind, month)

    def monthly_cap(self, names):
        """The data cap these targets' month counts against (STATS_MONTHLY_CAP), or None: one
        number is all targets together (shown across all, and on the page of a lone target)."""
        cap = self.app.config.STATS_MONTHLY_CAP
        if isinstance(cap, dict):
            caps = [cap[n] for n in names if n in cap]
            return sum(caps) if caps else None
        if cap and set(names) >= set(self.app.target_names):
            return cap
        return None


def _iso(timestamp, zone):
    return datetime.datetime.fromtimestamp(timestamp, zone).isoformat()
