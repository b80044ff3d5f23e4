"""Each rule kind declared once (model/rules.py MATCHES, CONDITIONS, ACTIONS): every action
taken in both of its forms alike, the form read by the same declaration, the labels rules
set found in either form, and the words a rule reads in."""
import pytest

from model import rules
from tests.model.test_rules_model import SEEN, context

TYPED = {'stop': 'stop', 'remove': 'remove', 'remove_data': 'remove_data', 'label': {'label': 'done'},
         'group': {'group': 'slow'}, 'priority': {'priority': 'high'}}
AS_GET_ANSWERS = {'stop': {'action': 'stop'}, 'remove': {'action': 'remove'}, 'remove_data': {'action': 'remove_data'},
                  'label': {'action': 'label', 'value': 'done'}, 'group': {'action': 'group', 'value': 'slow'},
                  'priority': {'action': 'priority', 'value': 3}}
FORM_VALUES = {'label': 'done', 'group': 'slow', 'priority': 'high'}


def rule(do):
    return {'name': 'r', 'match': {'label': 'Music'}, 'when': {'event': 'finished'}, 'do': do,
            'confirm_delete_data': True}


@pytest.mark.parametrize('action', list(rules.ACTIONS))
def test_every_action_in_either_form_and_from_the_form_is_one_clean_rule(action):
    assert set(TYPED) == set(rules.ACTIONS)           # a new kind gets its forms here too
    ctx = context(can_delete_data=True)
    clean = rules.validate(rule(TYPED[action]), ctx)
    assert clean['do'] == AS_GET_ANSWERS[action]
    assert rules.validate(rule(AS_GET_ANSWERS[action]), ctx) == clean
    assert rules.validate(clean, ctx) == clean
    form = {'rule_name': 'r', 'match': 'label', 'match_value': ' Music ', 'when': 'event', 'when_value': 'finished',
            'do': action, 'do_value': FORM_VALUES.get(action, ''), 'confirm_delete_data': 'on'}
    assert rules.validate(rules.from_form(form), ctx) == clean


def test_the_labels_rules_set_are_found_in_either_form():
    given = [rule({'label': 'a'}), rule({'action': 'label', 'value': 'b'}), rule('stop'), rule({'action': 'bogus'}), 7]
    assert rules.labels_set_by(given) == {'a', 'b'}
    sets, matches = rule({'action': 'label', 'value': 'new'}), dict(rule('stop'), name='s', match={'label': 'new'})
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
        rules.validate(rule(do), context(can_delete_data=True))
    assert words in str(refused.value)


def test_a_rule_reads_as_typed_and_the_form_offers_every_kind():
    clean = rules.validate(rule({'label': 'my label group'}), context())
    assert rules.describe(clean) == "torrents labelled 'Music', when on finished: label 'my label group'"
    assert rules.from_form({'when': 'ratio', 'when_value': '1.5'})['when'] == {'ratio': 1.5}
    with pytest.raises(ValueError, match="the ratio must be a number, like 2 or 1.5, not 'lots'"):
        rules.from_form({'when': 'ratio', 'when_value': 'lots'})
    for table in (rules.MATCHES, rules.CONDITIONS, rules.ACTIONS):
        assert all(kind.option and kind.words for kind in table.values())
    assert [t.hash for t in rules.preview(clean, SEEN, {}, 0)] == [SEEN[2].hash]
