"""A .torrent whose name.utf-8 says one thing and its plain name another: rtorrent 0.9.8
uses the plain name (and path), so that is what pyroTorrent checks and shows.  A hostile
plain name hidden behind a harmless name.utf-8 is refused."""
import os

import pytest

from lib import bencode, metafile


def torrent(name, name_utf8=None, files=None):
    """A small valid .torrent (no data behind it): one file, or files [(path, path.utf-8)]."""
    info = {b'name': name, b'piece length': 16384}
    if name_utf8 is not None:
        info[b'name.utf-8'] = name_utf8
    if files is None:
        info[b'length'] = 1000
    else:
        info[b'files'] = []
        for path, path_utf8 in files:
            entry = {b'length': 1000, b'path': path}
            if path_utf8 is not None:
                entry[b'path.utf-8'] = path_utf8
            info[b'files'].append(entry)
    size = 1000 * (len(files) if files else 1)
    info[b'pieces'] = os.urandom(20 * -(-size // 16384))
    return bencode.encode({b'announce': b'http://127.0.0.1:1/announce', b'info': info})


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('attack-metafile').daemon


def test_the_name_shown_is_the_one_rtorrent_uses(daemon):
    data = torrent(b'plain name', b'utf8 name', files=[([b'plain.txt'], [b'utf8.txt'])])
    parsed = metafile.parse(data)
    info_hash = daemon.load(data, start=False)
    assert daemon.call('d.name', info_hash) == 'plain name'           # rtorrent 0.9.8's choice
    assert daemon.call('f.path', info_hash + ':f0') == 'plain.txt'
    assert parsed.name == 'plain name'
    assert parsed.files == (('plain.txt', 1000),)


@pytest.mark.parametrize('name,files', [
    (b'..', None),
    (b'a/b', None),
    (b'/etc', None),
    (b'box', [([b'..', b'escape'], [b'harmless'])]),
    (b'box', [([b'a/b'], [b'harmless'])]),
])
def test_a_hostile_plain_name_behind_a_harmless_utf8_one_is_refused(name, files):
    data = torrent(name, b'harmless', files=[(p, u) for p, u in files] if files else None)
    with pytest.raises(metafile.MetafileError, match='name|path'):
        metafile.parse(data)


def test_a_plain_name_that_is_not_utf8_is_refused_not_replaced():
    with pytest.raises(metafile.MetafileError, match='UTF-8'):
        metafile.parse(torrent(b'caf\xe9', b'caf\xc3\xa9'))
