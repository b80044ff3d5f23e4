// The list page's selection and bulk bar.  Without JavaScript every row has its own box and
// every input of the bar shows; the server refuses what does not fit.  With it: "select
// all" on the page, a click selects a row (shift: a range, ctrl/cmd: one more or less),
// j/k or the arrows move, space selects, Enter opens the detail pane (pane.js), and each
// action shows only its own inputs and says what it will do.
(function () {
  'use strict';
  var rows = document.getElementById('rows');
  var all = document.getElementById('select-all');
  var bar = document.getElementById('bulk'), choice = bar && bar.querySelector('[data-bulk-action]');
  var matching = bar && bar.querySelector('[data-matching]');
  var anchor = null;        // the hash a shift-click's range starts from

  function lines() { return Array.prototype.slice.call(rows ? rows.querySelectorAll('tr[data-hash]') : []); }
  function box(tr) { return tr && tr.querySelector('input[type=checkbox][form=bulk]'); }
  function boxes() { return lines().map(box).filter(Boolean); }
  function tick(tr, on) { var b = box(tr); if (b) b.checked = on; }
  function changed() {
    var every = boxes();
    if (all) all.checked = every.length > 0 && every.every(function (b) { return b.checked; });
    if (matching && !(all && all.checked)) matching.checked = false;   // "all matching" means every one
    document.dispatchEvent(new CustomEvent('selection:change'));
  }
  function open(tr) {
    document.dispatchEvent(new CustomEvent('pane:open', {detail: tr.getAttribute('data-hash')}));
  }

  if (all) {
    all.hidden = false;
    all.addEventListener('change', function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      changed();
    });
  }
  if (matching) {
    matching.addEventListener('change', function () {   // all matching includes this page's
      if (matching.checked) boxes().forEach(function (b) { b.checked = true; });
      if (all) all.checked = matching.checked || all.checked;
      document.dispatchEvent(new CustomEvent('selection:change'));
    });
  }

  if (rows) {
    rows.addEventListener('click', function (event) {
      var tr = event.target.closest('tr[data-hash]');
      if (!tr || !box(tr)) return;
      var own = event.target.closest('a, input, button, select, label, summary, textarea');
      var hash = tr.getAttribute('data-hash'), list = lines();
      if (event.shiftKey && anchor) {
        var from = list.findIndex(function (r) { return r.getAttribute('data-hash') === anchor; });
        var to = list.indexOf(tr);
        if (from < 0) from = to;
        if (!event.ctrlKey && !event.metaKey) list.forEach(function (r) { tick(r, false); });
        list.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (r) { tick(r, true); });
        event.preventDefault();
        window.getSelection().removeAllRanges();        // a shift-click also selects text
      } else if (event.ctrlKey || event.metaKey) {
        if (own && own.nodeName === 'A') return;          // ctrl-click on a link: a new tab
        if (!own) tick(tr, !box(tr).checked);
        anchor = hash;
      } else if (own) {
        if (own === box(tr)) anchor = hash;
        return;
      } else {
        list.forEach(function (r) { tick(r, r === tr); });
        anchor = hash;
      }
      tr.focus({preventScroll: true});
      changed();
    });
    rows.addEventListener('change', function (event) { if (event.target.form === bar) changed(); });
  }

  function typing(el) {
    if (!el || !el.nodeName) return false;
    if (el.isContentEditable || el.nodeName === 'TEXTAREA' || el.nodeName === 'SELECT') return true;
    return el.nodeName === 'INPUT' && !/^(checkbox|radio|button|submit|reset)$/.test(el.type);
  }
  document.addEventListener('keydown', function (event) {
    if (!rows || event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typing(event.target) || document.querySelector('dialog[open]')) return;
    var list = lines(), here = document.activeElement && document.activeElement.closest &&
                               document.activeElement.closest('#rows tr[data-hash]');
    var at = list.indexOf(here), key = event.key;
    if (key === 'j' || key === 'ArrowDown' || key === 'k' || key === 'ArrowUp') {
      if (!list.length || (here === null && /^Arrow/.test(key))) return;   // arrows scroll until a row has focus
      var next = list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at + (key === 'j' || key === 'ArrowDown' ? 1 : -1)))];
      next.focus();
      if (event.shiftKey) { tick(next, true); changed(); }
    } else if (key === ' ' && here) {
      tick(here, !box(here).checked);
      anchor = here.getAttribute('data-hash');
      changed();
    } else if (key === 'Enter' && here && event.target === here) {
      open(here);
    } else return;
    event.preventDefault();
  });

  if (!choice) return;
  var help = bar.querySelector('[data-action-help]');
  function show() {
    Array.prototype.forEach.call(bar.querySelectorAll('[data-for]'), function (input) {
      input.hidden = input.getAttribute('data-for') !== choice.value;
    });
    var option = choice.options[choice.selectedIndex];
    if (help) help.textContent = option && option.value ? option.title : '';
  }
  choice.addEventListener('change', show);
  show();
  bar.addEventListener('submit', function (event) {
    var problem = !choice.value ? 'Choose what to do first.'
      : !document.querySelector('#torrents tbody input[type=checkbox][form=bulk]:checked') &&
        !(matching && matching.checked) ? 'Select at least one torrent first.'
      : choice.value === 'label' && !bar.querySelector('[data-for=label]').value.trim()
        ? "Type a label first (or choose 'remove label')." : '';
    if (problem) {
      event.preventDefault();
      help.textContent = problem;
      help.classList.add('problem');
    } else help.classList.remove('problem');
  });
})();
