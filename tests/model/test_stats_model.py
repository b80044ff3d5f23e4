"""model/stats.py with an injected clock: baselines, deltas, restarts, counters going back,
gaps, removed torrents, retention, and sums that agree at every resolution across month
ends and daylight-saving changes.  The client is a stand-in holding totals (what a real
rtorrent gives is tests/test_stats_live.py's job)."""
import datetime
import random
import zoneinfo

import pytest

from lib.store import Store
from model.stats import DAY, HOUR, MINUTE, Policy, Reader, Sampler, bucket_start, month_start, \
    range_slots
from model.clients.trackers import tracker_name
from tests.fakes import Totals

BERLIN = zoneinfo.ZoneInfo('Europe/Berlin')


def at(*args, zone=BERLIN):
    return datetime.datetime(*args, tzinfo=zone).timestamp()


@pytest.fixture
def store(tmp_path):
    return Store.open(str(tmp_path / 'store.sqlite3'))


def sampler(store, zone=BERLIN, **policy):
    return Sampler(store, Policy(seconds=60, zone=zone, **policy))


def total(store, kind='target', key='', resolution=DAY, start=0, end=2 ** 62, zone=BERLIN, targets=('box',)):
    return Reader(store, zone).total(list(targets), kind, key, start, end, resolution)


def test_first_sight_is_a_baseline_then_deltas_go_to_target_tracker_label_and_torrent(store):
    box, s = Totals(), sampler(store)
    box.add('A' * 40, label='Linux', up=10 ** 9, down=5 * 10 ** 9)       # a lifetime we did not watch
    box.add('B' * 40, label='', tracker='udp://open.other.net:1337', down=7)
    t = at(2026, 3, 10, 12, 0, 30)
    assert 'baseline' in s.sample(box, now=t)
    assert total(store) == (0, 0)
    box.move('A' * 40, up=300, down=1000)
    box.move('B' * 40, down=50)
    s.sample(box, now=t + 60)
    assert total(store) == (300, 1050)
    assert total(store, 'tracker', 'example.org') == (300, 1000)
    assert total(store, 'tracker', 'other.net') == (0, 50)
    assert total(store, 'label', 'Linux') == (300, 1000) and total(store, 'label', '') == (0, 50)
    assert total(store, 'torrent', 'A' * 40) == (300, 1000)
    for resolution in (MINUTE, HOUR, DAY):
        assert total(store, resolution=resolution) == (300, 1050)
    assert total(store, 'torrent', 'A' * 40, MINUTE) == (0, 0)        # torrents keep no minutes
    assert box.calls == [True, False]          # details (trackers, names) only when needed
    assert s.sample(box, now=t + 90) is None and box.calls == [True, False]   # not due yet


def test_a_torrent_loaded_since_the_last_sample_counts_from_zero_an_old_one_does_not(store):
    box, s = Totals(), sampler(store)
    t = at(2026, 5, 1, 8)
    s.sample(box, now=t)
    box.add('C' * 40, label='new', down=4000, added=int(t) + 20)          # loaded after that sample
    box.add('D' * 40, label='old', down=9000, added=int(t) - 3600)        # e.g. appeared from elsewhere
    s.sample(box, now=t + 60)
    assert total(store, 'label', 'new') == (0, 4000)
    assert total(store, 'label', 'old') == (0, 0)
    assert box.calls == [True, False, True]    # a new hash: asked again with details


def test_a_restart_keeps_what_moved_and_a_counter_that_went_back_is_a_new_baseline(store):
    box, s = Totals(), sampler(store)
    box.add('A' * 40, label='x')
    t = at(2026, 6, 1, 10)
    s.sample(box, now=t)
    box.move('A' * 40, down=1000)
    s.sample(box, now=t + 60)
    # a clean restart: the session kept the totals, and 500 more moved since
    box.instance = 2
    box.move('A' * 40, down=500)
    assert 'restarted' in s.sample(box, now=t + 120)
    assert total(store) == (0, 1500)
    # a crash: the session was 20 minutes old, the total went back
    box.instance = 3
    box.torrents['A' * 40][1] = 200
    said = s.sample(box, now=t + 180)
    assert 'restarted' in said and 'counted less than before' in said
    assert total(store) == (0, 1500)
    box.move('A' * 40, down=100)
    s.sample(box, now=t + 240)
    assert total(store) == (0, 1600)
    kinds = [e.kind for e in Reader(store, BERLIN).events(['box'], 0, t + 1000)]
    assert sorted(kinds) == ['counter_back', 'restart', 'restart']


