// Live pages: every few seconds, fetches this same page and merges its parts marked
// data-live="key" into the shown ones, so formatting stays in one place (the server's
// templates).  The merge changes only what differs and leaves alone what the user owns:
// focus, ticked boxes, typed text, chosen options, open folders, the scroll position, a
// text selection that did not change.  Parts holding data-live-showing tell the server what
// they show (X-Live-Showing), so it can answer with the figures of those rows alone; a part
// it did not ask again comes back as data-live-keep and stays as it is.  When a refresh
// fails, a banner says why (the error page's own words) until one succeeds again.
(function () {
  'use strict';
  var script = document.currentScript;
  var seconds = parseInt(script && script.getAttribute('data-refresh'), 10);
  if (!(seconds > 0) || !window.fetch || !window.DOMParser) return;
  var MAX_SHOWING = 6000;     // characters of X-Live-Showing: lighttpd takes 8 KiB of headers in all
  var OWNED = {value: true, checked: true, selected: true};     // on form controls: the user's

  function parts(doc) {
    var found = {};
    Array.prototype.forEach.call(doc.querySelectorAll('[data-live]'), function (el) {
      var key = el.getAttribute('data-live');
      (found[key] = found[key] || []).push(el);
    });
    return found;
  }

  function showing() {
    var text = '';
    Array.prototype.forEach.call(document.querySelectorAll('[data-live-showing]'), function (el) {
      var one = el.getAttribute('data-live-showing');
      if (one && text.length + one.length + 1 <= MAX_SHOWING) text += (text ? ' ' : '') + one;
    });
    return text;
  }

  function userOwned(el, name) {
    if (name === 'open') return el.nodeName === 'DETAILS';
    return OWNED[name] === true && /^(INPUT|SELECT|TEXTAREA|OPTION)$/.test(el.nodeName);
  }

  function identity(node) {
    if (node.nodeType !== 1) return '#' + node.nodeType;
    return node.nodeName + ' ' + (node.getAttribute('data-hash') || node.id || node.getAttribute('data-live') ||
                                  (node.nodeName === 'OPTION' ? node.value : ''));
  }

  function morph(old, fresh) {
    if (fresh.nodeType === 1 && fresh.hasAttribute('data-live-keep')) return;   // not asked this time
    if (old.isEqualNode(fresh)) return;
    if (old.nodeType !== 1) {
      if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
      return;
    }
    var i, name;
    for (i = old.attributes.length - 1; i >= 0; i--) {
      name = old.attributes[i].name;
      if (!fresh.hasAttribute(name) && !userOwned(old, name)) old.removeAttribute(name);
    }
    for (i = 0; i < fresh.attributes.length; i++) {
      name = fresh.attributes[i].name;
      if (old.getAttribute(name) !== fresh.attributes[i].value && !userOwned(old, name)) {
        old.setAttribute(name, fresh.attributes[i].value);
      }
    }
    // children matched by identity (a row by its hash), in order: kept nodes keep their state
    var pool = {};
    Array.prototype.forEach.call(old.childNodes, function (n) {
      (pool[identity(n)] = pool[identity(n)] || []).push(n);
    });
    var at = 0;
    Array.prototype.slice.call(fresh.childNodes).forEach(function (f) {
      var same = pool[identity(f)], node = same && same.shift();
      if (node) morph(node, f);
      else node = document.importNode(f, true);
      if (old.childNodes[at] !== node) old.insertBefore(node, old.childNodes[at] || null);
      at++;
    });
    while (old.childNodes.length > at) old.removeChild(old.lastChild);
  }

  function merge(html) {
    var fresh = parts(new DOMParser().parseFromString(html, 'text/html'));
    var shown = parts(document);
    var focused = document.activeElement;
    var ticked = {};        // boxes a moved or rebuilt row brings back ticked (name and value)
    Array.prototype.forEach.call(document.querySelectorAll('[data-live] input[type=checkbox]'), function (box) {
      if (box.checked) ticked[box.name + '\n' + box.value] = true;
    });
    Object.keys(shown).forEach(function (key) {
      var news = fresh[key] || [];
      shown[key].forEach(function (el, i) { if (news[i]) morph(el, news[i]); });
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-live] input[type=checkbox]'), function (box) {
      if (ticked[box.name + '\n' + box.value]) box.checked = true;
    });
    if (focused && focused !== document.activeElement && document.contains(focused)) {
      focused.focus({preventScroll: true});       // a moved row takes its focus along
    }
  }

  // the sticky bulk bar and table head sit below the banner (style.css reads its height)
  function bannerHeight() {
    var banner = document.getElementById('live-problem'), root = document.documentElement.style;
    if (banner) root.setProperty('--live-problem-height', banner.offsetHeight + 'px');
    else root.removeProperty('--live-problem-height');
  }
  window.addEventListener('resize', bannerHeight);

  function problem(text) {
    var banner = document.getElementById('live-problem');
    if (!text) {
      if (banner) banner.parentNode.removeChild(banner);
      document.documentElement.removeAttribute('data-stale');
      bannerHeight();
      return;
    }
    if (!banner) {
      banner = document.createElement('p');
      banner.id = 'live-problem';
      banner.className = 'live-problem';
      banner.setAttribute('role', 'alert');
      var main = document.querySelector('main') || document.body;
      main.insertBefore(banner, main.firstChild);
    }
    banner.textContent = text;
    document.documentElement.setAttribute('data-stale', 'true');
    bannerHeight();
  }

  function errorText(status, html) {
    var doc = new DOMParser().parseFromString(html || '', 'text/html');
    var title = doc.querySelector('.error-card h1'), message = doc.querySelector('.error-card p');
    var said = title ? title.textContent.trim() + (message ? ': ' + message.textContent.trim() : '')
                     : 'pyroTorrent answered ' + status;
    return 'Not up to date — ' + said + ' (trying again every ' + seconds + ' s)';
  }

  // now(): a refresh at once, in full (after an action or a new filter: sidebar.js, notice.js)
  var timer = null, asked = 0;
  function refresh(full) {
    window.clearTimeout(timer);
    if (document.hidden && !full) { timer = window.setTimeout(refresh, seconds * 1000); return; }
    var headers = {'X-Requested-With': 'refresh'}, what = full ? '' : showing(), href = window.location.href, mine = ++asked;
    if (what) headers['X-Live-Showing'] = what;
    fetch(href, {credentials: 'same-origin', headers: headers})
      .then(function (r) {
        // the session ended: reloading shows the login page, which brings the user back here
        if (r.redirected) { window.location.reload(); return Promise.reject(null); }
        return r.text().then(function (html) {
          if (!r.ok) return Promise.reject(errorText(r.status, html));
          return html;
        });
      })
      .then(function (html) {
        if (mine !== asked || href !== window.location.href) return;     // a newer question is under way
        merge(html);
        problem(null);
        document.documentElement.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function (why) {
        if (why === null) return;
        problem(typeof why === 'string' ? why : 'Not up to date — pyroTorrent did not answer (' +
                (why && why.message || 'network error') + '); trying again every ' + seconds + ' s');
      })
      .then(function () {
        if (mine === asked) timer = window.setTimeout(refresh, seconds * 1000);
      });
  }
  window.pyrotorrentLive = {now: function () { refresh(true); }};
  timer = window.setTimeout(refresh, seconds * 1000);
})();
