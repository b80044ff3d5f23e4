"""The add page after a batch (issue 16, item 7), against a real rtorrent of this module's own
and links served by a local HTTP server (127.0.3.2): the links not added come
back in the box and the added ones do not, every kind of refusal reads once, a link into a
non-public network says how to allow it (the setting to an admin, whom to ask to a user),
the label box suggests the target's labels (as text); then in headless Chromium a drop on
the add page uses the form's choices, and a drop on the list page waits for the user's."""
import base64
import functools
import html.parser
import http.server
import re
import socket
import threading

import pytest

from lib import auth, metafile
from tests import rig, webapp
from tests.browser import csp_errors, wait
from tests.servers import QuietHandler
from tests.webapp import Results, fields, page_text, post_add

# servers of links, not daemons: inside the one network (127.0.3.0/24) these tests allow links into
SERVED_ADDRESS, DEAD_ADDRESS, SILENT_ADDRESS = '127.0.3.2', '127.0.3.3', '127.0.3.4'
PASSWORDS = {'bob': 'bob-secret-2', 'ada': 'ada-secret-4'}
USERS = {'bob': {'password': auth.hash_password(PASSWORDS['bob']), 'role': 'user'},
         'ada': {'password': auth.hash_password(PASSWORDS['ada']), 'role': 'admin'}}
