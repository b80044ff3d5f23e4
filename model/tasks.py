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

Between those looks, each tick asks only what a paused or seed-only profile in force must
stop (model.schedule.quick_tick: rTorrent's 'started' or 'leeching' view, which then holds
only torrents started since), so a torrent added meanwhile is stopped within a tick, not
within EVENTS_SECONDS; a profile that changed makes the look at every torrent due at once.
"""
import logging
import time

from lib.worker import Task
from model import events, rules, schedule, settings
from model.clients.types import same_daemon_run

STATE = settings.STATE
log = logging.getLogger('pyrotorrent.worker')


def tick(store, backend, sampler=None, tick_seconds=0.0, tz=None, notify=None, catch_up=False, now=None,
         automate_now=True, looked=None, stalled_after=events.STALLED_AFTER):
    """One tick for one target; what it did, in words, or None.  `looked` (a list) gets True
    appended when the tick took the look at every torrent."""
    instance = backend.instance()
    said = []
    noted = store.values(backend.name, STATE).get('instance')
    if noted is not None and not same_daemon_run(noted.value, instance):
        said.append("%s '%s' restarted (instance %s, was %s)" % (backend.client, backend.name, instance, noted.value))
    if backend.CAPABILITIES.settings_write:
        said.append(settings.reapply_if_restarted(store, backend, instance))
    if sampler is not None:             # model/stats.py: samples only when its interval is due
        said.append(sampler.sample(backend, tick=tick_seconds, instance=instance))   # at once after a restart
    if not (automate_now or catch_up) and backend.CAPABILITIES.settings_write:
        words, done, automate_now = schedule.quick_tick(store, backend, now, tz)
        said.append(words)
        for event in store.record(backend.name, done, now=now) if done else []:
            if notify is not None:
                notify(event)
    if automate_now or catch_up:        # one look at every torrent: at its own interval
        said.extend(automate(store, backend, instance, tz=tz, notify=notify, catch_up=catch_up, now=now,
                             stalled_after=stalled_after))
        if looked is not None:
            looked.append(True)
    if noted is None or not same_daemon_run(noted.value, instance):        # noted last: the tick's work is done
        store.put_values(backend.name, STATE, {'instance': instance, 'seen_at': time.time()}, set_by='worker')
    return '; '.join(s for s in said if s) or None


def automate(store, backend, instance, tz=None, notify=None, catch_up=False, now=None,
             stalled_after=events.STALLED_AFTER):
    """Events, the schedule and the rules of one target, over one look at its torrents."""
    now = time.time() if now is None else now
    seen = backend.snapshot()
    new = events.look(store, backend, seen, instance, now, stalled_after=stalled_after)
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
    """One target's tick; its first run catches up (see the module's docstring).  The look
    at every torrent that events, schedules and rules need (a d.multicall2 over all of them:
    about 100 ms of rtorrent at 10,000 torrents) runs every automate_seconds, not every tick."""

    def __init__(self, store, backend, tz=None, notify=None, sampler=None, tick_seconds=0.0,
                 automate_seconds=0.0, clock=time.monotonic, stalled_after=events.STALLED_AFTER):
        self.store, self.backend, self.tz, self.notify = store, backend, tz, notify
        self.stalled_after = stalled_after
        self.sampler, self.tick_seconds, self.automate_seconds, self.clock = sampler, tick_seconds, automate_seconds, clock
        self.first, self.looked_at = True, None

    def __call__(self):
        now = self.clock()
        due = self.looked_at is None or now - self.looked_at >= self.automate_seconds
        looked = []
        result = tick(self.store, self.backend, self.sampler, self.tick_seconds, tz=self.tz, notify=self.notify,
                      catch_up=self.first, automate_now=due, looked=looked, stalled_after=self.stalled_after)
        self.first = False
        if looked:
            self.looked_at = now
        return result


def tasks_for(store, backends, stats=None, tick_seconds=0.0, tz=None, notify=None, automate_seconds=0.0,
              events_keep_days=events.KEEP_DAYS, stalled_after=events.STALLED_AFTER):
    """The worker's tasks for these backends ({name: Backend}), one a target; stats: a
    model.stats.Policy to keep transfer statistics by (None: none); tz: the schedules' time
    zone (model.schedule.time_zone); notify(StoredEvent): the webhook's; automate_seconds:
    how often events, schedules and rules look at every torrent; events_keep_days: how
    long events are kept (None: for ever), pruned at most once an hour; stalled_after: the
    seconds a download may receive nothing before it is 'stalled'."""
    from model.stats import Sampler
    sampler = Sampler(store, stats) if stats is not None else None
    return [Task('target %s' % name, TargetTask(store, backend, tz, notify, sampler, tick_seconds, automate_seconds,
                                                stalled_after=stalled_after))
            for name, backend in backends.items()] + [Task('events retention', events.Pruner(store, events_keep_days))]
