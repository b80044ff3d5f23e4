// The header's limits, changed in place: a click on a limit shows the small form beside it
// (without JavaScript the limit is a link to the settings page).  Delegated, so the links
// that live.js swaps in on refresh keep working.
(function () {
  'use strict';
  if (window.pyrotorrentLimits) return;      // one listener, however many figures a page has
  window.pyrotorrentLimits = true;
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-quick-limits]');
    if (!link) return;
    var name = link.getAttribute('data-quick-limits');
    var form = Array.prototype.filter.call(document.querySelectorAll('form[data-quick-form]'),
      function (f) { return f.getAttribute('data-quick-form') === name; })[0];
    if (!form) return;                        // a viewer: the link leads to the settings page
    event.preventDefault();
    form.hidden = !form.hidden;
    if (!form.hidden) form.querySelector('input[name=down_limit]').focus();
  });
})();
