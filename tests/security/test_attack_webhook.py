"""A webhook URL with credentials: user:password in it is sent as Basic auth (else such a
hook is silently unauthenticated), and neither the password nor a token in its query ever
reaches the log, however many attempts fail.  A real http.server records what it got."""
import base64
import logging

from lib.store import Store
from lib.transport import redacted
from lib.webhook import Webhook
from tests import rig
from tests.servers import Handler, Receiver

PASSWORD, TOKEN, SIG = 'Pa55-w0rd_secret', 'tok3n-VALUE-42', 'S1GNATURE'


class Recording(Handler):
    def do_POST(self):
        self.server.seen.append((self.headers.get('Authorization'), self.path))
        super().do_POST()


class Server(Receiver):
    def __init__(self, statuses):
        self.seen = []
        super().__init__(statuses)
        self.RequestHandlerClass = Recording


def test_credentials_are_sent_as_basic_auth_and_never_logged(tmp_path, caplog):
    server = Server(statuses=(500, 503, 204))
    port = server.server_address[1]
    url = 'http://hook-user:%s@127.0.0.1:%d/hook?token=%s&x=1&sig=%s' % (PASSWORD, port, TOKEN, SIG)
    store = Store.open(str(tmp_path / 'store.sqlite3'))
    caplog.set_level(logging.DEBUG, logger='pyrotorrent')
    hook = Webhook(url, store, poll=0.05, backoff=0.1).start()
    try:
        hook.send_later('t:a', {'n': 1})
        rig.wait_for(lambda: hook.delivered == 1, 20, 'the third attempt to be taken')
        server.statuses = [500]
        hook.attempts = 2
        hook.send_later('t:b', {'n': 2})
        rig.wait_for(lambda: not store.outbox(), 20, 'the second message to be given up')
    finally:
        hook.stop()
        server.shutdown()
    expected = 'Basic ' + base64.b64encode(('hook-user:%s' % PASSWORD).encode()).decode()
    assert len(server.seen) == 5 and all(auth == expected for auth, _ in server.seen), server.seen
    assert all(path == '/hook?token=%s&x=1&sig=%s' % (TOKEN, SIG) for _, path in server.seen)
    logged = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'failed' in logged and 'gave up' in logged, logged
    assert 'hook-user:***@127.0.0.1' in logged and 'token=***' in logged and 'sig=***' in logged, logged
    for secret in (PASSWORD, TOKEN, SIG):
        assert secret not in logged, logged
    assert all(secret not in (r.exc_text or '') for r in caplog.records for secret in (PASSWORD, TOKEN))


def test_redacted_hides_query_secrets_and_keeps_the_rest():
    assert redacted('http://u:p@h:1/x?token=A&api_key=B&Signature=C&page=2&authToken=D&password=E#f') == \
        'http://u:***@h:1/x?token=***&api_key=***&Signature=***&page=2&authToken=***&password=***#f'
    assert redacted('scgi://127.0.0.1:5000') == 'scgi://127.0.0.1:5000'
    assert redacted('https://h/hook?secret=s3&page=1') == 'https://h/hook?secret=***&page=1'


def test_redacted_keeps_urls_without_a_host_as_written():
    # urlunsplit would write these as scgi+unix:/path and sqlite://path: a page naming the
    # socket or the store's file must show the URL the user wrote in config.py
    assert redacted('scgi+unix:///home/rt/rpc.socket') == 'scgi+unix:///home/rt/rpc.socket'
    assert redacted('scgi+unix:///home/rt/rpc.socket?token=A') == 'scgi+unix:///home/rt/rpc.socket?token=***'
    assert redacted('sqlite:////var/lib/pyrotorrent/store.db') == 'sqlite:////var/lib/pyrotorrent/store.db'
    assert redacted('postgresql://pt:pw@/pt?host=/run/postgresql') == 'postgresql://pt:***@/pt?host=/run/postgresql'
