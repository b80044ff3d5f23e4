"""What happened on a target, found by comparing what the worker sees each tick with what
it saw the tick before (kept in the store, so a restart of the worker or the client loses
nothing and repeats nothing).

    added          a torrent the last look did not have
    finished       a torrent complete now that was not at the last look
    removed        a torrent the last look had and this one does not
    stalled        downloading with nothing coming in for STALLED_SECONDS (config; 300 s by default)
    tracker_error  the tracker's message appeared or changed
    restarted      the client is another instance (rTorrent: another process id)

Each event has a key that says what it is about (the torrent, the instant it finished, the
instance...): the store keeps an event once per key, and the new look is kept in the same
transaction as the events it caused, so an event is never fired twice, even when the worker
comes back after hours.  The first look at a target only learns what is there.

Besides these the worker records what it did: 'schedule' (a profile applied, torrents
stopped or started) and 'rule' (what a rule did, to which torrents, and why).
"""
import hashlib
import json
import time

from model.clients.types import State, same_daemon_run

KINDS = {
    'added': 'added',
    'finished': 'finished downloading',
    'removed': 'removed',
    'stalled': 'stalled',
    'tracker_error': 'tracker error',
    'restarted': 'client restarted',
    'schedule': 'schedule',
    'rule': 'rule',
}
TRIGGERS = ('added', 'finished', 'stalled', 'tracker_error')      # what a rule may act on
STALLED_AFTER = 300.0               # seconds without incoming data while downloading
TARGET_ITEM = ''                    # the seen row of the target itself (its instance)


def _torrent_detail(t):
    return {'name': t.name, 'label': t.label, 'state': t.state, 'ratio': round(t.ratio, 3)}


def look(store, backend, seen, instance, now=None, stalled_after=STALLED_AFTER):
    """Compare this look ([model.clients.interface.Seen]) with the last; keep both the look and the
    events in one transaction.  The events that are new, as lib.store.StoredEvents."""
    now = time.time() if now is None else now
    before = store.seen(backend.name, decoded=False)       # each torrent's decoded when its turn comes
    first = TARGET_ITEM not in before
    events, put = [], {}
    old_target = json.loads(before.pop(TARGET_ITEM, ('{}', now))[0])
    if not first and not same_daemon_run(old_target.get('instance'), instance):
        events.append({'key': 'restarted:%s' % instance, 'kind': 'restarted', 'at': now,
                       'detail': {'instance': instance, 'was': old_target.get('instance'), 'client': backend.client}})
    if first or not same_daemon_run(old_target.get('instance'), instance):
        put[TARGET_ITEM] = {'instance': instance, 'since': now}
    for t in seen:
        old = before.pop(t.hash, (None, None))[0]
        old = None if old is None else json.loads(old)
        data = dict(old or {'since': now, 'moving_at': None, 'active_at': now})
        data.update(complete=t.complete, name=t.name, label=t.label, message=t.message)
        # only what changes is written: a torrent that is not downloading keeps no clock
        if t.state != State.DOWNLOADING:
            data['moving_at'], data['stalled'] = None, False
        elif t.down_rate > 0 or data.get('moving_at') is None:
            data['moving_at'], data['stalled'] = now, False
        if t.down_rate > 0 or t.up_rate > 0:
            data['active_at'] = now
        subject = t.hash
        if old is None and not first:
            events.append({'key': 'added:%s:%d' % (t.hash, t.added or int(now)), 'kind': 'added', 'at': now,
                           'subject': subject, 'detail': _torrent_detail(t)})
        # finished: complete now and not before, or new and complete already with bytes it received
        # (a download quicker than a tick); one loaded complete from its data received none
        if (old is not None and not old.get('complete') and t.complete) or (
                old is None and not first and t.complete and t.downloaded > 0):
            events.append({'key': 'finished:%s:%d' % (t.hash, t.finished or int(now)), 'kind': 'finished',
                           'at': now, 'subject': subject, 'detail': dict(_torrent_detail(t), finished=t.finished)})
        if (t.state == State.DOWNLOADING and not data.get('stalled') and now - data['moving_at'] >= stalled_after):
            data['stalled'] = True
            events.append({'key': 'stalled:%s:%.0f' % (t.hash, data['moving_at']), 'kind': 'stalled', 'at': now,
                           'subject': subject, 'detail': dict(_torrent_detail(t), since=data['moving_at'])})
        if t.message and t.message != (old or {}).get('message', '') and not (first and old is None):
            digest = hashlib.sha1(t.message.encode('utf-8', 'replace')).hexdigest()[:12]
            events.append({'key': 'tracker_error:%s:%s:%.0f' % (t.hash, digest, now), 'kind': 'tracker_error',
                           'at': now, 'subject': subject, 'detail': dict(_torrent_detail(t), message=t.message)})
        if data != old:
            put[t.hash] = data
    for item, (old, _) in before.items():
        old = json.loads(old)
        events.append({'key': 'removed:%s:%.0f' % (item, old.get('since', 0)), 'kind': 'removed', 'at': now,
                       'subject': item, 'detail': {'name': old.get('name'), 'label': old.get('label')}})
    return store.record(backend.name, events, put=put, drop=list(before), now=now)


