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
