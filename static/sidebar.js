// The list's sidebar: the name filter filters as you type (debounced; the server filters, the
// URL follows with history.replaceState, live.js merges the answer), and on a phone the
// sidebar is a drawer, closed at first.  Without JavaScript the Find button does the same.
(function () {
  'use strict';
  var side = document.querySelector('[data-sidebar]');
  if (side && window.matchMedia && window.matchMedia('(max-width: 800px)').matches) side.open = false;
  var form = document.querySelector('form[data-filter-form]'), box = form && form.querySelector('[data-find]');
  if (!box || !window.pyrotorrentLive || !window.URLSearchParams || !window.history.replaceState) return;
  var button = form.querySelector('[data-find-button]'), timer = null, last = box.value;
  if (button) button.hidden = true;
  function find() {
    if (box.value === last) return;
    last = box.value;
    var args = new URLSearchParams(new FormData(form));
    if (!box.value) args.delete('q');
    var url = form.getAttribute('action') + '?' + args.toString();
    window.history.replaceState(null, '', url);
    Array.prototype.forEach.call(document.querySelectorAll('form input[name=next]'), function (next) {
      if (next.closest('#bulk, .columns')) next.value = url;
    });
    window.pyrotorrentLive.now();
  }
  box.addEventListener('input', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(find, 300);
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); window.clearTimeout(timer); find(); });
})();