def test_a_gap_is_an_event_and_what_moved_in_it_is_counted_once_at_its_end(store):
    box, s = Totals(), sampler(store)
    box.add('A' * 40, label='x')
    t = at(2026, 6, 1, 10)
    s.sample(box, now=t)
    box.move('A' * 40, up=7, down=5000)
    # the worker was away for 20 minutes
    assert 'no sample for 1200 s' in s.sample(box, now=t + 1200)
    assert total(store) == (7, 5000)
    assert total(store, resolution=MINUTE, start=bucket_start(t + 1200, MINUTE, BERLIN)) == (7, 5000)
    chart = Reader(store, BERLIN).chart(['box'], 'hour', now=t + 1250)
    assert [e.kind for e in chart.gaps] == ['gap']
    assert sum(s.gap for s in chart.slots) == 20 and chart.down == 5000
    # a new sampler (a worker restarted) reads the store's state: nothing twice
    again = sampler(store)
    box.move('A' * 40, down=1)
    again.sample(box, now=t + 1260)
    assert total(store) == (7, 5001)


def test_a_removed_torrent_leaves_its_bytes_with_its_tracker_and_label(store):
    box, s = Totals(), sampler(store, torrent_days=30)
    box.add('A' * 40, label='gone soon')
    box.add('B' * 40, label='stays')
    t = at(2026, 7, 1, 10)
    s.sample(box, now=t)
    box.move('A' * 40, up=100)
    box.move('B' * 40, up=1)
    s.sample(box, now=t + 60)
    del box.torrents['A' * 40]
    s.sample(box, now=t + 120)
    reader = Reader(store, BERLIN)
    rows = {r['key']: r for r in reader.by_key(['box'], 'torrent')}
    assert rows['A' * 40]['gone'] and not rows['B' * 40]['gone'] and rows['A' * 40]['name'] == 'name of ' + 'A' * 40
    s.prune('box', now=t + 31 * DAY)
    assert 'A' * 40 not in {r['key'] for r in reader.by_key(['box'], 'torrent')}
    assert total(store, 'label', 'gone soon') == (100, 0)
    assert total(store, 'tracker', 'example.org') == (101, 0) == total(store)


def test_retention_drops_old_minutes_and_hours_and_keeps_days(store):
    box, s = Totals(), sampler(store)
    box.add('A' * 40)
    t = at(2026, 1, 1, 12)
    s.sample(box, now=t)
    box.move('A' * 40, down=10)
    s.sample(box, now=t + 60)
    s.prune('box', now=t + 3 * DAY)
    assert total(store, resolution=MINUTE) == (0, 0) and total(store, resolution=HOUR) == (0, 10)
    s.prune('box', now=t + 91 * DAY)
    assert total(store, resolution=HOUR) == (0, 0) and total(store, resolution=DAY) == (0, 10)


def run_traffic(store, zone, start, hours, seed=1, step=60):
    """Random traffic on three torrents sampled every `step` seconds for `hours`."""
    rng = random.Random(seed)
    box, s = Totals(), Sampler(store, Policy(seconds=step, zone=zone, keep={MINUTE: None, HOUR: None, DAY: None}))
    for h, label, tracker in (('A' * 40, 'a', 'http://t.one.org/a'), ('B' * 40, 'b', 'http://t.two.org/a'),
                              ('C' * 40, 'a', '')):
        box.add(h, label=label, tracker=tracker)
    t = start
    s.sample(box, now=t)
    while t < start + hours * HOUR:
        t += step
        for h in box.torrents:
            if rng.random() < 0.7:
                box.move(h, up=rng.randrange(10 ** 6), down=rng.randrange(10 ** 7))
        s.sample(box, now=t)
    return box


