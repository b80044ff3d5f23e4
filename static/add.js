// Progressive enhancements of adding torrents (the forms work without them):
// - on a list page, .torrent files dropped anywhere on the page are posted to the add API
//   (with the session's CSRF token from /api/session) and each result is shown;
// - on the add page, a button offers pyroTorrent as the browser's handler of magnet: links.
(function () {
  'use strict';

  var handler = document.querySelector('[data-magnet-handler]');
  if (handler && navigator.registerProtocolHandler) {
    handler.hidden = false;
    handler.addEventListener('click', function () {
      var url = new URL(handler.getAttribute('data-magnet-handler'), window.location.href).href;
      try {
        navigator.registerProtocolHandler('magnet', url);
        handler.textContent = 'Asked the browser to open magnet links here';
      } catch (e) {
        handler.textContent = 'This browser refused: ' + e.message;
      }
    });
  }

  var drop = document.querySelector('[data-add-api]');
  if (!drop || !window.fetch || !window.FormData) return;
  var hint = document.querySelector('[data-drop-hint]');
  if (hint) hint.hidden = false;
  var box = null;

  function isFileDrag(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, 'Files') >= 0;
  }
  function say(kind, lines) {
    if (!box) {
      box = document.createElement('div');
      box.setAttribute('role', 'status');
      box.setAttribute('data-drop-result', '');
      var main = document.querySelector('main');
      main.insertBefore(box, main.firstChild);
    }
    box.className = 'drop-result drop-' + kind;
    box.textContent = '';
    lines.forEach(function (line) {
      var p = document.createElement('p');
      if (line.href) {
        var a = document.createElement('a');
        a.href = line.href;
        a.textContent = line.link;
        p.appendChild(document.createTextNode(line.text));
        p.appendChild(a);
      } else {
        p.textContent = line.text;
      }
      p.className = line.status ? 'add-' + line.status : '';
      box.appendChild(p);
    });
  }
  function describe(r) {
    if (r.status === 'added') return {status: r.status, text: 'Added: ', link: r.name, href: r.url};
    if (r.status === 'present') return {status: r.status, text: 'Already there (nothing changed): ', link: r.name, href: r.url};
    return {status: r.status, text: 'Refused: ' + (r.source ? r.source + ': ' : '') + r.reason};
  }

  document.addEventListener('dragover', function (event) {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    document.documentElement.classList.add('dropping');
  });
  document.addEventListener('dragleave', function (event) {
    if (event.target === document.documentElement || !event.relatedTarget) {
      document.documentElement.classList.remove('dropping');
    }
  });
  document.addEventListener('drop', function (event) {
    document.documentElement.classList.remove('dropping');
    if (!isFileDrag(event)) return;
    event.preventDefault();
    var files = Array.prototype.slice.call(event.dataTransfer.files);
    if (!files.length) return;
    var body = new FormData();
    files.forEach(function (file) { body.append('files', file, file.name); });
    say('busy', [{text: 'Adding ' + files.length + ' file(s)…'}]);
    fetch(drop.getAttribute('data-session'), {credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error('not logged in (' + r.status + ')')); })
      .then(function (session) {
        var headers = {};
        headers[session.csrf_header] = session.csrf_token;
        return fetch(drop.getAttribute('data-add-api'), {method: 'POST', credentials: 'same-origin',
                                                          headers: headers, body: body});
      })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (!r.ok) throw new Error(answer.error ? answer.error.message : 'status ' + r.status);
          return answer;
        });
      })
      .then(function (answer) {
        say('done', answer.results.map(describe));
        document.documentElement.setAttribute('data-dropped', String(answer.results.length));
      })
      .catch(function (e) {
        say('failed', [{text: 'Nothing added: ' + e.message}]);
        document.documentElement.setAttribute('data-dropped', 'failed');
      });
  });
})();
