"""The header's limits changed in place, in headless Chromium (issue 11, item 4): a click on
a limit opens the small form (no navigation), a typed "500 KiB/s" reaches rtorrent, and a
viewer's click leads to the settings page instead."""
import os

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lib import auth
from tests import rig, webapp

PASSWORD = 'correct horse battery'


@pytest.fixture(scope='module')
def daemon(make_box):
    return make_box('limits-rt').daemon


@pytest.fixture(scope='module')
def server(daemon, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('limits-web'))
    users = {'ann': {'password': auth.hash_password(PASSWORD), 'role': 'user'},
             'vic': {'password': auth.hash_password(PASSWORD), 'role': 'viewer'}}
    with webapp.http_server(workdir, {'BASE_URL': '', 'STATIC_URL': '/static', 'REFRESH_SECONDS': 0,
                                      'users': users, 'STORE': os.path.join(workdir, 'store.sqlite3'),
                                      'targets': {'home': {'url': daemon.url}}}) as base:
        yield base


def log_in(driver, base, name):
    driver.delete_all_cookies()
    driver.get(base + '/login')
    driver.find_element(By.NAME, 'name').send_keys(name)
    driver.find_element(By.NAME, 'password').send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, 'form.login button[type=submit]').click()
    WebDriverWait(driver, 10).until(lambda d: '/login' not in d.current_url)


def test_a_user_changes_the_limit_in_place(driver, server, daemon):
    log_in(driver, server, 'ann')
    driver.get(server + '/target/home/')
    form = driver.find_element(By.CSS_SELECTOR, 'form[data-quick-form="home"]')
    assert not form.is_displayed()
    driver.find_element(By.CSS_SELECTOR, 'a[data-quick-limits="home"]').click()
    WebDriverWait(driver, 5).until(lambda d: form.is_displayed())
    assert driver.current_url.endswith('/target/home/')            # no navigation
    assert driver.switch_to.active_element.get_attribute('name') == 'down_limit'
    driver.switch_to.active_element.send_keys('500 KiB/s')
    form.find_element(By.CSS_SELECTOR, 'button[type=submit]:not([name])').click()
    rig.wait_for(lambda: daemon.call('throttle.global_down.max_rate') == 500 * 1024, 10,
                 'rtorrent to take the new download limit')
    WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,)).until(   # the page is replaced
        lambda d: '/target/home/' in d.current_url and
                                    '500' in d.find_element(By.CSS_SELECTOR, 'a[data-quick-limits="home"]').text)


def test_a_viewer_is_led_to_the_settings_page(driver, server):
    log_in(driver, server, 'vic')
    driver.get(server + '/target/home/')
    assert not driver.find_elements(By.CSS_SELECTOR, 'form[data-quick-form]')
    driver.find_element(By.CSS_SELECTOR, 'a[data-quick-limits="home"]').click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith('/target/home/settings'))
