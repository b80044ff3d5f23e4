"""config.py checking: every mistake is one line naming the key; good files load."""
import os
import subprocess
import sys

import pytest

from lib import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(tmp_path, text):
    path = tmp_path / 'config.py'
    path.write_text(text)
    return str(path)


def test_example_config_loads_with_its_documented_values(tmp_path):
    cfg = config.load(os.path.join(ROOT, 'config.py.example'))
    assert cfg.BASE_URL == '/torrent' and cfg.STATIC_URL == '/static/torrent'
    assert [(t.name, t.url) for t in cfg.targets] == [('home', 'scgi+unix:///home/rtorrent/rtorrentsock/rpc.socket')]
    assert cfg.users == {} and cfg.AUTH is True


def test_manual_single_target_form_means_http_rpc2(tmp_path):
    cfg = config.load(write(tmp_path, "rtorrent_config = {'host': '192.168.1.70', 'port': 80, 'url': ''}\n"))
    assert [(t.name, t.url) for t in cfg.targets] == [('default', 'http://192.168.1.70:80/RPC2')]
    cfg = config.load(write(tmp_path, "rtorrent_config = {'host': 'h', 'port': 8080, 'url': 'xmlrpc'}\n"))
    assert cfg.targets[0].url == 'http://h:8080/xmlrpc'


def test_named_targets_keep_order_and_timeouts(tmp_path):
    cfg = config.load(write(tmp_path, (
        "TIMEOUT = 3\n"
        "targets = {'home': {'url': 'scgi+unix:///home/rtorrent/rpc.socket'},\n"
        "           'box': {'url': 'scgi://10.0.0.5:5000', 'timeout': 20},\n"
        "           'web': {'url': 'http://192.168.1.70/RPC2'}}\n")))
    assert [(t.name, t.timeout) for t in cfg.targets] == [('home', 3.0), ('box', 20.0), ('web', 3.0)]


def test_config_chosen_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PYROTORRENT_CONFIG', write(tmp_path, "targets = {'env': {'url': 'scgi://127.0.0.1:1'}}\n"))
    assert config.load().targets[0].name == 'env'


@pytest.mark.parametrize('text, words', [
    ("PAGESIZE = 10\ntargets = {'a': {'url': 'scgi://h:1'}}\n", ["'PAGESIZE'", 'PAGE_SIZE']),
    ("targets = {'a': {'url': 'scgi://h:1'}}\nrtorrent_config = {'host': 'h'}\n", ['either targets or rtorrent_config']),
    ("targets = {'a': {'url': 'scgi+unix://relative/rpc.socket'}}\n", ["targets['a']", 'absolute path']),
    ("targets = {'a': {'url': 'scgi://h'}}\n", ["targets['a']", 'no port']),
    ("targets = {'a': {'url': 'scgi://h:99999'}}\n", ["targets['a']", '65535']),
    ("targets = {'a': {'url': 'ftp://h/x'}}\n", ["targets['a']", "unknown scheme 'ftp'"]),
    ("targets = {'a': {'url': '/tmp/rpc.socket'}}\n", ["targets['a']", 'not a URL']),
    ("targets = {'a': {'url': 'scgi://h:1', 'timout': 3}}\n", ["targets['a']", "unknown key 'timout'"]),
    ("targets = {'a': {'url': 'scgi://h:1', 'timeout': -1}}\n", ["targets['a']", 'timeout']),
    ("targets = {'a b': {'url': 'scgi://h:1'}}\n", ["targets['a b']", 'target name']),
    ("targets = {}\n", ['at least one target']),
    ("BASE_URL = 'torrent'\ntargets = {'a': {'url': 'scgi://h:1'}}\n", ['BASE_URL', 'begins with "/"']),
    ("PAGE_SIZE = 0\ntargets = {'a': {'url': 'scgi://h:1'}}\n", ['PAGE_SIZE']),
    ("rtorrent_config = {'host': 'h', 'port': 'eighty'}\n", ['rtorrent_config', 'port']),
    ("BASE_URL = '/t'\n", ['no rTorrent to talk to']),
    ("targets = {'a': {'url': 'scgi://h:1'}\n", ['cannot be read', 'line']),
])
def test_bad_config_names_the_key(tmp_path, text, words):
    with pytest.raises(config.ConfigError) as info:
        config.load(write(tmp_path, text))
    message = str(info.value)
    assert '\n' not in message
    for word in words:
        assert word in message


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(config.ConfigError, match='config.py.example'):
        config.load(str(tmp_path / 'nope.py'))


def test_bad_config_stops_startup_with_one_line(tmp_path):
    path = write(tmp_path, "PAGESIZE = 10\ntargets = {'a': {'url': 'scgi://h:1'}}\n")
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', path,
                             '--http', '127.0.0.1:1'], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown setting 'PAGESIZE'" in lines[0] and 'Traceback' not in result.stderr


def test_a_password_in_a_target_url_is_never_echoed(tmp_path):
    with pytest.raises(config.ConfigError) as info:
        config.load(write(tmp_path, "targets = {'web': {'url': 'http://rt:s3cret@host:99999/RPC2'}}\n"))
    assert 's3cret' not in str(info.value) and 'http://rt:***@host:99999/RPC2' in str(info.value)


def test_run_from_a_terminal_without_a_socket_says_how_to_run_it(tmp_path):
    path = write(tmp_path, "targets = {'a': {'url': 'scgi://h:1'}}\n")
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'pyrotorrent.py'), '--config', path],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert 'standard input is not a FastCGI socket' in result.stderr and '--http HOST:PORT' in result.stderr
