"""The neutral states and priorities are enums (model/clients/types.py State, Priority) that
read, compare and serialise as the words they were: the pages and the JSON stay the same."""
import simplejson

from model.clients.rtorrent import RTorrent
from model.clients.transmission import Transmission
from model.clients.types import PRIORITIES, STATES, Priority, State, count_states, torrent_state


def test_states_and_priorities_are_their_words_in_json_text_and_lookups():
    assert simplejson.dumps({'state': State.PAUSED, 'priority': Priority.HIGH, State.SEEDING: 1}) == \
        '{"state": "paused", "priority": "high", "seeding": 1}'
    assert '%s %r' % (State.PAUSED, Priority.LOW) == "paused 'low'"        # as the bare strings read
    assert {'paused': 1}[State.PAUSED] == 1 and State('seeding') is State.SEEDING
    assert STATES == ('checking', 'downloading', 'seeding', 'paused', 'stopped', 'complete', 'queued')
    assert torrent_state(started=1, active=0, hashing=0, complete=0) is State.PAUSED
    assert count_states([(State.DOWNLOADING, 0, '', 0, 0)])['stalled'] == 1


def test_both_clients_scales_are_of_the_one_priority():
    for client in (RTorrent, Transmission):
        caps = client.CAPABILITIES
        assert all(isinstance(p, Priority) for p in list(caps.priorities.values()) + list(caps.file_priorities.values()))
    assert PRIORITIES == {0: 'off', 1: 'low', 2: 'normal', 3: 'high'}
    assert Transmission.CAPABILITIES.priorities == {-1: 'low', 0: 'normal', 1: 'high'}
