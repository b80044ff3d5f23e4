"""static/events.js in headless Chromium: a real event (a torrent added to a real rtorrent
from outside pyroTorrent, seen by a real `pyrotorrent.py worker`) shows as a row of the
events page and as a browser notification, with the torrent's name as plain text, when the
notification permission is granted (through the DevTools protocol); nothing is notified
when it is denied, and the button asks only while the browser has not been told.

The one fake: window.Notification is wrapped by a recorder installed before the page's own
scripts (Page.addScriptToEvaluateOnNewDocument), because the OS's notification cannot be
observed from here; the real constructor is still called.
"""
import os
import urllib.parse

import pytest

from model.events import TARGET_ITEM
from tests import rig, webapp
from tests.workers import WorkerProcess

pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NASTY = '<img src=x onerror="window.__xss=1"> & "quotes" ü'
RECORDER = """
(function () {
  window.__shown = [];
  var Real = window.Notification;
  if (!Real) { return; }
  function Recorder(title, options) {
    window.__shown.push({title: String(title), body: options && options.body, tag: options && options.tag});
    try { return new Real(title, options); } catch (e) { return {}; }
  }
  Object.defineProperty(Recorder, 'permission', {get: function () { return Real.permission; }});
  Recorder.requestPermission = function () { return Real.requestPermission.apply(Real, arguments); };
  window.Notification = Recorder;
})();
"""


@pytest.fixture(scope='module')
def box(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('events-browser'))
    daemon = rig.RTorrentDaemon(os.path.join(workdir, 'rt')).start()
    web = os.path.join(workdir, 'web')
    os.makedirs(web)
    try:
        with webapp.http_server(web, {
                'BASE_URL': '/torrent', 'STATIC_URL': '/torrent/static', 'EVENTS_SECONDS': 5,
                'WORKER_TICK_SECONDS': 0.5, 'targets': {'t': {'url': daemon.url}}}) as url:
            worker = WorkerProcess(os.path.join(web, 'config.py'), os.path.join(workdir, 'worker.log'))
            try:
                box = {'daemon': daemon, 'url': url, 'workdir': workdir, 'worker': worker}
                rig.wait_for(lambda: TARGET_ITEM in store_of(box).seen('t'), 30, "the worker's first look")
                yield box
            finally:
                worker.stop()
    finally:
        daemon.stop()


def wait(driver, condition, what, seconds=30):
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message='waited %d s for %s' % (seconds, what))


def origin(url):
    parts = urllib.parse.urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.netloc)


def add_from_outside(box, name):
    """A torrent loaded straight into rtorrent (stopped), its data nowhere: an 'added' event."""
    data = os.path.join(box['workdir'], 'data')
    path = rig.make_payload(data, name, 16 * 1024 + len(name))
    body = rig.make_torrent(path, 'http://127.0.0.1:1/announce',
                            os.path.join(box['workdir'], '%d.torrent' % len(os.listdir(data))), piece_size_exp=15)
    return box['daemon'].load(body, start=False)


def open_events(driver, box, permission):
    driver.execute_cdp_cmd('Browser.setPermission', {
        'origin': origin(box['url']), 'permission': {'name': 'notifications'}, 'setting': permission})
    driver.get(box['url'] + '/target/t/events')
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')
    return driver.find_element(By.CSS_SELECTOR, '[data-notify-state]'), driver.find_element(By.CSS_SELECTOR, '[data-notify]')


def rows_text(driver):
    return driver.execute_script("return Array.prototype.map.call(document.querySelectorAll('[data-event-rows] tr'),"
                                 " function (tr) { return tr.textContent; });")


@pytest.fixture(scope='module')
def recorded(driver):
    added = driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': RECORDER})
    yield driver
    driver.execute_cdp_cmd('Page.removeScriptToEvaluateOnNewDocument', {'identifier': added['identifier']})
    driver.execute_cdp_cmd('Browser.resetPermissions', {})


def test_granted_a_real_added_torrent_is_notified_with_its_name_as_plain_text(recorded, box):
    driver = recorded
    state, button = open_events(driver, box, 'granted')
    wait(driver, lambda d: state.text == 'New events show as notifications.', 'the page to see the permission')
    assert not button.is_displayed()
    assert driver.execute_script('return window.__shown') == []
    name = NASTY + ' granted.bin'
    add_from_outside(box, name)
    shown = wait(driver, lambda d: d.execute_script('return window.__shown'), 'a notification', 45)
    assert shown[0]['title'] == 'pyroTorrent · t'
    assert shown[0]['body'] == "'%s' was added" % name            # the name as it is, plain text
    assert shown[0]['tag'].startswith('t:')
    assert any("'%s' was added" % name in text for text in rows_text(driver))    # and a row of the page
    assert driver.execute_script("return document.querySelectorAll('[data-event-rows] img').length") == 0
    assert driver.execute_script('return window.__xss === undefined')
    # the row is drawn as the server draws it: the torrent's link, the kind in words
    row = driver.execute_script(
        "var tr = document.querySelector('[data-event-rows] tr'); var a = tr.querySelector('a');"
        "return [a && a.getAttribute('href'), a && a.textContent, tr.cells[2].textContent];")
    assert row[0] and '/target/t/torrent/' in row[0] and row[1] == "'%s' was added" % name
    assert row[2] == 'added'


def test_denied_nothing_is_notified_but_the_row_comes(recorded, box):
    driver = recorded
    state, button = open_events(driver, box, 'denied')
    wait(driver, lambda d: state.text == 'Notifications are blocked for this site.', 'the page to see the refusal')
    assert not button.is_displayed()
    name = NASTY + ' denied.bin'
    add_from_outside(box, name)
    wait(driver, lambda d: any("'%s' was added" % name in text for text in rows_text(d)), 'the event row', 45)
    assert driver.execute_script('return window.__shown') == []


def test_not_yet_asked_the_button_is_offered_and_nothing_is_notified(recorded, box):
    driver = recorded
    state, button = open_events(driver, box, 'prompt')
    wait(driver, lambda d: button.is_displayed(), 'the button to ask')
    assert button.text == 'Notify me in this browser'
    name = 'plain prompt.bin'
    add_from_outside(box, name)
    wait(driver, lambda d: any("'%s' was added" % name in text for text in rows_text(d)), 'the event row', 45)
    assert driver.execute_script('return window.__shown') == []


def test_a_page_of_one_kind_polls_for_that_kind_only(recorded, box):
    driver = recorded
    driver.execute_cdp_cmd('Browser.setPermission', {
        'origin': origin(box['url']), 'permission': {'name': 'notifications'}, 'setting': 'granted'})
    driver.get(box['url'] + '/target/t/events?kind=removed')
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')
    gone = add_from_outside(box, 'to be removed.bin')
    rig.wait_for(lambda: any(e.subject == gone for e in store_of(box).events('t', kinds=['added'])), 30, 'the added event')
    box['daemon'].call('d.erase', gone)
    wait(driver, lambda d: any("'to be removed.bin' was removed" in t for t in rows_text(d)), 'the removed row', 45)
    texts = rows_text(driver)
    assert not any('was added' in t for t in texts), texts
    assert [s['body'] for s in driver.execute_script('return window.__shown')] == ["'to be removed.bin' was removed"]


def store_of(box):
    from lib import config
    from lib.store import Store
    cfg = config.load(os.path.join(box['workdir'], 'web', 'config.py'))
    return Store.open(cfg.store_url, cfg.store_base)
