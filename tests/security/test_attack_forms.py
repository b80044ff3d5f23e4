"""Huge form bodies and double submissions on the settings, schedule, rules and add routes,
over a real rtorrent: a many-MB body is a 413 in words before a byte of it is read, a body
of 100,000 fields a 413 before it is parsed; the same rules form sent twice (back button,
double click) leaves one rule, and a rule turned off twice stays off."""
import io

import pytest
from werkzeug.datastructures import MultiDict

from tests import rig, webapp
from tests.webapp import page_text

FORM_ROUTES = ['/target/t/settings', '/target/t/schedule', '/target/t/rules', '/target/t/limits',
               '/target/t/action', '/login', '/columns']
JSON_ROUTES = ['/api/target/t/settings', '/api/target/t/schedule', '/api/target/t/rules',
               '/api/target/t/rules/preview', '/api/target/t/action']


class Counting(io.BytesIO):
    """A request body that counts how much of it was read."""

    read_bytes = 0

    def _counted(self, data):
        self.read_bytes += len(data)
        return data

    def read(self, size=-1):
        return self._counted(super().read(size))

    def read1(self, size=-1):
        return self._counted(super().read1(size))

    def readline(self, size=-1):
        return self._counted(super().readline(size))

    def readinto(self, buffer):
        n = super().readinto(buffer)
        self.read_bytes += n
        return n


@pytest.fixture(scope='module')
def box(make_box):
    made = make_box('forms')
    made.daemon.load_many(rig.synthetic_torrents(2, seed='forms'), label='Linux ISOs')
    return made


@pytest.fixture
def web(box, tmp_path):
    return box.web(tmp_path)


def token(web, path='/target/t/rules'):
    return webapp.csrf_token(web.get(path).get_data(as_text=True))


def post_body(web, path, data, content_type, csrf):
    stream = Counting(data)
    answer = web.post(path, input_stream=stream, content_length=len(data), content_type=content_type,
                      headers={'X-CSRF-Token': csrf})
    return answer, stream.read_bytes


def test_a_many_megabyte_body_is_a_413_before_it_is_read(web):
    csrf = token(web)
    body = b'csrf_token=' + csrf.encode() + b'&note=' + b'x' * (8 * 1024 * 1024)      # under MAX_UPLOAD_BYTES
    for path in FORM_ROUTES + JSON_ROUTES:
        kind = 'application/json' if path.startswith('/api/') else 'application/x-www-form-urlencoded'
        answer, read = post_body(web, path, body, kind, csrf)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 413, (path, answer.status_code, page_text(text)[:300])
        assert read == 0, (path, read)
        assert 'larger than pyroTorrent takes here (at most 2.0 MiB' in text and 'nothing was changed' in text, text
    upload = b'--B\r\nContent-Disposition: form-data; name="torrent"; filename="a.torrent"\r\n\r\n' + \
        b'x' * (30 * 1024 * 1024) + b'\r\n--B--\r\n'
    answer, read = post_body(web, '/target/t/add', upload, 'multipart/form-data; boundary=B', csrf)
    assert answer.status_code == 413 and read == 0 and 'MAX_UPLOAD_BYTES' in answer.get_data(as_text=True)


def test_a_body_of_100000_fields_is_a_413_before_it_is_parsed(web):
    csrf = token(web)
    body = ('csrf_token=%s&' % csrf + 'a=1&' * 100000).encode()
    for path in FORM_ROUTES:
        answer, _ = post_body(web, path, body, 'application/x-www-form-urlencoded', csrf)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 413, (path, answer.status_code, page_text(text)[:300])
        assert '20,000 fields' in text and 'nothing was changed' in text, text
    parts = b''.join(b'--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n' for _ in range(100000))
    answer, _ = post_body(web, '/target/t/add', parts + b'--B--\r\n', 'multipart/form-data; boundary=B', csrf)
    assert answer.status_code == 413, page_text(answer.get_data(as_text=True))[:300]
    # a large legitimate form still passes: 1,000 selected torrents on the list page
    many = MultiDict([('csrf_token', csrf), ('action', 'stop')] + [('hash', '%040X' % n) for n in range(1000)])
    answer = web.post('/target/t/action', data=many)
    assert answer.status_code in (303, 400) and 'Too Large' not in answer.get_data(as_text=True)


def test_the_same_rules_form_twice_keeps_one_rule_and_off_twice_stays_off(web):
    form = {'csrf_token': token(web), 'rule_name': 'iso stop', 'match': 'label', 'match_value': 'Linux ISOs',
            'when': 'ratio', 'when_value': '2', 'do': 'stop'}
    assert web.post('/target/t/rules', data=form).status_code == 303
    assert web.post('/target/t/rules', data=form).status_code == 303          # the back button, a double click
    assert [r['name'] for r in web.get('/api/target/t/rules').json['rules']] == ['iso stop']
    page = web.get('/target/t/rules').get_data(as_text=True)
    assert 'name="disable" value="iso stop"' in page
    off = {'csrf_token': token(web), 'disable': 'iso stop'}
    for _ in range(2):
        assert web.post('/target/t/rules', data=off).status_code == 303
        assert [r['enabled'] for r in web.get('/api/target/t/rules').json['rules']] == [False]
    on = {'csrf_token': token(web), 'enable': 'iso stop'}
    for _ in range(2):
        assert web.post('/target/t/rules', data=on).status_code == 303
        assert [r['enabled'] for r in web.get('/api/target/t/rules').json['rules']] == [True]
