"""What the worker does each tick, one Task a target (lib/worker.py runs them).

Each target's task asks the client which instance it is (rTorrent: system.pid, one tiny
round trip: all a tick costs the daemon when nothing changed).  A new one means the client
restarted: it is noted in the store ('state' values: instance, seen_at), and the desired
settings are applied again (model.settings.reapply_if_restarted).  A new task for every
target (statistics, schedules) is one more function called from tick().
"""
import time

from lib.worker import Task
from model import settings

STATE = settings.STATE


def tick(store, backend, sampler=None, tick_seconds=0.0):
    """One tick for one target; what it did, in words, or None."""
    instance = backend.instance()
    said = []
    known = store.values(backend.name, STATE).get('instance')
    if known is None or known.value != instance:
        store.put_values(backend.name, STATE, {'instance': instance, 'seen_at': time.time()}, set_by='worker')
        if known is not None:
            said.append("%s '%s' restarted (instance %s, was %s)" % (backend.client, backend.name, instance, known.value))
    if backend.CAPABILITIES.settings_write:
        said.append(settings.reapply_if_restarted(store, backend, instance))
    if sampler is not None:             # model/stats.py: samples only when its interval is due
        said.append(sampler.sample(backend, tick=tick_seconds))
    return '; '.join(s for s in said if s) or None


def tasks_for(store, backends, stats=None, tick_seconds=0.0):
    """The worker's tasks for these backends ({name: Backend}), one a target; stats: a
    model.stats.Policy to keep transfer statistics by (None: none)."""
    from model.stats import Sampler
    sampler = Sampler(store, stats) if stats is not None else None
    return [Task('target %s' % name, lambda b=backend: tick(store, b, sampler, tick_seconds))
            for name, backend in backends.items()]
