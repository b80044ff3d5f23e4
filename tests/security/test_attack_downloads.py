"""Issue 9, holes 1 and 2, performed for real: a `user` reads files that are not the
torrent's through the download and zip routes, or moves a torrent's data anywhere.

A multi-file torrent may list zero-length files, and rtorrent counts an empty file as
complete; the download routes then served whatever lay on disk at the torrent's folder +
the file's path.  The directory action checked only that the path was absolute.
"""
import hashlib
import io
import os
import zipfile

import pytest

from lib import auth, bencode
from tests import rig, webapp

PASSWORD = 'correct horse battery'
SECRET = b'TOP SECRET: another torrent left this file here\n'


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('attack-dl')
    daemon, workdir = made.daemon, made.workdir
    adds = os.path.join(workdir, 'adds')
    elsewhere = os.path.join(workdir, 'default')     # rtorrent's default folder, declared nowhere
    for folder in (adds, elsewhere):
        os.makedirs(folder)
    # another torrent's file, in the folder users may add into
    os.makedirs(os.path.join(adds, 'secret'))
    with open(os.path.join(adds, 'secret', 'data.bin'), 'wb') as f:
        f.write(SECRET)
    return {'daemon': daemon, 'workdir': workdir, 'adds': adds, 'elsewhere': elsewhere, 'box': made}


def hostile_torrent(name, empty, filler=16384):
    """A multi-file torrent `name` listing the zero-length file `empty` and a filler file
    whose data nobody has (so it never completes)."""
    filler_data = b'\x07' * filler
    info = {b'name': name.encode(), b'piece length': 16384,
            b'pieces': hashlib.sha1(filler_data).digest(),
            b'files': [{b'length': 0, b'path': [p.encode() for p in empty.split('/')]},
                       {b'length': filler, b'path': [b'filler.bin']}]}
    return bencode.encode({b'announce': b'http://127.0.0.1:1/announce', b'info': info})


def user_client(box, **target):
    users = {'mallory': {'password': auth.hash_password(PASSWORD), 'role': 'user'}}
    return box['box'].web(users=users, login_as=('mallory', PASSWORD),
                          target=dict({'add_directories': [box['adds']]}, **target))


def add(web, torrent, directory):
    page = web.get('/target/t/add').get_data(as_text=True)
    answer = web.post('/target/t/add', data={'csrf_token': webapp.csrf_token(page), 'directory': directory,
                                             'start': 'yes', 'files': (io.BytesIO(torrent), 'x.torrent')},
                      content_type='multipart/form-data')
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return bencode.info_hash(torrent)


def test_an_empty_file_serves_nothing_from_disk(box):
    """The secret lies at adds/secret/data.bin; a torrent 'secret' listing an empty
    data.bin, added into adds, must not hand it out (download or zip)."""
    web = user_client(box)
    h = add(web, hostile_torrent('secret', 'data.bin'), box['adds'])
    daemon = box['daemon']
    daemon.wait(lambda: daemon.call('d.hashing', h) == 0 and daemon.call('d.is_open', h) == 1, 20, 'the check')
    answer = web.get('/target/t/torrent/%s/data/data.bin' % h)
    assert SECRET not in answer.get_data()
    assert answer.status_code == 200 and answer.get_data() == b'' and answer.headers['Content-Length'] == '0'
    archive = web.get('/target/t/torrent/%s/archive' % h)
    assert archive.status_code == 200 and SECRET not in archive.get_data()
    with zipfile.ZipFile(io.BytesIO(archive.get_data())) as z:
        assert z.namelist() == ['secret/data.bin'] and z.read('secret/data.bin') == b''
    with open(os.path.join(box['adds'], 'secret', 'data.bin'), 'rb') as f:
        assert f.read() == SECRET       # and the other torrent's file is untouched


def test_a_file_outside_the_declared_folders_is_not_served(box):
    """A complete torrent whose data lies in a folder the target does not declare (not in
    download_roots, not in add_directories) is not served at all."""
    daemon = box['daemon']
    payload = rig.make_payload(box['elsewhere'], 'plain.txt', 5000)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce',
                                     os.path.join(box['workdir'], 'plain.torrent')), directory=box['elsewhere'])
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 20, 'the check')
    web = user_client(box)
    answer = web.get('/target/t/torrent/%s/data/plain.txt' % h)
    assert answer.status_code == 404 and 'outside the folders' in answer.get_data(as_text=True)
    assert web.get('/target/t/torrent/%s/archive' % h).status_code == 404
    # declared as a download root, it is served, byte for byte
    web = user_client(box, download_roots=[box['elsewhere']])
    answer = web.get('/target/t/torrent/%s/data/plain.txt' % h)
    with open(payload, 'rb') as f:
        assert answer.status_code == 200 and answer.get_data() == f.read()


def test_a_file_of_another_size_than_the_torrent_says_is_not_served(box):
    """Bytes on disk that are not what the torrent says (its size) are not its data."""
    daemon = box['daemon']
    payload = rig.make_payload(box['adds'], 'sized.bin', 3000)
    h = daemon.load(rig.make_torrent(payload, 'http://127.0.0.1:1/announce',
                                     os.path.join(box['workdir'], 'sized.torrent')), directory=box['adds'])
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 20, 'the check')
    with open(payload, 'ab') as f:
        f.write(SECRET)                 # rtorrent still says complete: it checked before
    web = user_client(box)
    answer = web.get('/target/t/torrent/%s/data/sized.bin' % h)
    assert answer.status_code == 404 and SECRET not in answer.get_data()
    assert '3,000 bytes' in answer.get_data(as_text=True) or '3000' in answer.get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(web.get('/target/t/torrent/%s/archive' % h).get_data())) as z:
        assert z.namelist() == []


@pytest.mark.parametrize('where', ['/', 'rtorrent home', 'a sibling of the add folder', '/etc'])
def test_the_directory_action_obeys_the_add_folders(box, where):
    """A stopped, closed torrent cannot be moved out of the folders users may add into:
    rtorrent's home (where a seeded '.rtorrent.rc' would overwrite its config) or '/'."""
    daemon = box['daemon']
    web = user_client(box)
    h = add(web, hostile_torrent('etc', 'passwd'), box['adds'])
    page = web.get('/target/t/torrent/%s/' % h).get_data(as_text=True)
    token = webapp.csrf_token(page)
    for action in ('stop', 'close'):
        web.post('/target/t/action', data={'csrf_token': token, 'hash': h, 'action': action})
    daemon.wait(lambda: daemon.call('d.is_open', h) == 0, 10, 'closed')
    target = {'/': '/', 'rtorrent home': os.path.join(box['workdir'], 'rt'),
              'a sibling of the add folder': box['adds'] + '-evil', '/etc': '/etc'}[where]
    before = daemon.call('d.directory', h)
    answer = web.post('/target/t/action', data={'csrf_token': token, 'hash': h, 'action': 'directory',
                                                'directory': target})
    assert answer.status_code == 400
    assert 'not inside the folders this target allows' in answer.get_data(as_text=True)
    assert daemon.call('d.directory', h) == before
    # inside the add folder it is allowed
    inside = os.path.join(box['adds'], 'moved')
    answer = web.post('/target/t/action', data={'csrf_token': token, 'hash': h, 'action': 'directory',
                                                'directory': inside})
    assert answer.status_code == 303 and daemon.call('d.directory', h).rstrip('/') in (inside, inside + '/etc')
    daemon.call('d.erase', h)
