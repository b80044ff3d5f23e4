"""What the worker does each tick, one Task a target (lib/worker.py runs them).

Each target's task asks the client which instance it is (rTorrent: system.pid, one tiny
round trip: all a tick costs the daemon when nothing changed).  A new one means the client
restarted: it is noted in the store ('state' values: instance, seen_at), and the desired
settings are applied again (model.settings.reapply_if_restarted).  A new task for every
target (statistics, schedules) is one more function called from tick().

Then schedules, rules and events (issue 13): one look at every torrent (Backend.snapshot),
the events it shows (model/events.py), the profile in force (model/schedule.py), the rules
(model/rules.py), and the new events handed to `notify` (the webhook's queue).  The first
tick of a worker process catches up: it applies the profile in force now even if the store
says it was applied, and the rules run once over what is there; events are kept by key, so
none fires twice.
"""
import logging
import time

from lib.worker import Task
from model import events, rules, schedule, settings

STATE = settings.STATE
log = logging.getLogger('pyrotorrent.worker')


def tick(store, backend, tz=None, notify=None, catch_up=False, now=None):
    """One tick for one target; what it did, in words, or None."""
    instance = backend.instance()
    said = []
    known = store.values(backend.name, STATE).get('instance')
    if known is not None and known.value != instance:
        said.append("%s '%s' restarted (instance %s, was %s)" % (backend.client, backend.name, instance, known.value))
    if backend.CAPABILITIES.settings_write:
        said.append(settings.reapply_if_restarted(store, backend, instance))
    said.extend(automate(store, backend, instance, tz=tz, notify=notify, catch_up=catch_up, now=now))
    if known is None or known.value != instance:        # noted last: the tick's work is done
        store.put_values(backend.name, STATE, {'instance': instance, 'seen_at': time.time()}, set_by='worker')
    return '; '.join(s for s in said if s) or None


def automate(store, backend, instance, tz=None, notify=None, catch_up=False, now=None):
    """Events, the schedule and the rules of one target, over one look at its torrents."""
    now = time.time() if now is None else now
    seen = backend.snapshot()
    new = events.look(store, backend, seen, instance, now)
    said = []
    if backend.CAPABILITIES.settings_write:
        words, done = schedule.tick(store, backend, seen, instance, now, tz, catch_up=catch_up)
        said.append(words)
        new += store.record(backend.name, done, now=now) if done else []
    words, done = rules.tick(store, backend, seen, new, now)
    said.append(words)
    new += store.record(backend.name, done, now=now) if done else []
    if notify is not None:
        for event in new:
            notify(event)
    return said


class TargetTask:
    """One target's tick; its first run catches up (see the module's docstring)."""

    def __init__(self, store, backend, tz=None, notify=None):
        self.store, self.backend, self.tz, self.notify = store, backend, tz, notify
        self.first = True

    def __call__(self):
        result = tick(self.store, self.backend, tz=self.tz, notify=self.notify, catch_up=self.first)
        self.first = False
        return result


def tasks_for(store, backends, tz=None, notify=None):
    """The worker's tasks for these backends ({name: Backend}), one a target; tz: the
    schedules' time zone (model.schedule.time_zone), notify(StoredEvent): the webhook's."""
    return [Task('target %s' % name, TargetTask(store, backend, tz, notify)) for name, backend in backends.items()]