HEADINGS = ('Refused', 'Not fetched', 'Not added')


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('adding-page').daemon


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    """(folder, base URL) of a local HTTP server on 127.0.3.2."""
    folder = tmp_path_factory.mktemp('served')
    server = http.server.ThreadingHTTPServer((SERVED_ADDRESS, 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, 'http://%s:%d' % (SERVED_ADDRESS, server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def silent():
    """A port on 127.0.3.4 that takes connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind((SILENT_ADDRESS, 0))
    sock.listen(16)
    yield 'http://%s:%d/slow.torrent' % (SILENT_ADDRESS, sock.getsockname()[1])
    sock.close()


def make_client(daemon, tmp_path, who='bob', **settings):
    settings.setdefault('users', USERS)
    settings.setdefault('session_options', {'session.data_dir': str(tmp_path / ('sessions-' + who))})
    settings.setdefault('FETCH_ALLOW_NETWORKS', ['127.0.3.0/24'])
    web = webapp.client({'box': {'url': daemon.url}}, **settings)
    assert webapp.login(web, who, PASSWORDS[who], next='/').status_code == 303
    web.token = webapp.csrf_token(web.get('/').get_data(as_text=True))
    return web


@pytest.fixture
def web(daemon, tmp_path):
    return make_client(daemon, tmp_path)


_SEQ = iter(range(10_000))


def fresh(n=1):
    """n never-loaded synthetic .torrent files: [(bytes, Metafile)]."""
    return [(data, metafile.parse(data))
            for data in rig.synthetic_torrents(n, start=next(_SEQ) * 20, seed='adding-page')]


class Form(html.parser.HTMLParser):
    """The add form's links box and the label box's suggestions (as the browser reads them)."""

    def __init__(self, page):
        super().__init__()
        self.links, self.suggestions, self.label_list = None, [], None
        self._in_links = self._in_datalist = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'textarea' and attrs.get('name') == 'links':
            self._in_links, self.links = True, ''
        elif tag == 'datalist' and attrs.get('id') == 'add-labels':
            self._in_datalist = True
        elif tag == 'option' and self._in_datalist:
            self.suggestions.append(attrs['value'])
        elif tag == 'input' and attrs.get('name') == 'label':
            self.label_list = attrs.get('list')

    def handle_endtag(self, tag):
        if tag == 'textarea':
            self._in_links = False
        elif tag == 'datalist':
            self._in_datalist = False

    def handle_data(self, data):
        if self._in_links:
            self.links += data


def shown(answer):
    assert answer.status_code == 200, page_text(answer.get_data(as_text=True))
    page = answer.get_data(as_text=True)
    return Results(page).items, Form(page)


# ---------------------------------------------------------------- the links box after a batch

def test_the_links_not_added_come_back_in_the_box_and_the_added_ones_do_not(web, daemon, served):
    folder, base = served
    (one_bytes, one), (two_bytes, two), (_, magnet_source), (file_bytes, uploaded) = fresh(4)
    (folder / 'one.torrent').write_bytes(one_bytes)
    (folder / 'two.torrent').write_bytes(two_bytes)
    (folder / 'page.html').write_text('<!DOCTYPE html><html><body>a page</body></html>')
    good_magnet = 'magnet:?xt=urn:btih:%s&tr=http://127.0.0.1:1/announce' % magnet_source.info_hash
    dead = 'http://%s:%d/gone.torrent' % (DEAD_ADDRESS, rig.free_port(DEAD_ADDRESS))
    lines = [base + '/one.torrent', 'magnet:?xt=urn:btih:nothex', 'http://10.1.2.3/x.torrent', good_magnet,
             dead, base + '/page.html', base + '/missing.torrent', base + '/two.torrent',
             base + '/one.torrent']                       # a repeat of one added: nothing to retry
    items, form = shown(post_add(web, [(file_bytes, 'up.torrent')], links='\n'.join(lines) + '\n', start='no'))
    assert [s for s, _, _ in items] == ['added', 'added', 'refused', 'refused', 'added', 'refused', 'refused',
                                        'refused', 'added', 'refused']
    assert {one.info_hash, two.info_hash, magnet_source.info_hash, uploaded.info_hash} <= set(daemon.hashes())
    assert form.links.splitlines() == ['magnet:?xt=urn:btih:nothex', 'http://10.1.2.3/x.torrent', dead,
                                       base + '/page.html', base + '/missing.torrent']


def test_the_box_says_the_links_are_back_and_a_fully_added_batch_empties_it(web, served):
    folder, base = served
    [(data, _)] = fresh()
    (folder / 'three.torrent').write_bytes(data)
    answer = post_add(web, links='%s/three.torrent\nhttp://10.0.0.9/x.torrent' % base)
    text = page_text(answer.get_data(as_text=True))
    assert 'The link not added is back in the links box below' in text
    assert Form(answer.get_data(as_text=True)).links == 'http://10.0.0.9/x.torrent'
    [(data, _)] = fresh()
    (folder / 'four.torrent').write_bytes(data)
    answer = post_add(web, links=base + '/four.torrent')
    items, form = shown(answer)
    assert [s for s, _, _ in items] == ['added'] and form.links == ''
    assert 'back in the links box' not in page_text(answer.get_data(as_text=True))


# ---------------------------------------------------------------- the words of every refusal

def doubled(text):
    """A word written twice in a row ('refused: refused'), or None."""
    found = re.search(r'\b([a-z]+)\W+\1\b', text, re.IGNORECASE)
    return found and found.group(0)


def test_every_kind_of_refusal_reads_once(web, daemon, served, silent):
    folder, base = served
    (data, item), = fresh()
    (folder / 'big.torrent').write_bytes(b'd' + b'x' * (metafile.MAX_SIZE + 10))
    (folder / 'page.html').write_text('<!DOCTYPE html><html><body>a page</body></html>')
    (folder / 'dup.torrent').write_bytes(data)
    dead = 'http://%s:%d/gone.torrent' % (DEAD_ADDRESS, rig.free_port(DEAD_ADDRESS))
    cases = [   # (link, heading, words of its reason)
        ('http://10.1.2.3/x.torrent', 'Refused', '10.1.2.3 is a private address; links to this machine or its local networks are not fetched'),
        ('http://[::1]/x.torrent', 'Refused', '::1 is a loopback address'),
        ('http://169.254.169.254/latest', 'Refused', '169.254.169.254 is a link-local address'),
        ('ftp://example.org/x.torrent', 'Refused', 'only http and https links can be fetched, not ftp'),
        (base + '/big.torrent', 'Refused', 'it is {:,} bytes, more than the {:,} bytes a .torrent may have'.format(
            metafile.MAX_SIZE + 11, metafile.MAX_SIZE)),
        (base + '/page.html', 'Refused', 'this is a web page, not a .torrent file'),
        ('magnet:?xt=urn:btih:nothex', 'Refused', 'info-hash'),
        (base + '/dup.torrent', None, None),
        (base + '/dup.torrent', 'Not added', 'the same torrent as item 10 of this batch'),
        (dead, 'Not fetched', 'cannot connect to %s (connection refused)' % DEAD_ADDRESS),
        (base + '/missing.torrent', 'Not fetched', 'the server answered 404'),
        ('http://no-such-host.invalid/x.torrent', 'Not fetched', 'cannot find the address of no-such-host.invalid'),
        (silent, 'Not fetched', 'no complete answer within 15 s'),
    ]
    [(known_bytes, known)] = fresh()
    assert post_add(web, [(known_bytes, 'k.torrent')], start='no').status_code == 200
    answer = post_add(web, [(known_bytes, 'again.torrent'), (b'd4:infoi1ee', 'broken.torrent')],
                      links='\n'.join(link for link, _, _ in cases), start='no')
    items, _ = shown(answer)
    assert items[0][0] == 'present' and 'Already there (nothing changed)' in items[0][2]
    assert items[1][0] == 'refused' and items[1][2].startswith('Refused: ')
    for (link, heading, words), (status, _, text) in zip(cases, items[2:]):
        if heading is None:
            assert status == 'added', text
            continue
        assert status == 'refused' and text.startswith(heading + ': '), text
        assert words in text, (words, text)
        said = text.split(' from ')[0]              # the heading and the reason, not the link
        assert not said[len(heading) + 2:].lower().startswith(('refused', 'not ')), text
        assert doubled(said) is None and said.lower().count('refused') <= 1, text
    assert len(items) == 2 + len(cases)
    assert item.info_hash in daemon.hashes()


# ---------------------------------------------------------------- how to allow a LAN link

def test_an_admin_is_told_the_setting_and_a_user_whom_to_ask(daemon, served, tmp_path):
    folder, base = served
    [(data, item)] = fresh()
    (folder / 'lan.torrent').write_bytes(data)
    links = '%s/lan.torrent\nhttp://192.168.1.7/x.torrent' % base
    ada = make_client(daemon, tmp_path, 'ada', FETCH_ALLOW_NETWORKS=['10.9.0.0/16'])
    items, _ = shown(post_add(ada, links=links))
    assert [s for s, _, _ in items] == ['refused', 'refused']
    assert ("set FETCH_ALLOW_NETWORKS = ['10.9.0.0/16', '%s/32'] in config.py and restart pyroTorrent"
            % SERVED_ADDRESS) in items[0][2]
    assert "FETCH_ALLOW_NETWORKS = ['10.9.0.0/16', '192.168.1.0/24']" in items[1][2]
    bob = make_client(daemon, tmp_path, 'bob', FETCH_ALLOW_NETWORKS=[])
    answer = post_add(bob, links=links)
    items, _ = shown(answer)
    assert [s for s, _, _ in items] == ['refused', 'refused']
    assert all('ask an admin of this pyroTorrent' in text for _, _, text in items)
    assert 'FETCH_ALLOW_NETWORKS' not in answer.get_data(as_text=True)
    # the value the admin was shown lets the link in; other refusals carry no such hint
    allowed = make_client(daemon, tmp_path, 'ada', FETCH_ALLOW_NETWORKS=['10.9.0.0/16', SERVED_ADDRESS + '/32'])
    items, _ = shown(post_add(allowed, links=base + '/lan.torrent\n' + base + '/missing.torrent'))
    assert [(s, h) for s, h, _ in items] == [('added', item.info_hash), ('refused', '')]
    assert 'FETCH_ALLOW_NETWORKS' not in items[1][2] and 'ask an admin' not in items[1][2]


# ---------------------------------------------------------------- the label box's suggestions

def test_the_label_box_suggests_the_targets_labels_as_text(web, daemon):
    hostile = '<script>alert(1)</script>"q\'s'
    for label in ('Linux ISOs', hostile, 'alpha'):
        [(data, item)] = fresh()
        items, _ = shown(post_add(web, [(data, 'l.torrent')], start='no', label=label))
        assert items[0][0] == 'added' and fields(daemon, item.info_hash)['d.custom1'] == label
    page = web.get('/target/box/add').get_data(as_text=True)
    form = Form(page)
    labels = {label for label in daemon.multicall([('d.custom1', [h]) for h in daemon.hashes()]) if label}
    assert form.label_list == 'add-labels'
    assert form.suggestions == sorted(labels, key=str.casefold)
    assert {'Linux ISOs', hostile, 'alpha'} <= set(form.suggestions)
    assert '<script>alert(1)' not in page and '&lt;script&gt;alert(1)&lt;/script&gt;&#34;q&#39;s' in page
    # rTorrent's one-field label query counts what the list's own query counts
    from model.clients.interface import Backend
    from model.clients.types import ListQuery
    from model.clients.rtorrent import RTorrent
    backend = RTorrent(daemon.url)
    counted = backend.labels()
    assert counted == Backend.labels(backend) == backend.torrent_list(ListQuery(per_page=1)).labels
    assert counted[hostile] == 1 and sum(counted.values()) == len(daemon.hashes())


def test_a_target_that_cannot_answer_still_shows_the_form(tmp_path):
    port = rig.free_port(DEAD_ADDRESS)
    web = webapp.client({'box': {'url': 'scgi://%s:%d' % (DEAD_ADDRESS, port)}})
    answer = web.get('/target/box/add')
    form = Form(answer.get_data(as_text=True))
    assert answer.status_code == 200 and form.links == '' and form.suggestions == [] and form.label_list is None


# ---------------------------------------------------------------- dropping files, in Chromium

@pytest.fixture(scope='module')
def browser_server(daemon, tmp_path_factory):
    """pyrotorrent.py --http with no users (loopback mode: every visitor is admin)."""
    with webapp.http_server(str(tmp_path_factory.mktemp('adding-browser')), {
            'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'REFRESH_SECONDS': 0,
            'targets': {'box': {'url': daemon.url}}}) as url:
        yield url


DROP = """
    var bytes = Uint8Array.from(atob(arguments[0]), function (c) { return c.charCodeAt(0); });
    var dt = new DataTransfer();
    dt.items.add(new File([bytes], arguments[1], {type: 'application/x-bittorrent'}));
    ['dragenter', 'dragover', 'drop'].forEach(function (type) {
      document.querySelector('main').dispatchEvent(
        new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
    });"""


def loaded(driver, url):
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', url)
    driver.execute_script("document.documentElement.removeAttribute('data-dropped')")


def dropped(driver):
    wait(driver, lambda d: d.execute_script("return document.documentElement.getAttribute('data-dropped')"),
         'the drop to be answered')
    return driver.execute_script("return document.documentElement.getAttribute('data-dropped')")


def test_a_drop_on_the_add_page_uses_the_choices_of_its_form(driver, browser_server, daemon):
    from selenium.webdriver.common.by import By
    [(data, item)] = fresh()
    loaded(driver, browser_server + '/target/box/add')
    assert driver.find_element(By.CSS_SELECTOR, '[data-drop-hint]').is_displayed()
    driver.find_element(By.CSS_SELECTOR, 'input[name=start][value=no]').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name=label]').send_keys('dropped <here>')
    driver.find_element(By.CSS_SELECTOR, 'select[name=priority] option[value=high]').click()
    driver.execute_script(DROP, base64.b64encode(data).decode(), 'on the add page.torrent')
    assert dropped(driver) == '1'
    assert 'Added: ' + item.name in driver.find_element(By.CSS_SELECTOR, '[data-drop-result]').text
    got = fields(daemon, item.info_hash)
    assert (got['d.custom1'], got['d.state'], got['d.priority']) == ('dropped <here>', 0, 3)
    assert not [m for m in csp_errors(driver) if 'Content Security Policy' in m]


def test_a_drop_on_the_list_page_waits_for_the_users_choices(driver, browser_server, daemon):
    from selenium.webdriver.common.by import By
    (data, item), (other_data, other) = fresh(2)
    loaded(driver, browser_server + '/target/box/')
    driver.execute_script(DROP, base64.b64encode(data).decode(), 'listed.torrent')
    panel = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-drop-panel] [data-add-options]'),
                 "the add page's choices in the drop panel")[0]
    panel_root = driver.find_element(By.CSS_SELECTOR, '[data-drop-panel]')
    assert 'listed.torrent' in panel_root.text and item.info_hash not in daemon.hashes()   # nothing added yet
    panel.find_element(By.CSS_SELECTOR, 'input[name=start][value=no]').click()
    panel.find_element(By.CSS_SELECTOR, 'input[name=label]').send_keys('from the list')
    button = panel_root.find_element(By.CSS_SELECTOR, '[data-drop-add]')
    assert button.text == 'Add this file'
    button.click()
    assert dropped(driver) == '1'
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-drop-panel]')
    got = fields(daemon, item.info_hash)
    assert (got['d.custom1'], got['d.state']) == ('from the list', 0)
    # Cancel adds nothing
    loaded(driver, browser_server + '/target/box/')
    driver.execute_script(DROP, base64.b64encode(other_data).decode(), 'cancelled.torrent')
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-drop-panel] [data-add-options]'), 'the panel')
    driver.find_element(By.XPATH, "//section[@data-drop-panel]//button[text()='Cancel']").click()
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-drop-panel]')
    assert other.info_hash not in daemon.hashes()
    assert not [m for m in csp_errors(driver) if 'Content Security Policy' in m]
