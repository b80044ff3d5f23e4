"""lib/paths.py (mapping, safe resolution), lib/erase.py on real folders, the new target keys."""
import os

import pytest

from lib import config
from lib.erase import delete_files
from lib.paths import PathMap, PathNotFound, is_local_url, resolve_inside


# -- which targets pyroTorrent can see, and where ------------------------------------------

@pytest.mark.parametrize('url, local', [
    ('scgi+unix:///home/rt/rpc.socket', True),
    ('scgi://127.0.0.1:5000', True),
    ('scgi://127.3.4.5:5000', True),
    ('http://localhost/RPC2', True),
    ('http://[::1]:8080/RPC2', True),
    ('scgi://192.168.1.70:5000', False),
    ('http://seedbox.example.com/RPC2', False),
    ('https://user:pw@10.0.0.1/RPC2', False),
])
def test_local_is_guessed_from_the_url(url, local):
    assert is_local_url(url) is local
    assert PathMap.for_url(url).visible is local


def test_path_map_longest_prefix_and_whole_components():
    paths = PathMap((('/data', '/mnt/a'), ('/data/tv', '/mnt/tv')), local=False)
    assert paths.to_local('/data/x/y.mkv') == '/mnt/a/x/y.mkv'
    assert paths.to_local('/data/tv/show.mkv') == '/mnt/tv/show.mkv'     # the longer one wins
    assert paths.to_local('/data') == '/mnt/a'
    assert paths.to_local('/data2/x') is None                          # not a component match
    assert paths.to_local('/elsewhere/x') is None                      # remote: cannot see
    assert paths.to_local('relative/x') is None
    assert paths.to_local('') is None
    assert paths.to_local('/data/a/../../etc') is None                 # normalised first: /etc


def test_a_local_target_sees_paths_as_they_are_unless_mapped():
    paths = PathMap((('/srv/rt', '/mnt/rt'),), local=True, download_roots=('/srv/rt/dl', '/other'))
    assert paths.to_local('/home/x') == '/home/x'
    assert paths.to_local('/srv/rt/dl/a') == '/mnt/rt/dl/a'
    assert paths.local_roots() == ('/mnt/rt/dl', '/other')
    assert paths.can_delete
    assert not PathMap((), local=False, download_roots=('/srv',)).can_delete
    assert not PathMap((), local=True).can_delete


def test_for_target_reads_the_config_keys():
    cfg = config.from_dict({'targets': {
        'box': {'url': 'scgi://10.1.2.3:5000', 'path_map': {'/home/rt/dl/': '/mnt/box'},
                'download_roots': ['/home/rt/dl']},
        'here': {'url': 'scgi+unix:///tmp/rpc.socket', 'local': False},
        'plain': {'url': 'scgi://127.0.0.1:5000'},
    }})
    box, here, plain = cfg.targets
    assert box.path_map == (('/home/rt/dl', '/mnt/box'),) and box.download_roots == ('/home/rt/dl',)
    assert PathMap.for_target(box).local_roots() == ('/mnt/box',)
    assert PathMap.for_target(here).visible is False                  # local=False overrides the URL
    assert PathMap.for_target(plain).visible is True
    assert plain.path_map == () and plain.download_roots == () and plain.local is None


@pytest.mark.parametrize('options, words', [
    ({'path_map': ['/a']}, 'path_map must be a dict'),
    ({'path_map': {'a': '/b'}}, 'path_map key must be an absolute path'),
    ({'path_map': {'/a': 'b'}}, "path_map['/a'] must be an absolute path"),
    ({'path_map': {'/a/../b': '/b'}}, 'must not hold ".."'),
    ({'download_roots': '/a'}, 'download_roots must be a list'),
    ({'download_roots': ['/']}, 'cannot hold "/"'),
    ({'download_roots': ['rel']}, 'download_roots entry must be an absolute path'),
    ({'local': 'yes'}, 'local must be True'),
    ({'pathmap': {}}, "unknown key 'pathmap'"),
])
def test_bad_path_keys_are_one_clear_line(options, words):
    with pytest.raises(config.ConfigError) as err:
        config.from_dict({'targets': {'t': dict({'url': 'scgi://127.0.0.1:1'}, **options)}})
    assert words in str(err.value) and "targets['t']" in str(err.value)


# -- resolving a requested file inside a folder ----------------------------------------------

@pytest.fixture
def tree(tmp_path):
    base = tmp_path / 'torrent'
    (base / 'sub').mkdir(parents=True)
    (base / 'a.txt').write_bytes(b'a')
    (base / 'sub' / 'b.txt').write_bytes(b'b')
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'secret.txt').write_bytes(b'secret')
    (base / 'escape.txt').symlink_to(outside / 'secret.txt')
    (base / 'escape-dir').symlink_to(outside)
    (base / 'inner-link.txt').symlink_to(base / 'sub' / 'b.txt')
    (base / 'relative-escape').symlink_to('../outside/secret.txt')
    return base, outside


