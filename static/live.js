// Refreshes the figures of a torrent list in place: fetches this same page and swaps the
// parts marked data-live, so formatting stays in one place (the server's templates).
(function () {
  'use strict';
  var script = document.currentScript;
  var seconds = parseInt(script && script.getAttribute('data-refresh'), 10);
  if (!(seconds > 0) || !window.fetch || !window.DOMParser) return;
  function refresh() {
    if (document.hidden) return;
    fetch(window.location.href, {credentials: 'same-origin', headers: {'X-Requested-With': 'refresh'}})
      .then(function (r) {
        // the session ended: reloading shows the login page, which brings the user back here
        if (r.redirected) { window.location.reload(); return Promise.reject('login'); }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelectorAll('[data-live]');
        var live = document.querySelectorAll('[data-live]');
        if (fresh.length !== live.length) return;
        // boxes the user ticked stay ticked across the swap (matched by name and value)
        var ticked = {};
        Array.prototype.forEach.call(document.querySelectorAll('[data-live] input[type=checkbox]:checked'),
          function (box) { ticked[box.name + '\n' + box.value] = true; });
        for (var i = 0; i < live.length; i++) live[i].innerHTML = fresh[i].innerHTML;
        Array.prototype.forEach.call(document.querySelectorAll('[data-live] input[type=checkbox]'),
          function (box) { if (ticked[box.name + '\n' + box.value]) box.checked = true; });
        document.documentElement.removeAttribute('data-stale');
        document.documentElement.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function () { document.documentElement.setAttribute('data-stale', 'true'); });
  }
  window.setInterval(refresh, seconds * 1000);
})();
