"""Daylight saving with TIME_ZONE unset (issue 21, item 1): the zone the worker and the web
app take from the system must be the real zone, not the fixed offset of the day they
started, so a schedule's slot follows the wall clock across both changes of the year.

Each check runs in a fresh Python process with TZ=Europe/Berlin in its environment, the way
a worker started on a Berlin machine sees its zone."""
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UTC = datetime.timezone.utc


def utc(*fields):
    return datetime.datetime(*fields, tzinfo=UTC).timestamp()


# (unix time, the Berlin wall clock there: weekday, hour) on both sides of each change of 2026
INSTANTS = [
    (utc(2026, 3, 29, 0, 30), (6, 1)),      # 01:30 CET, spring forward at 02:00 ...
    (utc(2026, 3, 29, 1, 30), (6, 3)),      # ... 03:30 CEST
    (utc(2026, 7, 15, 12, 0), (2, 14)),     # a summer Wednesday, 14:00 CEST
    (utc(2026, 10, 25, 0, 30), (6, 2)),     # 02:30 CEST, fall back at 03:00 ...
    (utc(2026, 10, 25, 1, 30), (6, 2)),     # ... 02:30 CET, the repeated hour
    (utc(2026, 10, 26, 12, 0), (0, 13)),    # the Monday after, 13:00 CET
    (utc(2027, 1, 13, 12, 0), (2, 13)),     # a winter Wednesday, 13:00 CET
]

PROBE = r'''
import json, sys
sys.path.insert(0, %(root)r)
from lib import config
from model import schedule, stats
from pyrotorrent import make_app
instants = json.loads(sys.argv[1])
app = make_app(config.from_dict({'targets': {'box': {'url': 'scgi://127.0.0.1:1'}}, 'BASE_URL': ''})).pyrotorrent
grid = schedule.validate({'enabled': True, 'cell_minutes': 60, 'profiles': {'normal': {'kind': 'own'}},
                          'cells': ['normal'] * 168})
out = {}
for name, zone in (('worker', schedule.time_zone(None)), ('web', app.time_zone), ('stats', stats.time_zone(None))):
    out[name] = [schedule.in_force(grid, None, t, zone).cell for t in instants]
out['zone'] = str(app.time_zone)
print(json.dumps(out))
'''


def probe(tz):
    env = dict(os.environ, TZ=tz)
    env.pop('PYROTORRENT_CONFIG', None)
    done = subprocess.run([sys.executable, '-c', PROBE % {'root': ROOT}, json.dumps([t for t, _ in INSTANTS])],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_schedule_slot_follows_both_changes_with_the_system_zone():
    got = probe('Europe/Berlin')
    expected = [day * 24 + hour for _, (day, hour) in INSTANTS]
    assert got['worker'] == expected, 'the worker\'s zone: cells %s, not %s' % (got['worker'], expected)
    assert got['web'] == expected
    assert got['stats'] == expected
    assert got['zone'] == 'Europe/Berlin'          # the pages name the zone, not an offset


def test_tz_with_a_colon_is_the_same_zone():
    got = probe(':Europe/Berlin')
    assert got['worker'] == [day * 24 + hour for _, (day, hour) in INSTANTS]
