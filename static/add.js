// Progressive enhancements of adding torrents (the forms work without them):
// - .torrent files dropped on a page are posted to the add API (with the session's CSRF
//   token from /api/session) and each result is shown.  Never with options the user did not
//   see: on the add page a drop uses the choices its form shows at that moment; on a list
//   page a drop first opens a panel with the add page's own choices (fetched from it) and
//   adds only when its button is pressed (as Flood's add dialog does);
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
  if (!drop || !window.fetch || !window.FormData || !window.DOMParser) return;
  var hint = document.querySelector('[data-drop-hint]');
  if (hint) hint.hidden = false;
  var own = drop.querySelector('[data-add-options]');    // the add page's form; none on a list page
  var box = null, panel = null, pending = [];

  function isFileDrag(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, 'Files') >= 0 &&
      !(event.target && event.target.type === 'file');   // a file box takes its own drops
  }
  function element(tag, text, className) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (className) e.className = className;
    return e;
  }
  function atTop(node) {
    var main = document.querySelector('main');
    main.insertBefore(node, main.firstChild);
  }
  function say(kind, lines) {
    if (!box) {
      box = element('div');
      box.setAttribute('role', 'status');
      box.setAttribute('data-drop-result', '');
      atTop(box);
    }
    box.className = 'drop-result drop-' + kind;
    box.textContent = '';
    lines.forEach(function (line) {
      var p = element('p', line.href ? '' : line.text, line.status ? 'add-' + line.status : '');
      if (line.href) {
        var a = element('a', line.link);
        a.href = line.href;
        p.appendChild(document.createTextNode(line.text));
        p.appendChild(a);
      }
      box.appendChild(p);
    });
  }
  function describe(r) {
    if (r.status === 'added') return {status: r.status, text: 'Added: ', link: r.name, href: r.url};
    if (r.status === 'present') return {status: r.status, text: 'Already there (nothing changed): ', link: r.name, href: r.url};
    return {status: r.status, text: 'Not added: ' + (r.source ? r.source + ': ' : '') + r.reason};
  }
  // The name=value pairs a set of form fields would send (checked radios only).
  function choices(container) {
    var pairs = [];
    Array.prototype.forEach.call(container.querySelectorAll('input, select, textarea'), function (field) {
      if (!field.name || field.disabled) return;
      if ((field.type === 'radio' || field.type === 'checkbox') && !field.checked) return;
      pairs.push([field.name, field.value]);
    });
    return pairs;
  }

  function add(files, options) {
    var body = new FormData();
    choices(options).forEach(function (pair) { body.append(pair[0], pair[1]); });
    files.forEach(function (file) { body.append('files', file, file.name); });
    say('busy', [{text: 'Adding ' + files.length + ' file(s)…'}]);
    return fetch(drop.getAttribute('data-session'), {credentials: 'same-origin'})
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
  }

  // A list page: the dropped files wait in a panel with the add page's choices.
  function close() {
    if (panel) panel.parentNode.removeChild(panel);
    panel = null;
    pending = [];
  }
  function offer(files) {
    pending = pending.concat(files);
    if (!panel) {
      panel = element('section', '', 'drop-panel');
      panel.setAttribute('aria-label', 'add the dropped files');
      panel.setAttribute('data-drop-panel', '');
      panel.appendChild(element('h2', 'Add the dropped files'));
      panel.appendChild(element('ul', '', 'drop-files'));
      var options = element('div', 'Loading the choices of the add page…', 'drop-options');
      panel.appendChild(options);
      var buttons = element('div', '', 'buttons');
      var go = element('button', 'Add');
      go.type = 'button';
      go.disabled = true;
      go.setAttribute('data-drop-add', '');
      var cancel = element('button', 'Cancel');
      cancel.type = 'button';
      var page = element('a', 'or go to the add page');
      page.href = drop.getAttribute('href');
      buttons.appendChild(go);
      buttons.appendChild(cancel);
      buttons.appendChild(page);
      panel.appendChild(buttons);
      atTop(panel);
      cancel.addEventListener('click', close);
      go.addEventListener('click', function () {
        var files = pending, fieldset = options.querySelector('[data-add-options]');
        close();
        add(files, fieldset);
      });
      fetch(drop.getAttribute('href'), {credentials: 'same-origin'})
        .then(function (r) {
          if (!r.ok) throw new Error('the add page answered ' + r.status);
          return r.text();
        })
        .then(function (text) {
          var found = new DOMParser().parseFromString(text, 'text/html').querySelector('[data-add-options]');
          if (!found) throw new Error('the add page has no choices');
          options.textContent = '';
          options.appendChild(document.importNode(found, true));
          go.disabled = false;
          go.focus();
        })
        .catch(function (e) {
          options.textContent = 'Cannot show the choices, so nothing is added from here (' + e.message +
            '); use the add page.';
        });
    }
    var list = panel.querySelector('.drop-files');
    list.textContent = '';
    pending.forEach(function (file) { list.appendChild(element('li', file.name)); });
    panel.querySelector('[data-drop-add]').textContent = 'Add ' + (pending.length === 1 ? 'this file' : 'these ' + pending.length + ' files');
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
    if (own) add(files, own);
    else offer(files);
  });
})();