KEEP_DAYS = 90.0                    # EVENTS_KEEP_DAYS: how long an event is kept
PRUNE_SECONDS = 3600.0              # the worker deletes old events at most this often
DAY = 86400.0


def prune(store, keep_days, now=None):
    """Delete the events older than keep_days (None: keep them all); how many went."""
    if keep_days is None:
        return 0
    now = time.time() if now is None else now
    return store.prune_events(now - keep_days * DAY)


class Pruner:
    """The worker's task for the events' retention: prune() at most once every `every`
    seconds (its first run at once), through the worker's store (OnLease)."""

    def __init__(self, store, keep_days, every=PRUNE_SECONDS, clock=time.time):
        self.store, self.keep_days, self.every, self.clock = store, keep_days, every, clock
        self.pruned_at = None

    def __call__(self):
        now = self.clock()
        if self.keep_days is None or (self.pruned_at is not None and now - self.pruned_at < self.every):
            return None
        gone = prune(self.store, self.keep_days, now)
        self.pruned_at = now
        return 'deleted %d event(s) older than %g days' % (gone, self.keep_days) if gone else None


def recent(store, target, since=0, limit=100, kinds=None):
    return store.events(target, since=since, limit=limit, kinds=kinds)


def in_words(event):
    """One line a person reads: what happened, to what, and why."""
    d = event.detail
    name = d.get('name') or event.subject
    if event.kind == 'restarted':
        return '%s restarted (instance %s, was %s)' % (d.get('client', 'the client'), d.get('instance'), d.get('was'))
    if event.kind == 'finished':
        return "'%s' finished downloading" % name
    if event.kind == 'added':
        return "'%s' was added" % name
    if event.kind == 'removed':
        return "'%s' was removed" % name
    if event.kind == 'stalled':
        return "'%s' stalled: nothing came in since %s" % (name, time.strftime('%Y-%m-%d %H:%M', time.localtime(d['since'])))
    if event.kind == 'tracker_error':
        return "'%s': the tracker says %s" % (name, d.get('message'))
    if event.kind == 'schedule':
        if 'stopped' in d:
            return 'profile %s: stopped %d torrent(s), started %d again (%s)' % (
                d['profile'], len(d['stopped']), len(d['started']), d['why'])
        return 'profile %s now (%s)%s' % (d['profile'], d['why'], '; refused: %s' % d['refused'] if d.get('refused') else '')
    if event.kind == 'rule':
        return "rule '%s': %s %d torrent(s) (%s)%s" % (d['rule'], d['did'], len(d['done']), d['why'],
                                                       '; %d refused' % len(d['refused']) if d.get('refused') else '')
    return event.kind
