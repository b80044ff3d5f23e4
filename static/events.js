// Events in the page and, where the user allows it, as the browser's notifications:
// permission is asked only on a click; new events are polled from the events API (every
// data-poll seconds: as often as the worker looks, EVENTS_SECONDS; of the page's kind only).
(function () {
  'use strict';
  var box = document.querySelector('[data-events]');
  if (!box) { return; }
  var api = box.getAttribute('data-events');
  var latest = parseInt(box.getAttribute('data-latest'), 10) || 0;
  var target = box.getAttribute('data-target');
  var kind = box.getAttribute('data-kind') || '';
  var every = (parseFloat(box.getAttribute('data-poll')) || 15) * 1000;
  var button = box.querySelector('[data-notify]');
  var state = box.querySelector('[data-notify-state]');
  var rows = document.querySelector('[data-event-rows]');
  var canNotify = 'Notification' in window;

  function say() {
    if (!canNotify) { state.textContent = 'This browser has no notifications.'; return; }
    if (Notification.permission === 'granted') { state.textContent = 'New events show as notifications.'; button.hidden = true; }
    else if (Notification.permission === 'denied') { state.textContent = 'Notifications are blocked for this site.'; button.hidden = true; }
    else { button.hidden = false; }
  }
  if (button && canNotify) {
    button.addEventListener('click', function () {
      Notification.requestPermission().then(say);
    });
  }
  say();

  function show(e) {
    var tr = document.createElement('tr');
    tr.className = 'event-' + e.kind;
    tr.setAttribute('data-seq', e.seq);
    var when = document.createElement('td');
    when.className = 'date';
    when.textContent = new Date(e.at * 1000).toLocaleString();
    var what = document.createElement('td');
    if (e.link) {     // as the server draws it: the torrent's page, its words as text
      var a = document.createElement('a');
      a.href = e.link;
      a.textContent = e.text;
      what.appendChild(a);
    } else {
      what.textContent = e.text;
    }
    var kind = document.createElement('td');
    kind.textContent = e.kind_title || e.kind;
    tr.appendChild(when); tr.appendChild(what); tr.appendChild(kind);
    var empty = rows.querySelector('tr.empty');
    if (empty) { empty.remove(); }
    rows.insertBefore(tr, rows.firstChild);
    if (canNotify && Notification.permission === 'granted') {
      try {           // plain text: a notification's body is never HTML
        new Notification('pyroTorrent · ' + target, { body: e.text, tag: target + ':' + e.seq });
      } catch (err) { // Chrome on Android only notifies from a service worker: the row is there
        canNotify = false;
      }
    }
  }

  function poll() {
    var query = '?since=' + latest + (kind ? '&kind=' + encodeURIComponent(kind) : '');
    fetch(api + query, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.events.slice().reverse().forEach(show);
        latest = Math.max(latest, data.latest);
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
})();