@pytest.mark.parametrize('zone_name, start, days', [
    ('Europe/Berlin', (2026, 3, 28, 12), 2),        # spring forward: 29 March has 23 hours
    ('Europe/Berlin', (2026, 10, 24, 12), 2),       # fall back: 25 October has 25 hours
    ('Asia/Kolkata', (2026, 1, 30, 20), 2),         # +5:30: local hours begin at :30 UTC
])
def test_sums_agree_at_every_resolution_across_daylight_saving_and_odd_offsets(tmp_path, zone_name, start, days):
    zone = zoneinfo.ZoneInfo(zone_name)
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    box = run_traffic(store, zone, at(*start, zone=zone), 24 * days + 12)
    moved = (sum(v[0] for v in box.torrents.values()), sum(v[1] for v in box.torrents.values()))
    assert total(store, zone=zone) == moved
    reader = Reader(store, zone)
    first = datetime.date(*start[:3]) + datetime.timedelta(days=1)
    for date in (first, first + datetime.timedelta(days=1)):
        a = reader_day = int(datetime.datetime(date.year, date.month, date.day, tzinfo=zone).timestamp())
        b = int(datetime.datetime.combine(date + datetime.timedelta(days=1), datetime.time(), zone).timestamp())
        sums = {r: total(store, resolution=r, start=a, end=b, zone=zone) for r in (MINUTE, HOUR, DAY)}
        assert sums[MINUTE] == sums[HOUR] == sums[DAY] != (0, 0)
        hours = len(reader.sums(['box'], 'target', '', HOUR, a, b))
        assert hours == (b - reader_day) // HOUR
        for kind, keys in (('tracker', ('one.org', 'two.org', '')), ('label', ('a', 'b'))):
            parts = [total(store, kind, k, HOUR, a, b, zone) for k in keys]
            assert (sum(p[0] for p in parts), sum(p[1] for p in parts)) == sums[HOUR]
    if start[1] == 3:
        assert (b - a) // HOUR in (24, 25) and any(
            (int(datetime.datetime.combine(d, datetime.time(), zone).timestamp()) -
             int(datetime.datetime.combine(d - datetime.timedelta(days=1), datetime.time(), zone).timestamp())) == 23 * HOUR
            for d in (first + datetime.timedelta(days=1),))


def test_a_month_is_its_local_days_and_the_year_chart_has_twelve(store):
    box, s = Totals(), sampler(store)
    box.add('A' * 40)
    t = at(2026, 1, 31, 23, 58, 30)
    s.sample(box, now=t)
    box.move('A' * 40, down=100)
    s.sample(box, now=t + 60)                  # 23:59:30 on 31 January
    box.move('A' * 40, down=1)
    s.sample(box, now=t + 120)                 # 00:00:30 on 1 February, Berlin time (23:00 UTC)
    reader = Reader(store, BERLIN)
    assert reader.summary(['box'], now=t + 130) == {'today': (0, 1), 'month': (0, 1), 'all': (0, 101)}
    jan = month_start(at(2026, 1, 15), BERLIN)
    assert total(store, start=jan, end=month_start(at(2026, 2, 15), BERLIN)) == (0, 100)
    chart = reader.chart(['box'], 'year', now=t + 130)
    assert len(chart.slots) == 12 and [s.down for s in chart.slots[-2:]] == [100, 1]
    assert datetime.datetime.fromtimestamp(chart.slots[0].start, BERLIN).date() == datetime.date(2025, 3, 1)
    for name, count in (('hour', 60), ('day', 24), ('week', 7), ('month', 30)):
        assert len(reader.chart(['box'], name, now=t + 130).slots) == count
    # the same bytes in a zone where both samples fall on 31 January
    utc = Reader(store, zoneinfo.ZoneInfo('UTC'))
    assert utc.total(['box'], start=at(2026, 1, 31, zone=zoneinfo.ZoneInfo('UTC')), resolution=HOUR) == (0, 101)


def test_range_slots_follow_local_midnights(store):
    resolution, spans = range_slots('week', at(2026, 3, 30, 12), BERLIN)
    lengths = [b - a for a, b in spans]
    assert resolution == DAY and lengths.count(23 * HOUR) == 1 and lengths.count(DAY) == 6


def test_tracker_names():
    assert tracker_name('http://tracker.example.org:6969/announce') == 'example.org'
    assert tracker_name('udp://tr2.example.org:80') == 'example.org'
    assert tracker_name('https://www.bt.example.co.uk/a?passkey=secret') == 'example.co.uk'
    assert tracker_name('http://127.0.0.1:6969/announce') == '127.0.0.1'
    assert tracker_name('') == '' and tracker_name('dht://') == ''


