"""The statistics as Prometheus counters (/metrics), read from the store at each scrape.

    pyrotorrent_transfer_bytes_total{target, direction}            direction: up | down
    pyrotorrent_tracker_transfer_bytes_total{target, tracker, direction}
    pyrotorrent_label_transfer_bytes_total{target, label, direction}
    pyrotorrent_torrent_transfer_bytes_total{target, torrent, direction}   (METRICS_TORRENTS only)
    pyrotorrent_stats_last_sample_timestamp_seconds{target}

Counters are the sums of the day buckets, which are kept forever: they never go down (a
removed torrent's bytes stay in its target, tracker and label).
"""
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

__all__ = ['CONTENT_TYPE_LATEST', 'exposition']
HELP = 'Payload bytes moved, from the deltas of the client\'s own totals, sampled by the pyroTorrent worker'


class StatsCollector:
    def __init__(self, reader, targets, torrents=False):
        self.reader, self.targets, self.torrents = reader, list(targets), torrents

    def collect(self):
        families = {
            'target': CounterMetricFamily('pyrotorrent_transfer_bytes', HELP, labels=['target', 'direction']),
            'tracker': CounterMetricFamily('pyrotorrent_tracker_transfer_bytes', HELP + ', by tracker domain',
                                           labels=['target', 'tracker', 'direction']),
            'label': CounterMetricFamily('pyrotorrent_label_transfer_bytes', HELP + ', by label',
                                         labels=['target', 'label', 'direction']),
        }
        kinds = ('target', 'tracker', 'label')
        if self.torrents:
            families['torrent'] = CounterMetricFamily('pyrotorrent_torrent_transfer_bytes', HELP + ', by torrent',
                                                      labels=['target', 'torrent', 'direction'])
            kinds += ('torrent',)
        for target, kind, key, up, down in self.reader.all_time(self.targets, kinds):
            names = [target] if kind == 'target' else [target, key]
            families[kind].add_metric(names + ['up'], up)
            families[kind].add_metric(names + ['down'], down)
        yield from families.values()
        last = GaugeMetricFamily('pyrotorrent_stats_last_sample_timestamp_seconds',
                                 'When the worker last sampled the target', labels=['target'])
        for target, at in sorted(self.reader.sampled(self.targets).items()):
            last.add_metric([target], at)
        yield last


def exposition(reader, targets, torrents=False):
    """The text format of every series, as bytes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(reader, targets, torrents))
    return generate_latest(registry)
