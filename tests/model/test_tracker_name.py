"""model/clients/trackers.tracker_name on URLs a torrent file can hold (the real rtorrent
cases are in tests/web/test_tracker_names.py): every odd URL gets a name, and the name of a
name is itself, so what the list shows can be typed back into its filter or a rule."""
import pytest

from model.clients.trackers import tracker_name

CASES = {
    'http://tracker.example.org:6969/announce': 'example.org',
    'udp://tr2.example.org:80': 'example.org',
    'https://www.bt.example.co.uk/a?passkey=secret': 'example.co.uk',
    'https://user:pw@Tracker.Example.ORG./announce': 'example.org',
    'http://127.0.0.1:6969/announce': '127.0.0.1',
    'http://[2001:DB8::1]:6969/announce': '2001:db8::1',
    'http://трекер.пример.рф/announce': 'пример.рф',
    'http://xn--e1afmkfd.xn--p1ai/announce': 'пример.рф',
    'http://tr acker.example.org/announce': 'tr acker.example.org',
    'http://a"b.example.org/x': 'a"b.example.org',
    'http://a..b/x': 'a..b',
    'http://[::1/announce': '',                # an unbalanced bracket: no host to be had
    'http:///announce': '',
    'dht://': '',
    'Tracker.Example.org:6969/announce': 'example.org',     # no scheme: a host, as a filter gives it
    '/announce': '',
    '': '',
    None: '',
}


@pytest.mark.parametrize('url', list(CASES))
def test_a_tracker_is_named_from_its_host(url):
    assert tracker_name(url) == CASES[url]


@pytest.mark.parametrize('url', [u for u in CASES if u])
def test_the_name_of_a_name_is_itself(url):
    name = tracker_name(url)
    assert tracker_name(name) == name
    assert tracker_name(' %s ' % name.upper()) == name
