"""Rules: for the torrents of a label, of a tracker or all of them, when a condition holds
(or an event happens), do one thing, once per torrent.

    {"name": "seed to 2", "match": {"label": "Linux ISOs"}, "when": {"ratio": 2}, "do": "stop"}
    {"name": "done", "match": {"all": true}, "when": {"event": "finished"}, "do": {"label": "done"}}

match   {"all": true} | {"label": L} (a label the target has, or one another rule sets) |
        {"tracker": host} (the tracker's host name, or a domain it is in)
when    {"ratio": X}            uploaded / downloaded at least X
        {"seeding": T}          complete for at least T since it finished
        {"idle": T}             started, and nothing sent or received for at least T
        {"stalled": T}          downloading, and nothing received for at least T
        {"event": E}            when E happens to it: added, finished, stalled, tracker_error
        T in seconds, or a text like "90m", "12h", "2d", "1w"
do      "stop" | "remove" (its data stays) | "remove_data" (only inside the target's download
        roots, and only with "confirm_delete_data": true: the erase page's rule) |
        {"label": L} | {"group": G} (a speed group of the settings) | {"priority": P}

The worker evaluates every enabled rule each tick over what it sees (model/events.py keeps
the clocks of idle and stalled), acting only through the Backend (act, erase, set_label,
set_group, set_priority).  A rule acts on a torrent once (the store remembers it, across
restarts); a changed rule starts afresh.  preview() says which torrents a rule would touch
now, before it is saved; validate() refuses, in words, what cannot be right.
"""
import re
import time

from lib.names import MAX_LABEL, check as check_name
from model.clients.trackers import tracker_name
from model.events import TRIGGERS

KIND = 'rules'                      # target values: 'list'
MAX_RULES = 32
CONDITIONS = {'ratio': 'ratio at least', 'seeding': 'seeded for at least', 'idle': 'idle for at least',
              'stalled': 'stalled for at least', 'event': 'when it is'}
ACTIONS = {'stop': 'stopped', 'remove': 'removed (data kept)', 'remove_data': 'removed with its data',
           'label': 'labelled', 'group': 'moved to speed group', 'priority': 'set the priority of'}
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
RUNNING = ('downloading', 'seeding', 'paused')


