"""The fast XML-RPC decoder gives exactly what xmlrpc.client gives."""
import xmlrpc.client as stdlib

import pytest

from lib import xmlrpc
from lib.transport import transport_for
from model.clients.rtorrent import commands


def answer(value):
    return stdlib.dumps((value,), methodresponse=True).encode('utf-8')


@pytest.mark.parametrize('value', [
    [['A' * 40, '<b>Bold</b> & "Quotes" \'n\' stuff', 123, -5, '', 'tab\there', '日本語']],
    ['\n', '\r\n', 'line\r\nbreaks\rhere', 'a>\n', '>', 'x\\y', '"', "'", '&amp;'],
    [[], [[]], {}, {'k': [1, {'n': 'v'}]}],
    'plain', 0, 2 ** 31 - 1,
    [{'faultCode': -501, 'faultString': 'Could not find info-hash.'}, [0]],
])
def test_same_as_xmlrpc_client(value):
    data = answer(value)
    assert xmlrpc.loads(data) == stdlib.loads(data)[0][0]


def test_crlf_layout_and_i8_as_rtorrent_writes_them():
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n<param><value>'
            b'<array><data>\r\n<value><i8>9027584123</i8></value>\r\n<value><string>a &lt;b&gt; &amp; c'
            b'</string></value>\r\n<value><string>\r\n</string></value>\r\n</data></array></value></param>'
            b'\r\n</params>\r\n</methodResponse>\r\n')
    assert xmlrpc.loads(data) == [9027584123, 'a <b> & c', '\n']     # XML reads CRLF as LF
    assert xmlrpc.loads(data) == stdlib.loads(data)[0][0]


def test_types_the_fast_path_does_not_know_still_decode():
    for value in (1.5, True, stdlib.Binary(b'\0\1'), ['untyped']):
        data = answer(value)
        if value == ['untyped']:
            data = data.replace(b'<string>untyped</string>', b'untyped')
        assert xmlrpc.loads(data) == stdlib.loads(data, use_builtin_types=True)[0][0]


def test_fault_answer_raises_fault():
    data = stdlib.dumps(stdlib.Fault(-506, "Method 'd.get_name' not defined"),
                               methodresponse=True).encode()
    with pytest.raises(xmlrpc.Fault) as info:
        xmlrpc.loads(data)
    assert info.value.faultCode == -506


@pytest.mark.parametrize('data', [b'', b'garbage', b'<?xml version="1.0"?><methodResponse><params>',
                                  b'\xff\xfe<methodResponse>'])
def test_malformed_answer_is_named(data):
    with pytest.raises(xmlrpc.MalformedAnswer) as info:
        xmlrpc.loads(data)
    assert 'answer' in str(info.value)


def test_real_rtorrent_answers_decode_identically(swarm):
    """Every list column of every torrent, and a system.multicall with a fault in it."""
    transport = transport_for(swarm.seeder.url, 10)
    fields = [c + '=' for c in commands.TORRENT.values()]
    data = transport.request(xmlrpc.dumps('d.multicall2', ['', 'main'] + fields))
    fast = xmlrpc.loads(data)
    assert fast == stdlib.loads(data)[0][0]
    assert xmlrpc._fast(data) is not xmlrpc._SLOW, 'a real rtorrent answer fell back to stdlib'
    names = {row[1] for row in fast}
    assert {t['name'] for t in swarm.torrents} <= names
    data = transport.request(xmlrpc.dumps('system.multicall', [[
        {'methodName': 'system.client_version', 'params': []},
        {'methodName': 'd.name', 'params': ['0' * 40]}]]))
    assert xmlrpc.loads(data) == stdlib.loads(data)[0][0]
    assert xmlrpc.loads(data)[1]['faultCode'] != 0
