// Modeler page, forms tab: each form file of the version as YAML in a textarea, with a live preview
// (POST the YAML to the preview route: the form drawn as its task page shows it, and the engine's problems).
// The page script (pages/model-editor.js) drives it through `formsTab`.
import { el } from '../page-kit/dom.js';
import { postJson } from '../page-kit/http.js';

const KEY_LINE = /^key:\s*["']?([A-Za-z][A-Za-z0-9_\-.]*)/m;
const KEY_OK = /^[A-Za-z][A-Za-z0-9_]*$/;
const DELAY = 350;

const state = { forms: [], list: null, previewUrl: '', csrf: '', texts: {}, listeners: [], counter: 0 };

function keyOf(content) {
  const found = KEY_LINE.exec(content || '');
  return found ? found[1] : null;
}

function changed() {
  state.listeners.forEach((fn) => fn());
}

function skeleton(key) {
  const t = state.texts;
  return [
    `key: ${key}`,
    `title: {zh: ${t.newFormTitleZh || 'New form'}, en: ${t.newFormTitleEn || 'New form'}}`,
    'schema:',
    '  type: object',
    '  additionalProperties: false',
    '  required: [note]',
    '  properties:',
    '    note: {type: string, minLength: 1, maxLength: 4000}',
    'fields:',
    '  - name: note',
    `    label: {zh: ${t.newFieldZh || 'Note'}, en: ${t.newFieldEn || 'Note'}}`,
    '    widget: textarea',
    ''
  ].join('\n');
}

function renderProblems(list, problems) {
  list.replaceChildren(...(problems || []).map((p) => el('li', {
    class: `problem severity-${p.severity || 'error'}`, 'data-severity': p.severity || 'error',
    text: (p.element ? `${p.element}: ` : '') + p.message + (p.line ? ` (${p.line})` : '')
  })));
}

function previewFailed(form, message) {
  renderProblems(form.problems, [{ severity: 'error', message: message || state.texts.previewFailed || 'preview failed' }]);
  form.card.dataset.previewState = 'failed';
}

function showPreview(form, body) {
  renderProblems(form.problems, body.problems);
  const errors = (body.problems || []).filter((p) => p.severity !== 'warning').length;
  form.card.dataset.errors = String(errors);
  form.card.classList.toggle('has-problems', errors > 0);
  if (body.html) {
    form.preview.replaceChildren(document.createRange().createContextualFragment(body.html));
  } else {
    form.preview.replaceChildren(el('p', { class: 'empty', text: state.texts.noPreview || '' }));
  }
  if (body.key && body.key !== form.key) { form.key = body.key; updateKey(form); changed(); }
  form.card.dataset.previewState = 'done';
}

function preview(form) {
  clearTimeout(form.timer);
  form.seq += 1;
  const seq = form.seq;
  form.card.dataset.previewState = 'pending';
  return postJson(state.previewUrl, { name: form.name, content: form.textarea.value }, state.csrf)
    .then((answer) => {
      if (seq !== form.seq) { return; } // a later edit is on its way
      if (answer.ok) { showPreview(form, answer.body); } else { previewFailed(form, answer.body.message); }
    })
    .catch(() => { if (seq === form.seq) { previewFailed(form); } });
}

function updateKey(form) {
  form.keyLabel.textContent = form.key || '—';
  form.card.dataset.formKey = form.key || '';
}

function addCard(name, content, open, first) {
  state.counter += 1;
  const id = `form-${state.counter}`;
  const textarea = el('textarea', {
    class: 'form-yaml', id: `${id}-yaml`, spellcheck: 'false', rows: '22', wrap: 'off', 'data-file': name,
    'aria-label': name
  });
  textarea.value = content;
  const problems = el('ul', { class: 'problems form-problems', id: `${id}-problems` });
  const previewBox = el('div', { class: 'form-preview-box', id: `${id}-preview` });
  const keyLabel = el('code', { class: 'form-key' });
  const card = el('details', { class: 'form-card', id, 'data-file': name }, [
    el('summary', {}, [el('span', { class: 'form-name', text: name }), ' · ', keyLabel]),
    el('div', { class: 'form-edit-grid' }, [textarea, el('div', { class: 'form-side' }, [problems, previewBox])])
  ]);
  const form = { name, key: keyOf(content), card, textarea, problems, preview: previewBox, keyLabel,
                 timer: null, seq: 0, previewed: false };
  updateKey(form);
  textarea.addEventListener('input', () => {
    const key = keyOf(textarea.value);
    if (key !== form.key) { form.key = key; updateKey(form); }
    clearTimeout(form.timer);
    form.timer = setTimeout(() => preview(form), DELAY);
    changed();
  });
  card.addEventListener('toggle', () => {
    if (card.open && !form.previewed) { form.previewed = true; preview(form); }
  });
  state.forms.push(form);
  if (first) { state.list.insertBefore(card, state.list.firstChild); } else { state.list.appendChild(card); }
  if (open) { card.open = true; }
  return form;
}

function find(name) {
  return state.forms.find((f) => f.name === name) || null;
}

function showEmpty() {
  const empty = state.list.querySelector('.forms-empty');
  if (state.forms.length === 0 && !empty) {
    state.list.appendChild(el('p', { class: 'empty forms-empty', text: state.texts.noForms || '' }));
  } else if (state.forms.length && empty) {
    empty.remove();
  }
}

/** The "new form" box: a key that is valid and not taken yet becomes a new form file. */
function watchNewForm(newForm) {
  newForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = newForm.querySelector('input');
    const error = newForm.querySelector('.field-error');
    const key = input.value.trim();
    error.hidden = true;
    if (!KEY_OK.test(key)) { error.textContent = state.texts.formKeyInvalid; error.hidden = false; return; }
    if (find(`${key}.yaml`)) { error.textContent = state.texts.formExists; error.hidden = false; return; }
    formsTab.add(key);
    input.value = '';
  });
}

export const formsTab = {
  init(options) {
    state.list = options.list;
    state.previewUrl = options.previewUrl;
    state.csrf = options.csrf;
    state.texts = options.texts || {};
    (options.files || []).forEach((f) => addCard(f.name, f.content, false));
    showEmpty();
    if (options.newForm) { watchNewForm(options.newForm); }
  },
  /** A new form file <key>.yaml from the skeleton, opened and previewed; returns its file name. */
  add(key, content) {
    const form = addCard(`${key}.yaml`, content || skeleton(key), true, true);
    showEmpty();
    form.previewed = true;
    preview(form);
    form.textarea.focus();
    changed();
    return form.name;
  },
  /** Replace a form's YAML (as typing would) and preview it at once. */
  set(name, content) {
    const form = find(name);
    if (!form) { return null; }
    form.textarea.value = content;
    form.key = keyOf(content);
    updateKey(form);
    changed();
    return preview(form);
  },
  files() {
    return state.forms.map((f) => ({ name: f.name, kind: 'form', content: f.textarea.value }));
  },
  keys() {
    return state.forms.filter((f) => f.key).map((f) => ({ key: f.key, name: f.name }));
  },
  /** Open a form's card and put the cursor at a line (for a problem found by the check). */
  reveal(name, line) {
    const form = find(name);
    if (!form) { return false; }
    form.card.open = true;
    form.textarea.focus();
    if (line) {
      const lines = form.textarea.value.split('\n');
      const offset = lines.slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
      form.textarea.setSelectionRange(offset, offset);
    }
    form.card.scrollIntoView({ block: 'nearest' });
    return true;
  },
  has(name) { return !!find(name); },
  count() { return state.forms.length; },
  onChange(fn) { state.listeners.push(fn); }
};
