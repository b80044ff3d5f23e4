"""The webhook: events POSTed as JSON to a local http.server; a server that hangs or fails
is retried with backoff and never holds up the worker's tick; non-http URLs are refused."""
import socket
import time

import pytest

from lib import config
from lib.store import Store
from lib.webhook import Webhook
from tests import fakes, rig
from tests.servers import Receiver
from tests.workers import WorkerProcess, write_config


@pytest.fixture
def store(tmp_path):
    return Store.open(str(tmp_path / 'store.sqlite3'))


def test_a_message_is_posted_as_json_once(store):
    server = Receiver()
    hook = Webhook(server.url, store, poll=0.1).start()
    try:
        hook.send_later('t:finished:X', {'kind': 'finished', 'text': "'x' finished downloading"})
        hook.send_later('t:finished:X', {'kind': 'finished', 'text': 'the same key again'})
        rig.wait_for(lambda: hook.delivered == 1 and not store.outbox(), 10, 'the message to be delivered')
        time.sleep(0.3)
    finally:
        hook.stop()
        server.shutdown()
    assert server.bodies == [('application/json', {'kind': 'finished', 'text': "'x' finished downloading"})]


def test_a_failing_server_is_retried_with_backoff_then_given_up(store):
    server = Receiver(statuses=(500, 503, 204))
    hook = Webhook(server.url, store, poll=0.05, backoff=0.2).start()
    try:
        hook.send_later('t:a', {'n': 1})
        rig.wait_for(lambda: hook.delivered == 1, 20, 'the third attempt to be taken')
    finally:
        hook.stop()
    assert len(server.bodies) == 3
    server.statuses = [500]
    hook = Webhook(server.url, store, poll=0.05, backoff=0.05, attempts=3).start()
    try:
        hook.send_later('t:b', {'n': 2})
        rig.wait_for(lambda: len(server.bodies) == 6 and not store.outbox(), 20, 'three attempts, then none')
    finally:
        hook.stop()
        server.shutdown()


def test_a_server_that_hangs_has_a_deadline_and_the_worker_ticks_on(tmp_path):
    """A listening socket that never answers: each attempt ends at its deadline, and a real
    worker's heartbeat keeps its pace meanwhile."""
    hang = socket.socket()
    hang.bind(('127.0.0.1', 0))
    hang.listen(16)                      # accepts (the kernel does), never reads, never answers
    url = 'http://127.0.0.1:%d/hook' % hang.getsockname()[1]
    store = Store.open(str(tmp_path / 'direct.sqlite3'))
    hook = Webhook(url, store, deadline=1.0, poll=0.05)
    store.enqueue('t:x', '{}')
    started = time.monotonic()
    assert hook.deliver(store.due()[0]) is False
    assert time.monotonic() - started < 5
    assert store.outbox()[0].attempts == 1 and 'no answer within 1 s' in store.outbox()[0].last_error

    daemon = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    try:
        path = str(tmp_path / 'store.sqlite3')
        cfg = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=path,
                           WORKER_TICK_SECONDS=0.5, WEBHOOK_URL=url)
        worker = WorkerProcess(cfg, str(tmp_path / 'worker.log'))
        try:
            rig.wait_for(lambda: Store.open(path).seen('t'), 20, 'the first look')
            daemon.load_many(rig.synthetic_torrents(3, seed='hook'))
            rig.wait_for(lambda: len(Store.open(path).outbox()) == 3, 20, 'three added events queued')
            first = Store.open(path).heartbeat('worker').ticked_at
            time.sleep(3)                # the webhook waits out its 5 s deadline meanwhile
            beats = Store.open(path).heartbeat('worker').ticked_at
            assert beats - first >= 1.5        # ticks went on (0.5 s each), not held up by the hang
        finally:
            assert worker.stop() == 0
        assert 'webhook' in worker.log() or Store.open(path).outbox()[0].attempts == 0
    finally:
        daemon.stop()
        hang.close()


def test_only_http_urls_are_taken():
    for bad in ('file:///etc/passwd', 'gopher://x/', 'javascript:alert(1)', 'http:///nohost'):
        with pytest.raises(config.ConfigError, match='WEBHOOK_URL must be an http'):
            config.from_dict({'targets': {'a': {'url': 'scgi://127.0.0.1:5000'}}, 'WEBHOOK_URL': bad})
    with pytest.raises(ValueError):
        Webhook('ftp://x/', None)


def test_the_worker_posts_real_events(tmp_path):
    server = Receiver()
    daemon = rig.RTorrentDaemon(str(tmp_path / 'rt')).start()
    try:
        path = str(tmp_path / 'store.sqlite3')
        cfg = write_config(str(tmp_path / 'config.py'), targets={'t': {'url': daemon.url}}, STORE=path,
                           WORKER_TICK_SECONDS=0.5, WEBHOOK_URL=server.url)
        worker = WorkerProcess(cfg, str(tmp_path / 'worker.log'))
        try:
            rig.wait_for(lambda: Store.open(path).seen('t'), 20, 'the first look')
            added = daemon.load_many(rig.synthetic_torrents(1, seed='hook-real'))[0]
            rig.wait_for(lambda: server.bodies, 20, 'the webhook to be called')
        finally:
            worker.stop()
    finally:
        daemon.stop()
        server.shutdown()
    body = server.bodies[0][1]
    assert body['kind'] == 'added' and body['subject'] == added and body['target'] == 't'
    assert body['text'].endswith("' was added") and isinstance(body['seq'], int)


def test_a_server_that_trickles_is_cut_at_the_deadline_of_the_whole_attempt(tmp_path):
    """A real server that answers one byte every 0.3 s: no single read ever waits 1 s, but
    the attempt as a whole (connect, send, status) ends at its 1 s deadline."""
    server = fakes.FakeServer(fakes.trickle(b'HTTP/1.1 204 No Content\r\nX-Slow: ' + b'z' * 200 + b'\r\n\r\n'))
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    hook = Webhook(server.base + '/hook', store, deadline=1.0)
    store.enqueue('t:slow', '{"n": 1}')
    started = time.monotonic()
    try:
        assert hook.deliver(store.due()[0]) is False
        took = time.monotonic() - started
    finally:
        server.close()
    assert took < 3.0, 'the attempt took %.1f s, its deadline is 1 s' % took
    kept = store.outbox()[0]
    assert kept.attempts == 1 and 'no answer within 1 s' in kept.last_error
