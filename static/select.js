// The list page's bulk bar: "select all" (shown only when this script runs; without it every
// row has its own box), and each action showing only its own inputs and saying what it will
// do.  Without JavaScript every input shows and the server refuses what does not fit.
(function () {
  'use strict';
  var all = document.getElementById('select-all');
  if (all) {
    all.hidden = false;
    all.addEventListener('change', function () {
      Array.prototype.forEach.call(document.querySelectorAll('#torrents tbody input[type=checkbox][form=bulk]'),
                                   function (box) { box.checked = all.checked; });
    });
  }
  var bar = document.getElementById('bulk'), choice = bar && bar.querySelector('[data-bulk-action]');
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
      : !document.querySelector('#torrents tbody input[type=checkbox][form=bulk]:checked') ? 'Select at least one torrent first.'
      : choice.value === 'label' && !bar.querySelector('[data-for=label]').value.trim()
        ? "Type a label first (or choose 'remove label')." : '';
    if (problem) {
      event.preventDefault();
      help.textContent = problem;
      help.classList.add('problem');
    } else help.classList.remove('problem');
  });
})();
