// The list's detail pane: a row's click (or Enter, select.js) opens the torrent's parts
// beside the list without leaving it, fetched as the server renders them (lib/pages/pane.py).
// The URL keeps it (?open=HASH): a reload shows it, and live.js's refresh of this URL keeps
// it up to date.  The name stays a link to the torrent's own page; on a narrow screen
// (a phone) a row's click does nothing more than select it.
(function () {
  'use strict';
  var pane = document.getElementById('pane'), rows = document.getElementById('rows');
  if (!pane || !rows || !window.fetch || !window.DOMParser || !window.URL) return;
  var wide = window.matchMedia('(min-width: 60em)');
  var asked = 0;            // the latest open wins over slower answers to earlier ones

  function address(hash) {
    var u = new URL(window.location.href);
    if (hash) u.searchParams.set('open', hash); else u.searchParams.delete('open');
    return u.pathname + u.search + u.hash;
  }
  function mark() {         // the open row, again after every refresh (live.js rewrites classes)
    var hash = pane.hidden ? null : (pane.querySelector('[data-pane]') || pane).getAttribute('data-pane');
    Array.prototype.forEach.call(rows.querySelectorAll('tr[data-hash]'), function (tr) {
      tr.classList.toggle('pane-row', tr.getAttribute('data-hash') === hash);
    });
  }
  function show(nodes) {
    while (pane.firstChild) pane.removeChild(pane.firstChild);
    nodes.forEach(function (n) { pane.appendChild(document.importNode(n, true)); });
    pane.hidden = false;
    mark();
  }
  function say(text) {
    var p = document.createElement('p');
    p.className = 'message-refused';
    p.setAttribute('role', 'alert');
    p.textContent = text;
    show([p]);
  }

  function open(hash) {
    var ticket = ++asked;
    var url = pane.getAttribute('data-pane-url').replace('HASH', hash) + '?next=' + encodeURIComponent(address(null));
    window.history.replaceState(window.history.state, '', address(hash));
    // asked as a refresh: it must not take the messages the next page is to show
    fetch(url, {credentials: 'same-origin', headers: {'X-Requested-With': 'refresh'}})
      .then(function (r) {
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          if (ticket !== asked) return;
          if (r.ok) return show(Array.prototype.slice.call(doc.body.childNodes));
          var title = doc.querySelector('.error-card h1, h1'), message = doc.querySelector('.error-card p, main p');
          say('The details could not be shown: ' + (title ? title.textContent.trim() : 'pyroTorrent answered ' + r.status) +
              (message ? ' — ' + message.textContent.trim() : ''));
        });
      })
      .catch(function (why) {
        if (ticket === asked) say('The details could not be shown: pyroTorrent did not answer (' + (why && why.message || 'network error') + ').');
      });
  }
  function close() {
    asked++;
    pane.hidden = true;
    while (pane.firstChild) pane.removeChild(pane.firstChild);
    window.history.replaceState(window.history.state, '', address(null));
    mark();
  }

  document.addEventListener('pane:open', function (event) { if (wide.matches) open(event.detail); });
  rows.addEventListener('click', function (event) {
    var tr = event.target.closest('tr[data-hash]');
    if (!tr || !wide.matches || event.shiftKey || event.ctrlKey || event.metaKey || event.altKey || event.button) return;
    // the name stays a link to the torrent's own page (a new tab, a bookmark); the rest of the row opens the pane
    if (event.target.closest('a, input, button, select, label, summary, textarea')) return;
    open(tr.getAttribute('data-hash'));
  });
  pane.addEventListener('click', function (event) {
    if (event.target.closest('[data-pane-close]')) { event.preventDefault(); close(); }
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && !pane.hidden && !document.querySelector('dialog[open], .row-menu:not([hidden])')) close();
  });
  new MutationObserver(mark).observe(document.documentElement, {attributes: true, attributeFilter: ['data-refreshed']});
  mark();
})();