def test_targets_sum_on_the_overview(store):
    one, two, s = Totals('one'), Totals('two'), sampler(store)
    for box in (one, two):
        box.add('A' * 40, label='same')
    t = at(2026, 8, 1)
    s.sample(one, now=t)
    s.sample(two, now=t)
    one.move('A' * 40, up=1)
    two.move('A' * 40, up=2)
    s.sample(one, now=t + 60)
    s.sample(two, now=t + 60)
    assert total(store, targets=('one', 'two')) == (3, 0) == total(store, 'label', 'same', targets=('one', 'two'))
    assert total(store, targets=('two',)) == (2, 0)


def test_a_sampler_whose_worker_lost_its_lease_counts_nothing(store):
    """The statistics go through the worker's view of the store (lib.store.OnLease): once
    another worker holds the lease, this one's samples are refused and no byte is counted
    twice; the worker that holds it counts the bytes once."""
    from lib.store import LeaseLost, OnLease
    client = Totals()
    client.add('A' * 40, up=100, down=1000)
    now = at(2026, 3, 10, 12, 0)
    store.acquire_lease('worker', 'old', 'h', 1, 60)             # leases run on the store's own clock
    old = Sampler(OnLease(store, 'worker', 'old'), Policy(seconds=60, zone=BERLIN))
    old.sample(client, now=now)                                     # the baseline
    store.release_lease('worker', 'old')
    store.acquire_lease('worker', 'new', 'h', 2, 60)             # the new worker took over
    client.move('A' * 40, up=10, down=500)
    with pytest.raises(LeaseLost):
        old.sample(client, now=now + 60)
    assert total(store) == (0, 0)
    new = Sampler(OnLease(store, 'worker', 'new'), Policy(seconds=60, zone=BERLIN))
    new.sample(client, now=now + 60)
    assert total(store) == (10, 500)


def test_the_tables_by_tracker_and_label_add_the_kept_past_to_what_moved_since(store):
    """The month and all-time table: its settled past is summed once and kept by the Reader,
    yet a sample into the last day before the month, one after it, a new label and the
    next month all show at once, the same as summing every bucket."""
    box, s, reader = Totals(), sampler(store), Reader(store, BERLIN)
    box.add('A' * 40, label='Linux')
    box.add('B' * 40, label='BSD', tracker='udp://open.other.net:1337')
    t = at(2026, 1, 20, 12)
    s.sample(box, now=t)

    def moved(now, **by_hash):
        for h, (up, down) in by_hash.items():
            box.move(h * 40, up, down)
        s.sample(box, now=now)

    def table(kind, now):
        return {r['key']: (r['month_down'], r['down']) for r in reader.by_key_since(['box'], kind, month_start(now, BERLIN))}

    moved(t + 60, A=(1, 100), B=(0, 7))                       # January
    march = at(2026, 3, 5, 9)
    assert table('label', march) == {'Linux': (0, 100), 'BSD': (0, 7)}
    moved(at(2026, 2, 28, 23, 59), A=(0, 20))                  # the last day before March, sampled late
    assert table('label', march) == {'Linux': (0, 120), 'BSD': (0, 7)}
    moved(at(2026, 3, 1, 0, 1), A=(0, 3))
    box.add('C' * 40, label='new')
    moved(at(2026, 3, 2, 8), B=(0, 1))
    moved(at(2026, 3, 2, 8, 1), C=(0, 5))
    assert table('label', march) == {'Linux': (3, 123), 'BSD': (1, 8), 'new': (5, 5)}
    assert table('tracker', march) == {'example.org': (8, 128), 'other.net': (1, 8)}
    april = at(2026, 4, 2, 10)
    moved(april, A=(0, 1000))
    assert table('label', april) == {'Linux': (1000, 1123), 'BSD': (0, 8), 'new': (0, 5)}
    fresh = Reader(store, BERLIN)          # nothing kept: the same figures, from every bucket
    for kind in ('label', 'tracker'):
        assert fresh.by_key_since(['box'], kind, month_start(april, BERLIN)) == \
            reader.by_key_since(['box'], kind, month_start(april, BERLIN))
    rows = reader.by_key_since(['box'], 'label', month_start(april, BERLIN))
    assert [r['key'] for r in rows] == ['Linux', 'BSD', 'new']         # most this month, then all time
