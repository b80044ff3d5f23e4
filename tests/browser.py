"""Helpers for tests that drive headless Chromium (the `driver` fixture of tests/conftest.py).

selenium is imported only when a helper runs, so importing this module costs nothing."""

WAIT = 15          # seconds an explicit wait may take before the test fails

# What a page holds in the browser if hostile data ran or was parsed as markup: window.__xss
# (set by the XSS tests' payloads), injected elements and inline handlers; and the page's text.
DOM_CHECK = """
var handlers = Array.prototype.filter.call(document.querySelectorAll('*'), function (e) {
  return Array.prototype.some.call(e.attributes, function (a) { return a.name.indexOf('on') === 0; });
});
return {xss: window.__xss === undefined ? null : window.__xss,
        injected: document.querySelectorAll('img[src="x"], svg[onload], script:not([src])').length + handlers.length,
        text: document.body.innerText};
"""


def wait(driver, condition, what):
    """condition(driver)'s first true value, polled for up to WAIT seconds (then a timeout naming what)."""
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, WAIT, poll_frequency=0.05).until(
        lambda d: condition(d), message='waited %d s for %s' % (WAIT, what))


def open_page(driver, url):
    """Load url and wait until the document is complete."""
    driver.get(url)
    wait(driver, lambda d: d.execute_script('return document.readyState') == 'complete', 'the page to load')


def csp_errors(driver):
    """The browser log's SEVERE messages since the last call (a CSP refusal is one); [] without a log."""
    try:
        entries = driver.get_log('browser')
    except Exception:
        return []
    return [e['message'] for e in entries if e.get('level') == 'SEVERE']
