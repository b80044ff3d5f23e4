"""A worker whose one task is a statistics sampler of the shape docs/scaling.rst asks of one:
it reads a running total (bytes moved, here a number in a file the test grows) and adds
what moved since its baseline, keeping the new baseline in the same transaction, through
the lease.  Run as a process: python tests/scale_sampler.py STORE_URL SOURCE_FILE TICK"""
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lib.store import Store  # noqa: E402
from lib.worker import Task, Worker  # noqa: E402

UPSERT = ("INSERT INTO target_value (target, kind, name, value, set_at, set_by) VALUES ('t', 'sample', ?, ?, ?, ?) "
          "ON CONFLICT (target, kind, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, "
          "set_by = excluded.set_by")


def sampler(on_lease, source):
    def sample():
        with open(source) as f:
            total = int(f.read() or 0)
        with on_lease.transaction() as tx:
            found = dict(tx.execute("SELECT name, value FROM target_value WHERE target = 't' AND kind = 'sample'"))
            baseline, counted = json.loads(found.get('baseline', '0')), json.loads(found.get('counted', '0'))
            time.sleep(0.05)            # a slow sampler: a kill may land inside the transaction
            for name, value in (('counted', counted + total - baseline), ('baseline', total)):
                tx.execute(UPSERT, (name, json.dumps(value), time.time(), str(os.getpid())))
        return 'moved %d' % (total - baseline) if total != baseline else None
    return [Task('sampler', sample)]


if __name__ == '__main__':
    logging.basicConfig(level=logging.INFO, format='%(asctime)s sampler: %(levelname)s %(message)s')
    url, source, tick = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sys.exit(Worker(Store.open(url), lambda on_lease: sampler(on_lease, source), tick).run())