def test_resolve_inside_finds_files(tree):
    base, _ = tree
    assert resolve_inside(str(base), 'a.txt') == os.path.realpath(base / 'a.txt')
    assert resolve_inside(str(base), 'sub/b.txt') == os.path.realpath(base / 'sub' / 'b.txt')
    # a symlink that stays inside is followed
    assert resolve_inside(str(base), 'inner-link.txt') == os.path.realpath(base / 'sub' / 'b.txt')
    assert resolve_inside(str(base), 'sub', folder=True) == os.path.realpath(base / 'sub')
    for not_a_folder in ('a.txt', 'escape-dir', 'missing'):
        with pytest.raises(PathNotFound):
            resolve_inside(str(base), not_a_folder, folder=True)


@pytest.mark.parametrize('requested', [
    '../outside/secret.txt', 'sub/../../outside/secret.txt', 'sub/../a.txt', './a.txt', 'sub//b.txt',
    '/etc/passwd', str('/') + 'tmp', '..', '.', '', 'sub%2fb.txt', 'sub%2Fb.txt', '..%2f..%2fetc',
    'sub%5cb.txt', 'a.txt%00', 'a.txt\0', 'escape.txt', 'escape-dir/secret.txt', 'relative-escape',
    'missing.txt', 'sub',
])
def test_resolve_inside_refuses(tree, requested):
    base, _ = tree
    with pytest.raises(PathNotFound):
        resolve_inside(str(base), requested)


def test_resolve_inside_needs_a_visible_base():
    with pytest.raises(PathNotFound):
        resolve_inside(None, 'a.txt')


# -- deleting exactly a torrent's files (lib/erase), on real folders -------------------------

def _snapshot(top):
    found = set()
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(folder, name), top))
    return found


def test_delete_files_only_the_torrents_own(tmp_path):
    root = tmp_path / 'downloads'
    torrent = root / 'Album'
    (torrent / 'CD1').mkdir(parents=True)
    (torrent / 'Empty-later').mkdir()
    for rel in ('01.flac', 'CD1/02.flac', 'Empty-later/x.bin'):
        (torrent / rel).write_bytes(b'data')
    (torrent / 'stray.nfo').write_bytes(b'not the torrent\'s')          # keeps the folder
    (root / 'Album2').mkdir()
    (root / 'Album2' / '01.flac').write_bytes(b'other torrent')
    outside = tmp_path / 'outside.bin'
    outside.write_bytes(b'precious')
    (torrent / 'link.bin').symlink_to(outside)

    report = delete_files(str(torrent), ['01.flac', 'CD1/02.flac', 'Empty-later/x.bin', 'link.bin', 'gone.bin'],
                          [str(root)], own_folder=True)
    assert sorted(report.deleted) == sorted(str(torrent / r) for r in
                                            ('01.flac', 'CD1/02.flac', 'Empty-later/x.bin', 'link.bin'))
    assert report.skipped == [(str(torrent / 'gone.bin'), 'does not exist')]
    assert sorted(report.removed_folders) == sorted([str(torrent / 'CD1'), str(torrent / 'Empty-later')])
    assert outside.read_bytes() == b'precious'
    assert _snapshot(root) == {'Album', 'Album/stray.nfo', 'Album2', 'Album2/01.flac'}


def test_delete_files_never_walks_through_a_symlinked_folder(tmp_path):
    root = tmp_path / 'downloads'
    torrent = root / 'T'
    torrent.mkdir(parents=True)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'b.bin').write_bytes(b'keep me')
    (torrent / 'sub').symlink_to(elsewhere)
    report = delete_files(str(torrent), ['sub/b.bin', '../../elsewhere/b.bin'], [str(root)], own_folder=True)
    assert report.deleted == []
    assert [path for path, _ in report.skipped] == [str(torrent / 'sub/b.bin'),
                                                   str(torrent / '../../elsewhere/b.bin')]
    assert 'symlink' in report.skipped[0][1]
    assert (elsewhere / 'b.bin').read_bytes() == b'keep me'


def test_delete_files_refuses_outside_the_roots_and_through_a_symlinked_torrent_folder(tmp_path):
    root = tmp_path / 'downloads'
    root.mkdir()
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'f.bin').write_bytes(b'x')
    report = delete_files(str(other), ['f.bin'], [str(root)])
    assert report.deleted == [] and 'not inside a download root' in report.skipped[0][1]
    (root / 'T').symlink_to(other)                    # the torrent's folder itself a symlink out
    report = delete_files(str(root / 'T'), ['f.bin'], [str(root)], own_folder=True)
    assert report.deleted == [] and 'symlink' in report.skipped[0][1]
    report = delete_files(str(root / '..' / 'other'), ['f.bin'], [str(root)])
    assert report.deleted == []
    assert (other / 'f.bin').exists()


def test_delete_files_never_removes_the_root(tmp_path):
    root = tmp_path / 'downloads'
    root.mkdir()
    (root / 'single.iso').write_bytes(b'x')
    report = delete_files(str(root), ['single.iso'], [str(root)], own_folder=True)
    assert report.deleted == [str(root / 'single.iso')] and report.removed_folders == []
    assert root.is_dir()
