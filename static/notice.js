// Actions answered in words without leaving the page: a form marked data-notice is sent with
// fetch (its own CSRF field goes along), the server's words show as a toast, and live.js
// refreshes the page's figures and rows at once.  Without JavaScript (or without live.js) the
// form posts as usual and the next page shows the same words once.
(function () {
  'use strict';
  if (!window.fetch || !window.FormData) return;
  var area = document.getElementById('notices');

  function toast(kind, text) {
    var note = document.createElement('p');
    note.className = 'toast message-' + kind;
    note.setAttribute('role', kind === 'refused' ? 'alert' : 'status');
    note.textContent = text;
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'toast-close';
    close.setAttribute('aria-label', 'dismiss');
    close.textContent = '×';
    close.addEventListener('click', function () { note.remove(); });
    note.appendChild(close);
    area.appendChild(note);
    if (kind !== 'refused') window.setTimeout(function () { note.remove(); }, 8000);
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (event.defaultPrevented || !area || !window.pyrotorrentLive || !form.hasAttribute || !form.hasAttribute('data-notice')) return;
    var data = new FormData(form), sender = event.submitter;
    if (data.get('action') === 'erase') return;             // it asks first, on a page of its own
    if (sender && sender.name) data.append(sender.name, sender.value);
    event.preventDefault();
    if (form.id === 'bulk') {     // the ticked rows' boxes sit outside the form (form="bulk")
      data.delete('hash');
      Array.prototype.forEach.call(document.querySelectorAll('input[form=bulk][name=hash]:checked'), function (box) {
        data.append('hash', box.value);
      });
    }
    // the attribute: a control named "action" (the bulk bar's choice) shadows form.action
    fetch(form.getAttribute('action'), {method: 'POST', body: data, credentials: 'same-origin', headers: {'X-Requested-With': 'notice'}})
      .then(function (r) {
        var json = (r.headers.get('Content-Type') || '').indexOf('application/json') === 0;
        if (json) return r.json();
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var title = doc.querySelector('.error-card h1'), message = doc.querySelector('.error-card p');
          return {notices: [{kind: 'refused', text: title ? title.textContent.trim() + (message ? ': ' + message.textContent.trim() : '')
                                                          : 'pyroTorrent answered ' + r.status + '; reload the page and try again.'}]};
        });
      })
      .then(function (answer) {
        (answer.notices || []).forEach(function (n) { toast(n.kind, n.text); });
        if (form.matches('form.quick-limits')) form.hidden = true;
        window.pyrotorrentLive.now();
      })
      .catch(function (why) {
        toast('refused', 'pyroTorrent did not answer (' + (why && why.message || 'network error') +
              '); nothing may have changed: reload the page to see.');
      });
  });
})();
