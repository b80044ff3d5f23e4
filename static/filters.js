// The list page's filter: choosing a label or a tracker shows that list at once.  Without
// JavaScript the form's Filter button does the same.
(function () {
  'use strict';
  var form = document.querySelector('form[data-filter-form]');
  if (!form) return;
  Array.prototype.forEach.call(form.querySelectorAll('select[data-filter-choice]'), function (choice) {
    choice.addEventListener('change', function () { form.submit(); });
  });
})();
