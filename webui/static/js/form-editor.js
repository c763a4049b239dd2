// Modeler page, forms tab: each form file of the version as YAML in a textarea, with a live preview
// (POST the YAML to the preview route: the form drawn as its task page shows it, and the engine's problems).
// Used by modeler-page.js through window.SalesflowForms; no inline script anywhere (CSP).
(function () {
  'use strict';

  var KEY_LINE = /^key:\s*["']?([A-Za-z][A-Za-z0-9_\-.]*)/m;
  var KEY_OK = /^[A-Za-z][A-Za-z0-9_]*$/;
  var DELAY = 350;

  var state = { forms: [], list: null, previewUrl: '', csrf: '', texts: {}, listeners: [], counter: 0 };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'text') { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function keyOf(content) {
    var found = KEY_LINE.exec(content || '');
    return found ? found[1] : null;
  }

  function changed() {
    state.listeners.forEach(function (fn) { fn(); });
  }

  function skeleton(key) {
    var t = state.texts;
    return [
      'key: ' + key,
      'title: {zh: ' + (t.newFormTitleZh || 'New form') + ', en: ' + (t.newFormTitleEn || 'New form') + '}',
      'schema:',
      '  type: object',
      '  additionalProperties: false',
      '  required: [note]',
      '  properties:',
      '    note: {type: string, minLength: 1, maxLength: 4000}',
      'fields:',
      '  - name: note',
      '    label: {zh: ' + (t.newFieldZh || 'Note') + ', en: ' + (t.newFieldEn || 'Note') + '}',
      '    widget: textarea',
      ''
    ].join('\n');
  }

  function renderProblems(list, problems) {
    list.replaceChildren();
    (problems || []).forEach(function (p) {
      var where = p.line ? ' (' + p.line + ')' : '';
      list.appendChild(el('li', {
        'class': 'problem severity-' + (p.severity || 'error'), 'data-severity': p.severity || 'error',
        text: (p.element ? p.element + ': ' : '') + p.message + where
      }));
    });
  }

  function preview(form) {
    clearTimeout(form.timer);
    form.seq += 1;
    var seq = form.seq;
    form.card.dataset.previewState = 'pending';
    return fetch(state.previewUrl, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': state.csrf },
      body: JSON.stringify({ name: form.name, content: form.textarea.value })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (seq !== form.seq) { return; } // a later edit is on its way
      var body = answer.body || {};
      if (!answer.ok) {
        renderProblems(form.problems, [{ severity: 'error', message: body.message || state.texts.previewFailed }]);
        form.card.dataset.previewState = 'failed';
        return;
      }
      renderProblems(form.problems, body.problems);
      var errors = (body.problems || []).filter(function (p) { return p.severity !== 'warning'; }).length;
      form.card.dataset.errors = String(errors);
      form.card.classList.toggle('has-problems', errors > 0);
      if (body.html) {
        var range = document.createRange();
        form.preview.replaceChildren(range.createContextualFragment(body.html));
      } else {
        form.preview.replaceChildren(el('p', { 'class': 'empty', text: state.texts.noPreview || '' }));
      }
      if (body.key && body.key !== form.key) { form.key = body.key; updateKey(form); changed(); }
      form.card.dataset.previewState = 'done';
    }).catch(function () {
      if (seq === form.seq) {
        form.card.dataset.previewState = 'failed';
        renderProblems(form.problems, [{ severity: 'error', message: state.texts.previewFailed || 'preview failed' }]);
      }
    });
  }

  function updateKey(form) {
    form.keyLabel.textContent = form.key || '—';
    form.card.dataset.formKey = form.key || '';
  }

  function addCard(name, content, open, first) {
    state.counter += 1;
    var id = 'form-' + state.counter;
    var textarea = el('textarea', {
      'class': 'form-yaml', id: id + '-yaml', spellcheck: 'false', rows: '22', wrap: 'off', 'data-file': name,
      'aria-label': name
    });
    textarea.value = content;
    var problems = el('ul', { 'class': 'problems form-problems', id: id + '-problems' });
    var previewBox = el('div', { 'class': 'form-preview-box', id: id + '-preview' });
    var keyLabel = el('code', { 'class': 'form-key' });
    var summary = el('summary', {}, [el('span', { 'class': 'form-name', text: name }), document.createTextNode(' · '),
      keyLabel]);
    var card = el('details', { 'class': 'form-card', id: id, 'data-file': name }, [
      summary,
      el('div', { 'class': 'form-edit-grid' }, [
        textarea,
        el('div', { 'class': 'form-side' }, [problems, previewBox])
      ])
    ]);
    var form = { name: name, key: keyOf(content), card: card, textarea: textarea, problems: problems,
                 preview: previewBox, keyLabel: keyLabel, timer: null, seq: 0, previewed: false };
    updateKey(form);
    textarea.addEventListener('input', function () {
      var key = keyOf(textarea.value);
      if (key !== form.key) { form.key = key; updateKey(form); }
      clearTimeout(form.timer);
      form.timer = setTimeout(function () { preview(form); }, DELAY);
      changed();
    });
    card.addEventListener('toggle', function () {
      if (card.open && !form.previewed) { form.previewed = true; preview(form); }
    });
    state.forms.push(form);
    if (first) { state.list.insertBefore(card, state.list.firstChild); } else { state.list.appendChild(card); }
    if (open) { card.open = true; }
    return form;
  }

  function find(name) {
    return state.forms.filter(function (f) { return f.name === name; })[0] || null;
  }

  function showEmpty() {
    var empty = state.list.querySelector('.forms-empty');
    if (state.forms.length === 0 && !empty) {
      state.list.appendChild(el('p', { 'class': 'empty forms-empty', text: state.texts.noForms || '' }));
    } else if (state.forms.length && empty) {
      empty.remove();
    }
  }

  window.SalesflowForms = {
    init: function (options) {
      state.list = options.list;
      state.previewUrl = options.previewUrl;
      state.csrf = options.csrf;
      state.texts = options.texts || {};
      (options.files || []).forEach(function (f) { addCard(f.name, f.content, false); });
      showEmpty();
      var newForm = options.newForm;
      if (newForm) {
        newForm.addEventListener('submit', function (event) {
          event.preventDefault();
          var input = newForm.querySelector('input');
          var error = newForm.querySelector('.field-error');
          var key = input.value.trim();
          error.hidden = true;
          if (!KEY_OK.test(key)) { error.textContent = state.texts.formKeyInvalid; error.hidden = false; return; }
          if (find(key + '.yaml')) { error.textContent = state.texts.formExists; error.hidden = false; return; }
          window.SalesflowForms.add(key);
          input.value = '';
        });
      }
    },
    /** A new form file <key>.yaml from the skeleton, opened and previewed; returns its file name. */
    add: function (key, content) {
      var form = addCard(key + '.yaml', content || skeleton(key), true, true);
      showEmpty();
      form.previewed = true;
      preview(form);
      form.textarea.focus();
      changed();
      return form.name;
    },
    /** Replace a form's YAML (as typing would) and preview it at once. */
    set: function (name, content) {
      var form = find(name);
      if (!form) { return null; }
      form.textarea.value = content;
      form.key = keyOf(content);
      updateKey(form);
      changed();
      return preview(form);
    },
    files: function () {
      return state.forms.map(function (f) { return { name: f.name, kind: 'form', content: f.textarea.value }; });
    },
    keys: function () {
      return state.forms.filter(function (f) { return f.key; }).map(function (f) { return { key: f.key, name: f.name }; });
    },
    /** Open a form's card and put the cursor at a line (for a problem found by the check). */
    reveal: function (name, line) {
      var form = find(name);
      if (!form) { return false; }
      form.card.open = true;
      form.textarea.focus();
      if (line) {
        var lines = form.textarea.value.split('\n');
        var offset = lines.slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
        form.textarea.setSelectionRange(offset, offset);
      }
      form.card.scrollIntoView({ block: 'nearest' });
      return true;
    },
    has: function (name) { return !!find(name); },
    count: function () { return state.forms.length; },
    onChange: function (fn) { state.listeners.push(fn); }
  };
})();
