// History page: step through an instance's audit trail on its diagram, and verify the trail.
// Expects the markup of templates/pages/history.html and /static/dist/viewer.js loaded before this file
// (plain <script src> tags: the CSP allows no inline script). The states after every step are fetched
// once (data-states-url); moving the slider only redraws markers on the one viewer.
(function () {
  'use strict';

  function byId(id) { return document.getElementById(id); }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) { throw new Error(body.message || ('HTTP ' + response.status)); }
          return body;
        });
      });
  }

  function HistoryPage(root) {
    this.root = root;
    this.total = parseInt(root.dataset.steps, 10) || 0;
    this.slider = byId('step-slider');
    this.diagram = byId('diagram');
    this.entries = {};
    var items = root.querySelectorAll('#timeline > li.entry');
    for (var i = 0; i < items.length; i++) {
      this.entries[items[i].dataset.position] = items[i];
    }
    this.states = {};      // position -> state after that step (those that replayed)
    this.brokenAt = null;  // the first step that does not verify, once known
    this.loaded = false;
    this.viewer = null;
    this.step = this.total;
  }

  HistoryPage.prototype.start = function () {
    var self = this;
    this.bind();
    this.show(this.initialStep());
    var diagram = getJson(this.root.dataset.diagramUrl).then(function (d) {
      return window.BpmnViewerBundle.renderDiagram(self.diagram, d.bpmn, {});
    }).then(function (result) {
      self.viewer = result.viewer;
    }).catch(function (err) { self.diagramFailed(err); });
    var states = getJson(this.root.dataset.statesUrl).then(function (body) {
      (body.states || []).forEach(function (s) { self.states[s.position] = s; });
      if (!body.verified) { self.trailBroken(body.first_mismatch); }
    }).catch(function (err) {
      // a failed fetch is not a broken trail: say what failed, never "does not verify"
      self.loadError = String(err && err.message || err);
      self.note(self.loadError);
    });
    Promise.all([diagram, states]).then(function () {
      self.loaded = true;
      self.show(self.step);
      self.root.dataset.ready = 'true';
    });
  };

  HistoryPage.prototype.initialStep = function () {
    var match = /^#step-(\d+)$/.exec(window.location.hash || '');
    return match ? parseInt(match[1], 10) : this.total;
  };

  HistoryPage.prototype.bind = function () {
    var self = this;
    this.slider.addEventListener('input', function () { self.show(parseInt(self.slider.value, 10)); });
    byId('step-prev').addEventListener('click', function () { self.show(self.step - 1); });
    byId('step-next').addEventListener('click', function () { self.show(self.step + 1); });
    this.root.addEventListener('click', function (event) {
      var link = event.target.closest('.step-link');
      if (link) { self.show(parseInt(link.dataset.position, 10)); }
    });
    // left/right arrows step from anywhere on the timeline, as on the slider itself
    byId('timeline').addEventListener('keydown', function (event) {
      if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') { self.show(self.step - 1); event.preventDefault(); }
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') { self.show(self.step + 1); event.preventDefault(); }
    });
    var verify = byId('verify');
    verify.addEventListener('click', function () { self.verify(verify); });
  };

  HistoryPage.prototype.show = function (n) {
    if (!this.total) { return; }
    n = Math.max(1, Math.min(this.total, n || 1));
    var previous = this.entries[this.step];
    if (previous) { previous.classList.remove('current'); previous.removeAttribute('aria-current'); }
    this.step = n;
    var entry = this.entries[n];
    this.slider.value = String(n);
    var text = fill(this.root.dataset.stepText, { n: n, total: this.total });
    this.slider.setAttribute('aria-valuetext', text);
    byId('step-number').textContent = text;
    byId('step-prev').disabled = n <= 1;
    byId('step-next').disabled = n >= this.total;
    if (entry) {
      entry.classList.add('current');
      entry.setAttribute('aria-current', 'step');
      entry.scrollIntoView({ block: 'nearest' });
      var line = entry.querySelector('.line');
      byId('step-summary').textContent = n + '. ' + (line ? line.textContent.replace(/\s+/g, ' ').trim() : '');
    }
    this.root.dataset.step = String(n);
    if (this.loaded || Object.keys(this.states).length) { this.showState(n, entry); }
  };

  HistoryPage.prototype.showState = function (n, entry) {
    var state = this.states[n];
    var current = entry && entry.dataset.task ? [entry.dataset.task] : [];
    if (!state) {
      this.note(this.loadError || fill(this.root.dataset.unavailableText, { position: this.brokenAt || n }));
      this.markers({ completed: [], active: [], current: current });
      this.data(null);
      return;
    }
    byId('step-note').hidden = true;
    this.markers({ completed: state.completed, active: state.active, current: current });
    this.data(state.shown);
  };

  HistoryPage.prototype.markers = function (state) {
    if (!this.viewer) { return; }
    var result = window.BpmnViewerBundle.showState(this.viewer, state);
    this.diagram.dataset.step = String(this.step);
    if (result.missing.length) {
      this.diagram.dataset.missing = result.missing.join(' ');
    } else {
      delete this.diagram.dataset.missing;
    }
  };

  HistoryPage.prototype.data = function (shown) {
    var list = byId('step-data');
    var rows = [];
    (shown || []).forEach(function (item) {
      var pair = document.createElement('div');
      pair.className = 'pair';
      pair.dataset.field = item.field;
      var dt = document.createElement('dt');
      dt.textContent = item.label;
      var dd = document.createElement('dd');
      dd.textContent = item.value;
      pair.append(dt, dd);
      rows.push(pair);
    });
    if (shown && !rows.length) {
      var empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = this.root.dataset.noDataText;
      rows.push(empty);
    }
    list.replaceChildren.apply(list, rows);
  };

  HistoryPage.prototype.note = function (text) {
    var note = byId('step-note');
    note.textContent = text;
    note.hidden = false;
  };

  HistoryPage.prototype.trailBroken = function (mismatch) {
    this.brokenAt = mismatch ? mismatch.position : 1;
    var warning = byId('trail-warning');
    var text = mismatch && mismatch.kind !== 'chain' ? warning.dataset.replayText : warning.dataset.chainText;
    warning.textContent = fill(text, { position: this.brokenAt });
    warning.hidden = false;
    this.markBroken(this.brokenAt);
  };

  HistoryPage.prototype.markBroken = function (position) {
    var old = this.root.querySelectorAll('#timeline > li.broken');
    for (var i = 0; i < old.length; i++) { old[i].classList.remove('broken'); }
    if (this.entries[position]) { this.entries[position].classList.add('broken'); }
  };

  HistoryPage.prototype.verify = function (button) {
    var self = this;
    var out = byId('verify-result');
    var label = button.textContent;
    button.disabled = true;
    button.textContent = button.dataset.busyText;
    out.hidden = false;
    out.dataset.state = 'running';
    out.replaceChildren();
    getJson(button.dataset.verifyUrl).then(function (body) {
      out.dataset.state = body.verified ? 'verified' : 'broken';
      var p = document.createElement('p');
      p.className = 'verdict';
      p.textContent = body.message;
      out.append(p);
      if (!body.verified && body.first_mismatch) {
        var m = body.first_mismatch;
        out.dataset.position = String(m.position);
        if (m.expected !== null && m.expected !== undefined || m.actual !== null && m.actual !== undefined) {
          out.append(self.comparison(m));
        }
        self.trailBroken(m);
        self.show(Math.min(m.position, self.total));
      }
    }).catch(function (err) {
      out.dataset.state = 'error';
      out.textContent = button.dataset.failedText + ' ' + String(err && err.message || err);
    }).then(function () {
      button.disabled = false;
      button.textContent = label;
    });
  };

  HistoryPage.prototype.comparison = function (m) {
    var dl = document.createElement('dl');
    dl.className = 'mismatch';
    var out = byId('verify-result');
    [[out.dataset.recordedText, m.expected], [out.dataset.replayedText, m.actual]].forEach(function (pair) {
      var dt = document.createElement('dt');
      dt.textContent = pair[0];
      var dd = document.createElement('dd');
      var pre = document.createElement('pre');
      pre.textContent = JSON.stringify(pair[1], null, 2);
      dd.append(pre);
      dl.append(dt, dd);
    });
    return dl;
  };

  HistoryPage.prototype.diagramFailed = function (err) {
    var message = String(err && err.message || err);
    this.diagram.dataset.error = message;
    var p = document.createElement('p');
    p.className = 'diagram-error';
    p.textContent = this.diagram.dataset.errorText || message;
    this.diagram.replaceChildren(p);
  };

  function start() {
    var root = byId('history-page');
    if (!root) { return; }
    if (!window.BpmnViewerBundle) {
      byId('diagram').textContent = 'viewer bundle not loaded (run make setup)';
    }
    new HistoryPage(root).start();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
