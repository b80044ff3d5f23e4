"""Issue 9, the small holes, performed for real against the app and a real rtorrent:
a JSON body nested 100,000 deep, labels and view names with control characters or NUL,
a file name holding a line break."""
import hashlib
import json
import os

import pytest

from lib import bencode


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('small')
    daemon, workdir = made.daemon, made.workdir
    data = os.path.join(workdir, 'data')
    os.makedirs(os.path.join(data, 'odd'))
    content = b'two\nlines\n' * 100
    with open(os.path.join(data, 'odd', 'line\nbreak.txt'), 'wb') as f:
        f.write(content)
    info = {b'name': b'odd', b'piece length': 16384, b'pieces': hashlib.sha1(content).digest(),
            b'files': [{b'length': len(content), b'path': [b'line\nbreak.txt']}]}
    h = daemon.load(bencode.encode({b'announce': b'http://127.0.0.1:1/announce', b'info': info}), directory=data)
    daemon.wait(lambda: daemon.call('d.complete', h) == 1, 20, 'the check')
    web = made.web(target={'download_roots': [data]})
    return {'daemon': daemon, 'web': web, 'hash': h, 'content': content}


def token(web):
    return json.loads(web.get('/api/session').get_data())['csrf_token']


@pytest.mark.parametrize('path', ['/api/target/t/action', '/api/target/t/add'])
def test_json_nested_100000_deep_is_a_400_in_words(box, path):
    web = box['web']
    body = '[' * 100000 + ']' * 100000
    answer = web.post(path, data=body, content_type='application/json', headers={'X-CSRF-Token': token(web)})
    assert answer.status_code == 400
    assert 'Internal Server Error' not in answer.get_data(as_text=True)


@pytest.mark.parametrize('label', ['a\nb', 'nul\x00here', 'tab\there', 'bell\x07'])
def test_control_characters_in_a_label_or_view_are_a_400_not_a_502(box, label):
    web = box['web']
    answer = web.get('/target/t/', query_string={'label': label})
    assert answer.status_code == 400 and 'control characters' in answer.get_data(as_text=True)
    answer = web.get('/target/t/view/%s/' % label.replace('\x00', '%00').replace('\n', '%0A'))
    assert answer.status_code in (400, 404) and 'not reachable' not in answer.get_data(as_text=True)
    answer = web.post('/api/target/t/action', data=json.dumps({'action': 'label', 'hashes': [box['hash']],
                                                                'label': label}),
                      content_type='application/json', headers={'X-CSRF-Token': token(web)})
    assert answer.status_code == 400 and 'control characters' in answer.get_data(as_text=True)
    assert box['daemon'].call('d.custom1', box['hash']) == ''


def test_a_file_name_with_a_line_break_can_be_downloaded(box):
    answer = box['web'].get('/target/t/torrent/%s/data/odd%%2F' % box['hash'])
    assert answer.status_code == 404                     # an encoded separator stays refused
    answer = box['web'].get('/target/t/torrent/%s/data/line%%0Abreak.txt' % box['hash'])
    assert answer.status_code == 200 and answer.get_data() == box['content']