def parse_duration(value, what):
    """Seconds from a number or '90m', '12h', '2d', '1w', '1d 12h'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r'\s*(\d+(\.\d+)?\s*[smhdw]?\s*)+', value):
        seconds = sum(float(n) * _UNITS[u or 's'] for n, _, u in re.findall(r'(\d+(\.\d+)?)\s*([smhdw]?)', value))
    else:
        raise ValueError('%s must be a time like 90m, 12h, 2d or a number of seconds, not %r' % (what, value))
    if not 0 < seconds <= 10 * 365 * 86400:
        raise ValueError('%s must be more than 0 and at most 10 years' % what)
    return seconds


class Context:
    """What a rule is checked against: the target's torrents now ([Seen]), its speed groups,
    its priority scale, whether its data may be deleted, and the labels other rules set."""

    def __init__(self, seen, groups=(), priorities=None, can_delete_data=False, labels_set=()):
        self.seen = list(seen)
        self.labels = {t.label for t in self.seen if t.label}
        self.groups = set(groups)
        self.priorities = priorities or {0: 'off', 1: 'low', 2: 'normal', 3: 'high'}
        self.can_delete_data = can_delete_data
        self.labels_set = set(labels_set)


def _one(data, what, choices):
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in choices:
        raise ValueError('%s is one of %s' % (what, ', '.join('{"%s": ...}' % c for c in choices)))
    return next(iter(data.items()))


def validate(data, context):
    """A clean rule, or ValueError in words (nothing kept, nothing done)."""
    if not isinstance(data, dict):
        raise ValueError('a rule is an object: {"name":, "match":, "when":, "do":}')
    unknown = set(data) - {'name', 'enabled', 'match', 'when', 'do', 'confirm_delete_data'}
    if unknown:
        raise ValueError('a rule has no %s' % ', '.join(sorted(unknown)))
    name = data.get('name')
    name = check_name('rule', name)
    where = "rule '%s'" % name
    enabled = data.get('enabled', True)
    if not isinstance(enabled, bool):
        raise ValueError('%s: enabled is true or false' % where)
    kind, value = _one(data.get('match'), where + ': match', ('all', 'label', 'tracker'))
    if kind == 'all':
        if value is not True:
            raise ValueError('%s: match {"all": true}' % where)
        match = {'all': True}
    elif kind == 'label':
        if not isinstance(value, str) or not value.strip():
            raise ValueError('%s: match a label by its name' % where)
        if value not in context.labels and value not in context.labels_set:
            raise ValueError("%s: no torrent has the label '%s' and no rule sets it (labels now: %s)"
                             % (where, value, ', '.join(sorted(context.labels)) or 'none'))
        match = {'label': value}
    else:
        if not isinstance(value, str) or not tracker_name(check_name('tracker', value, 253)):
            raise ValueError('%s: match a tracker by its name as the list shows it, like example.org' % where)
        match = {'tracker': tracker_name(value)}
    kind, value = _one(data.get('when'), where + ': when', tuple(CONDITIONS))
    if kind == 'ratio':
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 10000:
            raise ValueError('%s: a ratio is a number above 0 (1 is as much sent as received), not %r' % (where, value))
        when = {'ratio': float(value)}
    elif kind == 'event':
        if value not in TRIGGERS:
            raise ValueError('%s: the event is one of %s, not %r' % (where, ', '.join(TRIGGERS), value))
        when = {'event': value}
    else:
        when = {kind: parse_duration(value, '%s: %s' % (where, kind))}
    do = data.get('do')
    if isinstance(do, dict) and 'action' in do:         # a clean rule again (what GET gives back)
        do = do['action'] if set(do) == {'action'} else {do['action']: do.get('value')}
    if isinstance(do, str):
        if do not in ('stop', 'remove', 'remove_data'):
            raise ValueError('%s: do is "stop", "remove", "remove_data" or {"label"|"group"|"priority": ...}' % where)
        action = {'action': do}
    else:
        kind, value = _one(do, where + ': do', ('label', 'group', 'priority'))
        if kind == 'label':
            action = {'action': 'label', 'value': check_name('label', value, MAX_LABEL)}
        elif kind == 'group':
            if value != '' and value not in context.groups:
                raise ValueError("%s: there is no speed group '%s' (the settings page makes them: %s)"
                                 % (where, value, ', '.join(sorted(context.groups)) or 'none yet'))
            action = {'action': 'group', 'value': value}
        else:
            names = {v: k for k, v in context.priorities.items()}
            if isinstance(value, str) and value.lower() in names:
                value = names[value.lower()]
            if value not in context.priorities or isinstance(value, bool):
                raise ValueError('%s: a priority is one of %s' % (where, ', '.join(context.priorities.values())))
            action = {'action': 'priority', 'value': value}
    confirm = data.get('confirm_delete_data', False) is True
    if action['action'] == 'remove_data':
        if not context.can_delete_data:
            raise ValueError("%s: this target's data cannot be deleted (it declares no download_roots it can "
                             'see): use "remove", which keeps the data' % where)
        if not confirm:
            raise ValueError('%s deletes data: say so with "confirm_delete_data": true (the form: tick "delete '
                             'their data too")' % where)
    rule = {'name': name, 'enabled': enabled, 'match': match, 'when': when, 'do': action}
    if confirm and action['action'] == 'remove_data':
        rule['confirm_delete_data'] = True
    if action['action'] in ('remove', 'remove_data'):
        if match == {'all': True} and 'event' in when and when['event'] == 'added':
            raise ValueError('%s would remove every torrent as soon as it is added: refused' % where)
        touched = preview(rule, context.seen, {}, time.time())
        if len(context.seen) > 1 and len(touched) == len(context.seen):
            raise ValueError('%s would remove every torrent of this target (all %d) right now: refused; '
                             'narrow it with a label, a tracker or a higher threshold' % (where, len(context.seen)))
    return rule


def validate_all(rules, context):
    """A clean list of rules (the names unique), or ValueError naming the first problem."""
    if not isinstance(rules, list):
        raise ValueError('send {"rules": [rule, ...]}')
    if len(rules) > MAX_RULES:
        raise ValueError('at most %d rules' % MAX_RULES)
    context.labels_set = {r['do']['label'] for r in rules if isinstance(r, dict) and isinstance(r.get('do'), dict)
                          and isinstance(r['do'].get('label'), str)}
    clean, names = [], set()
    for rule in rules:
        rule = validate(rule, context)
        if rule['name'] in names:
            raise ValueError("two rules are named '%s': give each its own name" % rule['name'])
        names.add(rule['name'])
        clean.append(rule)
    return clean


# -- which torrents, when -------------------------------------------------------------------

def matches(rule, t):
    match = rule['match']
    if 'label' in match:
        return t.label == match['label']
    if 'tracker' in match:
        return tracker_name(match['tracker']) in t.tracker_names      # rules kept as hosts name them too
    return True


def holds(rule, t, clocks, now):
    """Whether the rule's condition holds for a torrent now (clocks: model/events.py's
    per-torrent data: active_at, moving_at)."""
    when = rule['when']
    if 'ratio' in when:
        return t.ratio >= when['ratio']
    if 'seeding' in when:
        return t.complete and t.finished > 0 and now - t.finished >= when['seeding']
    if 'idle' in when:
        since = (clocks or {}).get('active_at')
        return t.state in RUNNING and since is not None and now - since >= when['idle']
    if 'stalled' in when:
        since = (clocks or {}).get('moving_at')
        return t.state == 'downloading' and since is not None and now - since >= when['stalled']
    return False            # an event rule acts on events only


def preview(rule, seen, clocks, now, fired=()):
    """The torrents a rule would act on now ([Seen]); for an event rule, the torrents in its
    scope (it acts on each when the event happens to it)."""
    scope = [t for t in seen if matches(rule, t) and t.hash not in fired]
    if 'event' in rule['when']:
        return scope
    return [t for t in scope if holds(rule, t, clocks.get(t.hash), now)]


def describe(rule):
    match = rule['match']
    scope = ('every torrent' if 'all' in match else "torrents labelled '%s'" % match['label'] if 'label' in match
             else 'torrents of tracker %s' % match['tracker'])
    (kind, value), = rule['when'].items()
    when = ('ratio ≥ %g' % value if kind == 'ratio' else 'on %s' % value if kind == 'event'
            else '%s ≥ %s' % (kind, _duration(value)))
    do = rule['do']
    action = do['action'] + ("'%s'" % do['value'] if do['action'] in ('label', 'group') else
                             ' %s' % do['value'] if do['action'] == 'priority' else '')
    return '%s, when %s: %s' % (scope, when, action.replace('label', 'label ').replace('group', 'group '))


def _duration(seconds):
    for unit, size in (('w', 604800), ('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size and seconds % size == 0:
            return '%d%s' % (seconds // size, unit)
    return '%gs' % seconds


# -- kept in the store, run by the worker -------------------------------------------------

def load(store, target):
    stored = store.values(target, KIND).get('list')
    return stored.value if stored else []


def save(store, target, rules, who):
    """Keep a validated list; a rule that changed (or went) may act again on every torrent."""
    old = {r['name']: r for r in load(store, target)}
    store.put_values(target, KIND, {'list': rules}, set_by=who)
    new = {r['name']: r for r in rules}
    for name, rule in old.items():
        if new.get(name) != rule:
            store.forget_fired(target, name)


def act(backend, rule, hashes):
    """[ActionResult] of the rule's action on these torrents, through the Backend."""
    do = rule['do']
    if do['action'] == 'stop':
        return backend.act('stop', hashes)
    if do['action'] in ('remove', 'remove_data'):
        return backend.erase(hashes, delete_data=do['action'] == 'remove_data' and rule.get('confirm_delete_data') is True)
    if do['action'] == 'label':
        return backend.set_label(hashes, do['value'])
    if do['action'] == 'group':
        return backend.set_group(hashes, do['value'])
    return backend.set_priority(hashes, do['value'])


