// The list's columns: drag a heading to move its column, drag its right edge to resize it;
// both are kept for the user where the column choice is (POST /columns/layout: the store
// for an account, else the session), and the server renders the order from then on.  The
// widths come as data-width (the CSP allows no style attribute) and are applied here.
(function () {
  'use strict';
  var table = document.getElementById('torrents'), url = table && table.getAttribute('data-layout-url');
  var token = document.querySelector('input[name=csrf_token]');
  if (!url || !token || !window.fetch || !window.FormData) return;
  var MIN = 30, MOVE = 6;
  // the headings row, asked each time: a live refresh replaces the thead (data-live="head")
  function row() { return table.tHead.rows[0]; }

  function headings() { return Array.prototype.slice.call(row().querySelectorAll('th[data-column]')); }
  function fix(widths) {    // every column at its width: a fixed layout keeps them as given
    var sum = 0;
    Array.prototype.forEach.call(row().cells, function (th) {
      // at least MIN: the server keeps 30 to 2000 px, and the arrows' columns lay out narrower
      var key = th.getAttribute('data-column'), px = Math.max(MIN, key && widths[key] || th.offsetWidth);
      th.style.width = px + 'px';
      sum += px;
    });
    table.style.tableLayout = 'fixed';
    table.style.width = sum + 'px';
  }
  function stored() {
    var widths = {};
    headings().forEach(function (th) { if (th.hasAttribute('data-width')) widths[th.getAttribute('data-column')] = +th.getAttribute('data-width'); });
    return widths;
  }
  function save() {
    var body = new FormData();
    body.append(token.name, token.value);
    body.append('order', headings().map(function (th) { return th.getAttribute('data-column'); }).join(','));
    headings().forEach(function (th) {
      if (th.style.width) body.append('width', th.getAttribute('data-column') + ':' + Math.round(parseFloat(th.style.width)));
    });
    fetch(url, {method: 'POST', body: body, credentials: 'same-origin', headers: {'X-Requested-With': 'columns'}})
      .then(function (r) { table.setAttribute('data-layout-saved', r.ok ? 'yes' : 'failed ' + r.status); })
      .catch(function () { table.setAttribute('data-layout-saved', 'failed'); });
  }
  function move(from, to, after) {      // a column's cells, in every row, next to another's
    var a = from.cellIndex, b = to.cellIndex;
    Array.prototype.forEach.call(table.rows, function (tr) {
      var x = tr.cells[a], y = tr.cells[b];
      if (!x || !y || tr.cells.length !== row().cells.length) return;   // "No torrents here."
      tr.insertBefore(x, after ? y.nextSibling : y);
    });
  }

  function grips() {       // on load and again after a refresh brought new headings
    if (row().querySelector('.col-grip')) return;
    if (Object.keys(stored()).length) fix(stored());
    headings().forEach(function (th) {
      var grip = document.createElement('span');
      grip.className = 'col-grip';
      grip.setAttribute('aria-hidden', 'true');
      th.appendChild(grip);
    });
  }
  grips();
  new MutationObserver(grips).observe(document.documentElement, {attributes: true, attributeFilter: ['data-refreshed']});

  table.addEventListener('pointerdown', function (event) {
    var th = event.target.closest('thead th[data-column]');
    if (!th || event.button !== 0) return;
    var resizing = event.target.classList.contains('col-grip'), x0 = event.clientX, w0 = th.offsetWidth;
    var moved = false;
    if (resizing) { fix(stored()); event.preventDefault(); }
    function step(e) {
      if (resizing) {
        var w = Math.max(MIN, w0 + e.clientX - x0);
        table.style.width = (parseFloat(table.style.width) + w - parseFloat(th.style.width)) + 'px';
        th.style.width = w + 'px';
      } else if (Math.abs(e.clientX - x0) > MOVE) {
        moved = true;
        th.classList.add('col-dragged');
      }
    }
    function end(e) {
      document.removeEventListener('pointermove', step);
      document.removeEventListener('pointerup', end);
      th.classList.remove('col-dragged');
      if (resizing) return save();
      if (!moved) return;
      var under = document.elementFromPoint(e.clientX, e.clientY), to = under && under.closest('th[data-column]');
      // the click that ends a drag must not follow the heading's sort link
      th.addEventListener('click', function (c) { c.preventDefault(); }, {once: true, capture: true});
      if (!to || to === th || to.parentNode !== row()) return;
      var box = to.getBoundingClientRect();
      move(th, to, e.clientX > box.left + box.width / 2);
      save();
    }
    document.addEventListener('pointermove', step);
    document.addEventListener('pointerup', end);
  });
  table.tHead.addEventListener('dragstart', function (event) { event.preventDefault(); });   // links' own drag
})();
