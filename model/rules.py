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
        {"label": L} | {"group": G} (a speed group of the settings) | {"priority": P};
        or as GET answers it: {"action": "stop"}, {"action": "label", "value": L}, ...

The worker evaluates every enabled rule each tick over what it sees (model/events.py keeps
the clocks of idle and stalled), acting only through the Backend (act, erase, set_label,
set_group, set_priority).  A rule acts on a torrent once (the store remembers it, across
restarts); a changed rule starts afresh.  preview() says which torrents a rule would touch
now, before it is saved; validate() refuses, in words, what cannot be right.
"""
import dataclasses
import re
import time

from lib.names import MAX_LABEL, check as check_name
from model.clients.trackers import tracker_name
from model.clients.types import PRIORITIES, RUNNING, State
from model.events import TRIGGERS

KIND = 'rules'                      # target values: 'list'
MAX_RULES = 32
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


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
        self.priorities = priorities or PRIORITIES
        self.can_delete_data = can_delete_data
        self.labels_set = set(labels_set)


# -- the kinds, each declared once ----------------------------------------------------------

def _outer_spaces(text):
    return text.strip(' ')          # only spaces: a line break typed in is refused by names.check, not dropped


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of a rule's match, condition or action, declared once: the JSON takes and
    gives it as {key: value} (an action as {"action": key, "value": value}), the form offers
    it by its option, and the rest follows from the fields below."""
    key: str
    option: str                     # the form's words for it
    check: object                   # (value, where, Context) -> the clean value, or ValueError in words
    words: object                   # clean value -> how a rule reads ("ratio ≥ 2")
    typed: object = _outer_spaces   # the form's text -> its value; None: it takes no value
    test: object = None             # a match: (value, Seen); a condition: (value, Seen, clocks, now)
    act: object = None              # an action: (backend, hashes, value, rule) -> [ActionResult]
    done: str = None                # an action, in the events: "stopped", "labelled"
    removes: bool = False           # validate() refuses one that would remove every torrent
    deletes_data: bool = False      # needs download roots and "confirm_delete_data"

    @property
    def takes_value(self):
        return self.typed is not None


def _table(*kinds):
    return {kind.key: kind for kind in kinds}


def _check_all(value, where, context):
    if value is not True:
        raise ValueError('%s: match {"all": true}' % where)
    return True


def _check_label_match(value, where, context):
    if not isinstance(value, str) or not value.strip():
        raise ValueError('%s: match a label by its name' % where)
    if value not in context.labels and value not in context.labels_set:
        raise ValueError("%s: no torrent has the label '%s' and no rule sets it (labels now: %s)"
                         % (where, value, ', '.join(sorted(context.labels)) or 'none'))
    return value


def _check_tracker(value, where, context):
    if not isinstance(value, str) or not tracker_name(check_name('tracker', value, 253)):
        raise ValueError('%s: match a tracker by its name as the list shows it, like example.org' % where)
    return tracker_name(value)


def _on_tracker(name, t):
    return tracker_name(name) in t.tracker_names      # rules kept as hosts name them too


MATCHES = _table(
    Kind('all', 'every torrent', _check_all, lambda v: 'every torrent', typed=lambda text: True,
         test=lambda v, t: True),
    Kind('label', 'the label', _check_label_match, lambda v: "torrents labelled '%s'" % v,
         test=lambda v, t: t.label == v),
    Kind('tracker', 'the tracker', _check_tracker, lambda v: 'torrents of tracker %s' % v, test=_on_tracker),
)


def _check_ratio(value, where, context):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 10000:
        raise ValueError('%s: a ratio is a number above 0 (1 is as much sent as received), not %r' % (where, value))
    return float(value)


def _typed_ratio(text):
    try:
        return float(text)
    except ValueError:
        raise ValueError("the ratio must be a number, like 2 or 1.5, not '%s'" % text.strip()) from None


def _check_event(value, where, context):
    if value not in TRIGGERS:
        raise ValueError('%s: the event is one of %s, not %r' % (where, ', '.join(TRIGGERS), value))
    return value


def _lasting(key, option, test):
    """A condition that holds for a time (T in seconds, or a text like 90m)."""
    return Kind(key, option, lambda v, where, context: parse_duration(v, '%s: %s' % (where, key)),
                lambda v: '%s ≥ %s' % (key, _duration(v)), test=test)


def _idle(seconds, t, clocks, now):
    since = (clocks or {}).get('active_at')         # model/events.py keeps the clocks
    return t.state in RUNNING and since is not None and now - since >= seconds