def tick(store, backend, seen, new_events, now=None):
    """Run every enabled rule once over this look and this tick's new events.
    (words or None, [event dicts] of what each rule did)."""
    now = time.time() if now is None else now
    rules = [r for r in load(store, backend.name) if r.get('enabled', True)]
    if not rules:
        return None, []
    clocks = {item: data for item, (data, _) in store.seen(backend.name).items()}
    by_hash = {t.hash: t for t in seen}
    events, said = [], []
    for rule in rules:
        fired = store.fired(backend.name, rule['name'])
        if 'event' in rule['when']:
            hit = {e.subject for e in new_events if e.kind == rule['when']['event']}
            targets = [by_hash[h] for h in hit if h in by_hash and h not in fired and matches(rule, by_hash[h])]
            why = 'on %s' % rule['when']['event']
        else:
            targets = preview(rule, seen, clocks, now, fired)
            why = describe(rule).split(': ')[0]
        if not targets:
            continue
        hashes = [t.hash for t in targets]
        store.mark_fired(backend.name, rule['name'], hashes, now)      # once, even if the client refuses
        results = act(backend, rule, hashes)
        done = [r.hash for r in results if r.ok]
        refused = {r.hash: r.reason for r in results if not r.ok}
        names = {t.hash: t.name for t in targets}
        events.append({'key': 'rule:%s:%.3f' % (rule['name'], now), 'kind': 'rule', 'at': now,
                       'detail': {'rule': rule['name'], 'did': ACTIONS[rule['do']['action']], 'why': why,
                                  'done': done, 'names': [names[h] for h in done], 'refused': refused,
                                  'value': rule['do'].get('value')}})
        said.append("rule '%s': %s %d torrent(s)%s" % (rule['name'], ACTIONS[rule['do']['action']], len(done),
                                                       ', %d refused' % len(refused) if refused else ''))
    return '; '.join(said) or None, events
