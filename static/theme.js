// The colour theme: the system's (prefers-color-scheme, style.css) unless this browser chose
// light or dark with the header's switch (kept in localStorage).  Loaded in <head>, before
// the page paints, so a chosen theme never flashes the other one.
(function () {
  'use strict';
  var KEY = 'pyrotorrent-theme', ORDER = ['auto', 'dark', 'light'];
  var root = document.documentElement;
  function stored() { try { return localStorage.getItem(KEY) || 'auto'; } catch (e) { return 'auto'; } }
  function apply(theme) {
    if (theme === 'auto') root.removeAttribute('data-theme'); else root.setAttribute('data-theme', theme);
  }
  apply(stored());
  document.addEventListener('DOMContentLoaded', function () {
    var button = document.querySelector('[data-theme-switch]');
    if (!button) return;
    function label() {
      button.textContent = {auto: '◐ auto', dark: '● dark', light: '○ light'}[stored()];
      button.title = 'colours: ' + stored() + ' (click to change)';
    }
    button.hidden = false;
    label();
    button.addEventListener('click', function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      apply(next);
      label();
    });
  });
})();
