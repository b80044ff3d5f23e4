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


def tick(store, backend):
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
    return '; '.join(s for s in said if s) or None


def tasks_for(store, backends):
    """The worker's tasks for these backends ({name: Backend}), one a target."""
    return [Task('target %s' % name, lambda b=backend: tick(store, b)) for name, backend in backends.items()]
