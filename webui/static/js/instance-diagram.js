// Instance page: fetch the instance's diagram state and draw it with the viewer bundle.
// Expects <div id="diagram" data-diagram-url="..."> and /static/dist/viewer.js loaded before this file
// (both as plain <script src> tags: the CSP allows no inline script).
(function () {
  'use strict';

  function fail(el, message) {
    el.dataset.error = message;
    var p = document.createElement('p');
    p.className = 'diagram-error';
    p.textContent = el.dataset.errorText || message;
    el.replaceChildren(p);
    if (window.console) { console.warn('instance diagram: ' + message); }
  }

  function start() {
    var el = document.getElementById('diagram');
    if (!el) { return; }
    var url = el.dataset.diagramUrl;
    if (!url) { fail(el, 'no data-diagram-url'); return; }
    if (!window.BpmnViewerBundle) { fail(el, 'viewer bundle not loaded (run make setup)'); return; }
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (state) {
        return window.BpmnViewerBundle.renderDiagram(el, state.bpmn, {
          completed: state.completed || [],
          active: state.active || []
        });
      })
      .then(function (result) {
        if (result.missing.length) { el.dataset.missing = result.missing.join(' '); }
      })
      .catch(function (err) { fail(el, String(err && err.message || err)); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