def _stalled(seconds, t, clocks, now):
    since = (clocks or {}).get('moving_at')
    return t.state == State.DOWNLOADING and since is not None and now - since >= seconds


CONDITIONS = _table(
    Kind('ratio', 'ratio at least', _check_ratio, lambda v: 'ratio ≥ %g' % v, typed=_typed_ratio,
         test=lambda v, t, clocks, now: t.ratio >= v),
    _lasting('seeding', 'seeded for at least',
             lambda v, t, clocks, now: t.complete and t.finished > 0 and now - t.finished >= v),
    _lasting('idle', 'idle for at least', _idle),
    _lasting('stalled', 'stalled for at least', _stalled),
    Kind('event', 'when it is', _check_event, lambda v: 'on %s' % v,
         test=lambda v, t, clocks, now: False),          # an event rule acts on events only
)


def _check_none(value, where, context):
    return None


def _check_label(value, where, context):
    return check_name('label', value, MAX_LABEL)


def _check_group(value, where, context):
    if value != '' and value not in context.groups:
        raise ValueError("%s: there is no speed group '%s' (the settings page makes them: %s)"
                         % (where, value, ', '.join(sorted(context.groups)) or 'none yet'))
    return value


def _check_priority(value, where, context):
    names = {v: k for k, v in context.priorities.items()}
    if isinstance(value, str) and value.lower() in names:
        value = names[value.lower()]
    if value not in context.priorities or isinstance(value, bool):
        raise ValueError('%s: a priority is one of %s' % (where, ', '.join(context.priorities.values())))
    return value


def _erase(backend, hashes, value, rule):
    return backend.erase(hashes, delete_data=rule['do']['action'] == 'remove_data'
                         and rule.get('confirm_delete_data') is True)


ACTIONS = _table(
    Kind('stop', 'stop it', _check_none, lambda v: 'stop', typed=None, done='stopped',
         act=lambda backend, hashes, v, rule: backend.act('stop', hashes)),
    Kind('remove', 'remove it, keep its data', _check_none, lambda v: 'remove', typed=None,
         done='removed (data kept)', act=_erase, removes=True),
    Kind('remove_data', 'remove it and delete its data', _check_none, lambda v: 'remove_data', typed=None,
         done='removed with its data', act=_erase, removes=True, deletes_data=True),
    Kind('label', 'set the label', _check_label, lambda v: "label '%s'" % v, done='labelled',
         act=lambda backend, hashes, v, rule: backend.set_label(hashes, v)),
    Kind('group', 'move to speed group', _check_group, lambda v: "group '%s'" % v, done='moved to speed group',
         act=lambda backend, hashes, v, rule: backend.set_group(hashes, v)),
    Kind('priority', 'set the priority', _check_priority, lambda v: 'priority %s' % v,
         done='set the priority of', act=lambda backend, hashes, v, rule: backend.set_priority(hashes, v)),
)


# -- a rule from JSON or the form, checked --------------------------------------------------

def _one(data, what, table):
    """(Kind, value) of {key: value}, the one kind of a match or a condition."""
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in table:
        raise ValueError('%s is one of %s' % (what, ', '.join('{"%s": ...}' % c for c in table)))
    key, value = next(iter(data.items()))
    return table[key], value


def action_of(do, where='a rule'):
    """(Kind, value) of a rule's "do" in any of its forms: "stop"; {"label": "x"}; and what
    GET answers, {"action": "stop"} or {"action": "label", "value": "x"}."""
    valueless = [k for k, kind in ACTIONS.items() if not kind.takes_value]
    valued = tuple(k for k, kind in ACTIONS.items() if kind.takes_value)
    if isinstance(do, dict) and 'action' in do:
        kind = ACTIONS.get(do['action']) if isinstance(do['action'], str) else None
        if kind is None or not set(do) <= {'action', 'value'}:
            raise ValueError('%s: do is {"action": one of %s} (and its "value")' % (where, ', '.join(ACTIONS)))
        if kind.takes_value != ('value' in do):
            raise ValueError('%s: do {"action": "%s"} %s' % (where, kind.key, 'needs a "value"' if kind.takes_value
                                                                  else 'takes no "value"'))
        return kind, do.get('value')
    if isinstance(do, str):
        if do not in valueless:
            raise ValueError('%s: do is %s or {"%s": ...}'
                             % (where, ', '.join('"%s"' % k for k in valueless), '|'.join(valued)))
        return ACTIONS[do], None
    return _one(do, where + ': do', {k: ACTIONS[k] for k in valued})


