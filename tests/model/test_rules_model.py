"""Rules checked before they are kept, and which torrents they would touch (injected clock)."""
import pytest

from model import rules
from model.clients.types import Seen

H1, H2, H3 = 'A' * 40, 'B' * 40, 'C' * 40
NOW = 1_000_000


def torrent(h, **kw):
    data = dict(hash=h, name='name ' + h[0], label='', state='seeding', size=100, completed=100, down_rate=0,
                up_rate=0, ratio=0.0, finished=0, added=1000, message='', trackers=('http://tracker.example.org/a',))
    data.update(kw)
    return Seen(**data)


SEEN = [torrent(H1, label='Linux ISOs', ratio=2.5, finished=NOW - 3 * 86400),
        torrent(H2, label='Linux ISOs', ratio=0.5, finished=NOW - 3600),
        torrent(H3, label='Music', ratio=3.0, state='downloading', completed=10,
                trackers=('https://t.other.net:443/announce',))]


def context(**kw):
    return rules.Context(SEEN, groups=kw.pop('groups', ['slow']), can_delete_data=kw.pop('can_delete_data', False), **kw)


def rule(**kw):
    data = {'name': 'r', 'match': {'label': 'Linux ISOs'}, 'when': {'ratio': 2}, 'do': 'stop'}
    data.update(kw)
    return data


def test_preview_by_ratio_seeding_time_tracker_and_idle():
    ratio = rules.validate(rule(), context())
    assert [t.hash for t in rules.preview(ratio, SEEN, {}, NOW)] == [H1]
    seeded = rules.validate(rule(when={'seeding': '2d'}), context())
    assert seeded['when'] == {'seeding': 172800.0}
    assert [t.hash for t in rules.preview(seeded, SEEN, {}, NOW)] == [H1]
    tracker = rules.validate(rule(match={'tracker': 'other.net'}, when={'ratio': 1}), context())
    assert [t.hash for t in rules.preview(tracker, SEEN, {}, NOW)] == [H3]
    idle = rules.validate(rule(match={'all': True}, when={'idle': '1h'}), context())
    clocks = {H1: {'active_at': NOW - 7200}, H2: {'active_at': NOW - 60}}
    assert [t.hash for t in rules.preview(idle, SEEN, clocks, NOW)] == [H1]
    stalled = rules.validate(rule(match={'all': True}, when={'stalled': 600}), context())
    assert [t.hash for t in rules.preview(stalled, SEEN, {H3: {'moving_at': NOW - 601}}, NOW)] == [H3]
    event = rules.validate(rule(match={'all': True}, when={'event': 'finished'}, do={'label': 'done'}), context())
    assert len(rules.preview(event, SEEN, {}, NOW)) == 3           # its scope: it acts when one finishes
    assert [t.hash for t in rules.preview(ratio, SEEN, {}, NOW, fired={H1})] == []      # once a torrent


@pytest.mark.parametrize('data, words', [
    (rule(match={'label': 'Movies'}), "no torrent has the label 'Movies' and no rule sets it (labels now: Linux ISOs, Music)"),
    (rule(match={'all': True}, when={'ratio': 0.1}, do='remove'), 'would remove every torrent of this target (all 3)'),
    (rule(match={'all': True}, when={'event': 'added'}, do='remove'), 'would remove every torrent as soon as it is added'),
    (rule(do='remove_data', confirm_delete_data=True), "this target's data cannot be deleted"),
    (rule(do={'group': 'fast'}), "there is no speed group 'fast'"),
    (rule(do={'priority': 'urgent'}), 'a priority is one of off, low, normal, high'),
    (rule(when={'ratio': 0}), 'a ratio is a number above 0'),
    (rule(when={'seeding': 'soon'}), 'must be a time like 90m'),
    (rule(when={'event': 'exploded'}), 'the event is one of added, finished, stalled, tracker_error'),
    (rule(when={'ratio': 1, 'idle': 5}), 'when is one of'),
    (rule(do='explode'), 'do is "stop", "remove", "remove_data"'),
    (rule(name=''), "the rule name '' is empty"),
    ({'name': 'x', 'match': {'all': True}, 'when': {'ratio': 1}}, 'do is one of'),
])
def test_bad_rules_are_refused_in_words(data, words):
    with pytest.raises(ValueError) as refused:
        rules.validate(data, context())
    assert words in str(refused.value)


def test_removing_data_needs_roots_and_a_confirmation():
    with pytest.raises(ValueError, match='confirm_delete_data'):
        rules.validate(rule(do='remove_data'), context(can_delete_data=True))
    clean = rules.validate(rule(do='remove_data', confirm_delete_data=True), context(can_delete_data=True))
    assert clean['do'] == {'action': 'remove_data'} and clean['confirm_delete_data'] is True


