// The list's context menu (#row-menu, rendered by the server, hidden): right-click on a
// row, the ⋯ button of the bulk bar, the menu key or Shift+F10 open it with the actions
// that fit the selected torrents' states (data-fits: a mixed selection offers both start
// and stop).  An item acts through the bulk bar, so it checks and says what it does.
(function () {
  'use strict';
  var menu = document.getElementById('row-menu'), rows = document.getElementById('rows');
  var bar = document.getElementById('bulk'), choice = bar && bar.querySelector('[data-bulk-action]');
  if (!menu || !rows || !choice) return;
  var button = bar.querySelector('[data-menu-button]'), back = null;
  if (button) button.hidden = false;

  function selected() {
    return Array.prototype.slice.call(rows.querySelectorAll('input[type=checkbox][form=bulk]:checked'))
      .map(function (b) { return b.closest('tr[data-hash]'); }).filter(Boolean);
  }
  function items() { return Array.prototype.slice.call(menu.querySelectorAll('[role=menuitem]:not([hidden])')); }
  function ensure(tr) {     // a row outside the selection becomes the selection
    var b = tr.querySelector('input[type=checkbox][form=bulk]');
    if (!b || b.checked) return;
    Array.prototype.forEach.call(rows.querySelectorAll('input[type=checkbox][form=bulk]'), function (o) { o.checked = o === b; });
    document.dispatchEvent(new CustomEvent('selection:change'));
  }

  function open(x, y) {
    var chosen = selected(), matching = bar.querySelector('[data-matching]:checked');
    var states = chosen.map(function (tr) { return tr.getAttribute('data-state'); });
    Array.prototype.forEach.call(menu.querySelectorAll('[role=menuitem]'), function (item) {
      var fits = item.getAttribute('data-fits'), what = item.getAttribute('data-menu');
      item.hidden = what === 'open' ? chosen.length !== 1 || !!matching
        : fits !== null && !matching && !states.some(function (s) { return (' ' + fits + ' ').indexOf(' ' + s + ' ') >= 0; });
    });
    if (!chosen.length && !matching) return;
    back = document.activeElement;
    menu.hidden = false;
    var w = menu.offsetWidth, h = menu.offsetHeight;
    menu.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + 'px';
    menu.style.top = Math.max(0, Math.min(y, window.innerHeight - h - 4)) + 'px';
    if (items()[0]) items()[0].focus();
  }
  function close(refocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    if (refocus && back && document.contains(back)) back.focus({preventScroll: true});
  }

  rows.addEventListener('contextmenu', function (event) {
    var tr = event.target.closest('tr[data-hash]');
    if (!tr || !tr.querySelector('input[form=bulk]') || event.target.closest('a') && event.shiftKey) return;
    event.preventDefault();
    ensure(tr);
    tr.focus({preventScroll: true});
    open(event.clientX, event.clientY);
  });
  if (button) button.addEventListener('click', function (event) {
    event.stopPropagation();        // the document's click would close it again
    var r = button.getBoundingClientRect();
    open(r.left, r.bottom + 2);
  });
  document.addEventListener('keydown', function (event) {
    if (!menu.hidden) {
      var list = items(), at = list.indexOf(document.activeElement);
      if (event.key === 'Escape' || event.key === 'Tab') close(true);
      else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        list[(at + (event.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length].focus();
      } else if (event.key === 'Home' || event.key === 'End') list[event.key === 'Home' ? 0 : list.length - 1].focus();
      else return;
      event.preventDefault();
      return;
    }
    if (event.key !== 'ContextMenu' && !(event.key === 'F10' && event.shiftKey)) return;
    var tr = document.activeElement && document.activeElement.closest && document.activeElement.closest('#rows tr[data-hash]');
    if (!tr) return;
    event.preventDefault();
    ensure(tr);
    var r = tr.getBoundingClientRect();
    open(r.left + 24, r.bottom);
  });
  document.addEventListener('click', function (event) { if (!menu.contains(event.target)) close(false); });
  window.addEventListener('blur', function () { close(false); });

  menu.addEventListener('click', function (event) {
    var item = event.target.closest('[role=menuitem]');
    if (!item) return;
    var what = item.getAttribute('data-menu');
    close(false);
    if (what === 'open') {
      var one = selected()[0];
      if (one) document.dispatchEvent(new CustomEvent('pane:open', {detail: one.getAttribute('data-hash')}));
      return;
    }
    choice.value = what;
    choice.dispatchEvent(new Event('change'));
    if (item.hasAttribute('data-input')) {      // a label or a priority: the bar's box takes it
      var input = bar.querySelector('[data-for="' + what + '"]');
      if (input) input.focus();
      return;
    }
    if (bar.requestSubmit) bar.requestSubmit(); else bar.submit();
  });
})();