def labels_set_by(given):
    """The labels these rules (clean or as given, in any form) set."""
    found = set()
    for rule in given:
        try:
            kind, value = action_of(rule.get('do')) if isinstance(rule, dict) else (None, None)
        except ValueError:
            continue
        if kind is ACTIONS['label'] and isinstance(value, str):
            found.add(value.strip(' '))
    return found


def from_form(form):
    """The rules page's form (a mapping of its fields) as a rule to validate: each part's
    select names a kind, its text field the value the kind reads from it."""
    parts = {}
    for part, table in (('match', MATCHES), ('when', CONDITIONS)):
        key, text = form.get(part, ''), form.get(part + '_value', '')
        parts[part] = {key: table[key].typed(text) if key in table else text.strip(' ')}
    key = form.get('do', '')
    action = ACTIONS.get(key)
    do = {key: action.typed(form.get('do_value', ''))} if action and action.takes_value else key
    rule = {'name': form.get('rule_name', ''), 'match': parts['match'], 'when': parts['when'], 'do': do}
    if form.get('confirm_delete_data') == 'on':
        rule['confirm_delete_data'] = True
    return rule


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
    kind, value = _one(data.get('match'), where + ': match', MATCHES)
    match = {kind.key: kind.check(value, where, context)}
    kind, value = _one(data.get('when'), where + ': when', CONDITIONS)
    when = {kind.key: kind.check(value, where, context)}
    kind, value = action_of(data.get('do'), where)
    action = {'action': kind.key}
    if kind.takes_value:
        action['value'] = kind.check(value, where, context)
    confirm = data.get('confirm_delete_data', False) is True
    if kind.deletes_data:
        if not context.can_delete_data:
            raise ValueError("%s: this target's data cannot be deleted (it declares no download_roots it can "
                             'see): use "remove", which keeps the data' % where)
        if not confirm:
            raise ValueError('%s deletes data: say so with "confirm_delete_data": true (the form: tick "delete '
                             'their data too")' % where)
    rule = {'name': name, 'enabled': enabled, 'match': match, 'when': when, 'do': action}
    if confirm and kind.deletes_data:
        rule['confirm_delete_data'] = True
    if kind.removes:
        if match == {'all': True} and when.get('event') == 'added':
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
    context.labels_set = labels_set_by(rules)
    clean, names = [], set()
    for rule in rules:
        rule = validate(rule, context)
        if rule['name'] in names:
            raise ValueError("two rules are named '%s': give each its own name" % rule['name'])
        names.add(rule['name'])
        clean.append(rule)
    return clean


# -- which torrents, when -------------------------------------------------------------------

def _kind(part, table):
    (key, value), = part.items()
    return table[key], value


def matches(rule, t):
    kind, value = _kind(rule['match'], MATCHES)
    return kind.test(value, t)


def holds(rule, t, clocks, now):
    """Whether the rule's condition holds for a torrent now (clocks: model/events.py's
    per-torrent data: active_at, moving_at)."""
    kind, value = _kind(rule['when'], CONDITIONS)
    return kind.test(value, t, clocks, now)


def preview(rule, seen, clocks, now, fired=()):
    """The torrents a rule would act on now ([Seen]); for an event rule, the torrents in its
    scope (it acts on each when the event happens to it)."""
    scope = [t for t in seen if matches(rule, t) and t.hash not in fired]
    if 'event' in rule['when']:
        return scope
    return [t for t in scope if holds(rule, t, clocks.get(t.hash), now)]


def describe(rule):
    scope = MATCHES[next(iter(rule['match']))].words(next(iter(rule['match'].values())))
    kind, value = _kind(rule['when'], CONDITIONS)
    do = rule['do']
    return '%s, when %s: %s' % (scope, kind.words(value), ACTIONS[do['action']].words(do.get('value')))


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
    return ACTIONS[rule['do']['action']].act(backend, hashes, rule['do'].get('value'), rule)


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
                       'detail': {'rule': rule['name'], 'did': ACTIONS[rule['do']['action']].done, 'why': why,
                                  'done': done, 'names': [names[h] for h in done], 'refused': refused,
                                  'value': rule['do'].get('value')}})
        said.append("rule '%s': %s %d torrent(s)%s" % (rule['name'], ACTIONS[rule['do']['action']].done, len(done),
                                                       ', %d refused' % len(refused) if refused else ''))
    return '; '.join(said) or None, events