def test_a_list_of_rules_a_label_another_rule_sets_and_unique_names():
    done = {'name': 'done', 'match': {'all': True}, 'when': {'event': 'finished'}, 'do': {'label': 'done'}}
    stop = {'name': 'stop done', 'match': {'label': 'done'}, 'when': {'ratio': 1}, 'do': 'stop'}
    assert [r['name'] for r in rules.validate_all([done, stop], context())] == ['done', 'stop done']
    with pytest.raises(ValueError, match="two rules are named 'done'"):
        rules.validate_all([done, dict(done)], context())
    assert rules.describe(rules.validate(stop, context(labels_set={'done'}))) == \
        "torrents labelled 'done', when ratio ≥ 1: stop"


def test_a_clean_rule_is_taken_again_as_it_is():
    for given in (rule(), rule(do={'label': 'done'}, when={'seeding': '2d'}), rule(do={'priority': 'high'})):
        clean = rules.validate(given, context())
        assert rules.validate(clean, context()) == clean


# -- each rule kind declared once (model/rules.py MATCHES, CONDITIONS, ACTIONS): every action
# taken in both of its forms alike, the form read by the same declaration, the labels rules
# set found in either form, and the words a rule reads in.

TYPED = {'stop': 'stop', 'remove': 'remove', 'remove_data': 'remove_data', 'label': {'label': 'done'},
         'group': {'group': 'slow'}, 'priority': {'priority': 'high'}}
AS_GET_ANSWERS = {'stop': {'action': 'stop'}, 'remove': {'action': 'remove'}, 'remove_data': {'action': 'remove_data'},
                  'label': {'action': 'label', 'value': 'done'}, 'group': {'action': 'group', 'value': 'slow'},
                  'priority': {'action': 'priority', 'value': 3}}
FORM_VALUES = {'label': 'done', 'group': 'slow', 'priority': 'high'}


def kind_rule(do):
    return {'name': 'r', 'match': {'label': 'Music'}, 'when': {'event': 'finished'}, 'do': do,
            'confirm_delete_data': True}


@pytest.mark.parametrize('action', list(rules.ACTIONS))
def test_every_action_in_either_form_and_from_the_form_is_one_clean_rule(action):
    assert set(TYPED) == set(rules.ACTIONS)           # a new kind gets its forms here too
    ctx = context(can_delete_data=True)
    clean = rules.validate(kind_rule(TYPED[action]), ctx)
    assert clean['do'] == AS_GET_ANSWERS[action]
    assert rules.validate(kind_rule(AS_GET_ANSWERS[action]), ctx) == clean
    assert rules.validate(clean, ctx) == clean
    form = {'rule_name': 'r', 'match': 'label', 'match_value': ' Music ', 'when': 'event', 'when_value': 'finished',
            'do': action, 'do_value': FORM_VALUES.get(action, ''), 'confirm_delete_data': 'on'}
    assert rules.validate(rules.from_form(form), ctx) == clean


def test_the_labels_rules_set_are_found_in_either_form():
    given = [kind_rule({'label': 'a'}), kind_rule({'action': 'label', 'value': 'b'}), kind_rule('stop'), kind_rule({'action': 'bogus'}), 7]
    assert rules.labels_set_by(given) == {'a', 'b'}
    sets, matches = kind_rule({'action': 'label', 'value': 'new'}), dict(kind_rule('stop'), name='s', match={'label': 'new'})
    assert [r['name'] for r in rules.validate_all([sets, matches], context())] == ['r', 's']


@pytest.mark.parametrize('do, words', [
    ({'action': 'stop', 'value': 1}, 'do {"action": "stop"} takes no "value"'),
    ({'action': 'label'}, 'do {"action": "label"} needs a "value"'),
    ({'action': 'explode'}, 'do is {"action": one of stop, remove, remove_data, label, group, priority}'),
    ({'action': 'label', 'value': 'x', 'when': 1}, 'do is {"action": one of'),
    ({'stop': True}, 'do is one of {"label": ...}, {"group": ...}, {"priority": ...}'),
])
def test_an_action_in_a_wrong_form_is_refused_in_words(do, words):
    with pytest.raises(ValueError) as refused:
        rules.validate(kind_rule(do), context(can_delete_data=True))
    assert words in str(refused.value)


def test_a_rule_reads_as_typed_and_the_form_offers_every_kind():
    clean = rules.validate(kind_rule({'label': 'my label group'}), context())
    assert rules.describe(clean) == "torrents labelled 'Music', when on finished: label 'my label group'"
    assert rules.from_form({'when': 'ratio', 'when_value': '1.5'})['when'] == {'ratio': 1.5}
    with pytest.raises(ValueError, match="the ratio must be a number, like 2 or 1.5, not 'lots'"):
        rules.from_form({'when': 'ratio', 'when_value': 'lots'})
    for table in (rules.MATCHES, rules.CONDITIONS, rules.ACTIONS):
        assert all(kind.option and kind.words for kind in table.values())
    assert [t.hash for t in rules.preview(clean, SEEN, {}, 0)] == [SEEN[2].hash]
