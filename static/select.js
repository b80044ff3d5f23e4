// The list page's "select all" box: shown only when this script runs (the page works
// without it: every row has its own box).
(function () {
  'use strict';
  var all = document.getElementById('select-all');
  if (!all) return;
  all.hidden = false;
  function boxes() { return document.querySelectorAll('#torrents tbody input[type=checkbox][form=bulk]'); }
  all.addEventListener('change', function () {
    Array.prototype.forEach.call(boxes(), function (box) { box.checked = all.checked; });
  });
})();
