"""Talking to a real qbittorrent-nox: the target's URL and capabilities, its login by SID
cookie, a new login once its session is gone (a restart), a wrong password and a banned
address said in words (by the backend, test.py and the pages), every answer bounded in time
and size."""
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from lib import config
from lib.transport import BadURL
from model.clients import backend_for
from model.clients.errors import BadAnswer, LoginRefused, TimedOut, Unreachable
from model.clients.qbittorrent import QBittorrent
from model.clients.types import ListQuery
from tests import rig, rig_qbittorrent, webapp


def test_a_target_names_it_and_its_capabilities_say_what_it_can(qbittorrent):
    target = config.from_dict({'targets': {'q': {'url': qbittorrent.url, 'client': 'qbittorrent'}}}).targets[0]
    backend = backend_for(target)
    assert isinstance(backend, QBittorrent) and backend.client == 'qBittorrent'
    assert backend.url == 'http://%s:***@%s:%d/' % (qbittorrent.user, qbittorrent.bind, qbittorrent.webui_port)
    caps = backend.CAPABILITIES
    assert caps.labels == 'one' and caps.queue and not caps.views and not caps.tracker_toggle
    assert 'pause' not in caps.actions and {'start', 'stop', 'start_now', 'recheck', 'queue_top'} <= set(caps.actions)
    assert backend.version() == (qbittorrent.version.lstrip('v'), '')
    assert backend.transport.logins == 1 and backend.transport.sid


def test_a_url_without_credentials_or_not_http_is_refused_in_words(qbittorrent):
    with pytest.raises(BadURL, match='needs its WebUI user and password in the URL'):
        QBittorrent('http://%s:%d/' % (qbittorrent.bind, qbittorrent.webui_port))
    with pytest.raises(BadURL, match='needs the http\\(s\\) URL of its WebUI'):
        QBittorrent('scgi://127.0.0.1:5000')


def test_a_restart_forgets_the_session_and_it_logs_in_once_more(tmp_path):
    daemon = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q')).start()
    try:
        backend = QBittorrent(daemon.url, name='restarted')
        before = backend.instance()
        time.sleep(1.1)             # its log's clock counts whole seconds
        old_sid = backend.transport.sid
        daemon.stop()
        with pytest.raises(Unreachable, match="qBittorrent 'restarted' at .* is not reachable: connection refused"):
            backend.torrent_list(ListQuery())
        daemon.start()
        assert backend.torrent_list(ListQuery()).total == 0        # its old SID got 403: a new login, once
        assert backend.transport.logins == 2 and backend.transport.sid != old_sid
        assert backend.instance() != before and backend.instance().startswith('qBittorrent started ')
        assert QBittorrent(daemon.url).instance() == backend.instance()       # the same run, whoever asks
    finally:
        daemon.stop()


def test_a_wrong_password_then_a_ban_are_said_in_words_by_the_backend_test_py_and_the_pages(tmp_path):
    daemon = rig_qbittorrent.QBittorrentDaemon(str(tmp_path / 'q'), conf={
        '[Preferences] WebUI\\MaxAuthenticationFailCount': 2, '[Preferences] WebUI\\BanDuration': 600}).start()
    try:
        wrong = 'http://%s:nope@%s:%d/' % (daemon.user, daemon.bind, daemon.webui_port)
        with pytest.raises(LoginRefused) as caught:
            QBittorrent(wrong, name='locked').version()
        assert str(caught.value).startswith("qBittorrent 'locked' at http://pyro:***@%s:%d/ refused pyroTorrent: "
                                            "wrong user name or password for its WebUI" % (daemon.bind, daemon.webui_port))
        config_path = tmp_path / 'config.py'
        config_path.write_text('targets = {"q": {"url": %r, "client": "qbittorrent"}}\n' % wrong)
        done = subprocess.run([sys.executable, os.path.join(webapp.ROOT, 'test.py'), str(config_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert done.returncode == 1
        assert 'q: Failed to connect to qBittorrent: wrong user name or password' in done.stdout.decode()
        # that was its second failure: the address is banned now, the right password too
        with pytest.raises(LoginRefused, match='it has banned the address pyroTorrent connects from'):
            QBittorrent(daemon.url, name='banned').version()
        web = webapp.client({'q': {'url': daemon.url, 'client': 'qbittorrent'}})
        page = web.get('/target/q/')
        text = webapp.page_text(page.get_data(as_text=True))
        assert page.status_code == 502 and 'banned the address pyroTorrent connects from' in text
        assert 'Traceback' not in text
    finally:
        daemon.stop()


def test_test_py_names_its_version(qbittorrent, tmp_path):
    config_path = tmp_path / 'config.py'
    config_path.write_text('targets = {"q": {"url": %r, "client": "qbittorrent"}}\n' % qbittorrent.url)
    done = subprocess.run([sys.executable, os.path.join(webapp.ROOT, 'test.py'), str(config_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert done.returncode == 0 and 'q: qBittorrent version: %s' % qbittorrent.version.lstrip('v') in done.stdout.decode()


def test_an_answer_larger_than_the_cap_or_too_slow_is_refused_in_words(qbittorrent):
    backend = QBittorrent(qbittorrent.url, name='capped', max_answer_bytes=20)
    with pytest.raises(BadAnswer, match='larger than the 20 bytes|more than the 20 bytes'):
        backend.torrent_list(ListQuery())
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(1)
    held = []           # the accepted connection stays open, unanswered
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(TimedOut, match='no answer within 0.5 s'):
        QBittorrent('http://a:b@127.0.0.1:%d/' % silent.getsockname()[1], timeout=0.5).version()
    assert time.monotonic() - started < 5       # the deadline held, generously
    silent.close()
