// Keyboard shortcuts (the ? dialog in base.html lists them): / search, a select all, s / x
// start / stop the selected torrents, Delete remove them (the confirmation page asks), ?
// this help.  Never while typing: a key pressed in a text box, a textarea, a menu or with
// Ctrl, Alt or Meta is the browser's.
(function () {
  'use strict';
  var dialog = document.getElementById('keys-help');
  var button = document.querySelector('[data-keys-help]');
  function help() { if (dialog && dialog.showModal && !dialog.open) dialog.showModal(); }
  if (button && dialog && dialog.showModal) {
    button.hidden = false;
    button.addEventListener('click', help);
  }

  function typing(el) {
    if (!el || !el.nodeName) return false;
    if (el.isContentEditable || el.nodeName === 'TEXTAREA' || el.nodeName === 'SELECT') return true;
    return el.nodeName === 'INPUT' && !/^(checkbox|radio|button|submit|reset)$/.test(el.type);
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#torrents tbody input[type=checkbox][form=bulk]'));
  }

  function bulk(action) {           // through the bar, so it checks and says what it does
    var bar = document.getElementById('bulk'), choice = bar && bar.querySelector('[data-bulk-action]');
    if (!choice || !choice.querySelector('option[value="' + action + '"]')) return false;
    choice.value = action;
    choice.dispatchEvent(new Event('change'));
    if (bar.requestSubmit) bar.requestSubmit(); else bar.submit();
    return true;
  }

  var keys = {
    '/': function () {
      var search = document.querySelector('form[data-filter-form] input[name=q]');
      if (!search) return false;
      search.focus();
      search.select();
      return true;
    },
    'a': function () {
      var all = boxes(), on = !all.every(function (b) { return b.checked; });
      if (!all.length) return false;
      all.forEach(function (b) { b.checked = on; });
      var head = document.getElementById('select-all');
      if (head) head.checked = on;
      return true;
    },
    's': function () { return bulk('start'); },
    'x': function () { return bulk('stop'); },
    'Delete': function () { return bulk('erase'); },
    '?': function () { help(); return !!dialog; }
  };

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typing(event.target) || (dialog && dialog.open)) return;
    var run = keys[event.key];
    if (run && run()) event.preventDefault();
  });
})();
