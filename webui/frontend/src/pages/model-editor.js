// Modeler page (/model/<key>/<version>, /model/new): the bpmn-js modeler with the properties panel, the
// DMN and forms tabs (model-editor/dmn-tab.js, forms-tab.js), the role catalogue and form keys beside it,
// the check (server lint + bpmnlint) and the deploy. URLs, the page's state and its translated texts come
// in data-* attributes of #model-page.
// For the browser tests (and a developer's console) the modeler is window.salesflowModeler and
// window.salesflowPage offers ready/check/collectFiles/showTab/openBpmn/processId.
import { createModeler, ENGINE_RULE } from '../modeler.js';
import { dmnTab } from '../model-editor/dmn-tab.js';
import { formsTab } from '../model-editor/forms-tab.js';
import { unsavedGuard } from '../model-editor/unsaved-guard.js';
import { el, messageOf } from '../page-kit/dom.js';
import { csrfToken, getJson, postJson } from '../page-kit/http.js';

const root = document.getElementById('model-page');
const texts = JSON.parse(root.dataset.texts || '{}');
const csrf = csrfToken();
const $ = function (id) { return document.getElementById(id); };

const state = {
  bpmn: [], // [{name, content, edited}]
  current: null,
  pristine: {}, // name -> XML as bpmn-js saved it right after import (unchanged files go back as they came)
  problems: [],
  lintIssues: {},
  lastCheckErrors: null,
  isNew: root.dataset.new === 'true'
};

function status(text, kind) {
  const line = $('load-status');
  line.textContent = text || '';
  line.className = 'status-line' + (kind ? ' ' + kind : '');
}

const modeler = createModeler({ container: $('canvas'), propertiesParent: $('properties') });
window.salesflowModeler = modeler;

// -- tabs ---------------------------------------------------------------------------------------------

const TABS = ['bpmn', 'dmn', 'forms'];

function showTab(name) {
  TABS.forEach(function (tab) {
    const selected = tab === name;
    $('tab-' + tab).setAttribute('aria-selected', selected ? 'true' : 'false');
    $('panel-' + tab).hidden = !selected;
  });
  root.dataset.tab = name;
  if (name === 'bpmn') { modeler.get('canvas').resized(); return Promise.resolve(); }
  if (name === 'dmn') { return dmnTab.show(); }
  return Promise.resolve();
}

TABS.forEach(function (tab) {
  $('tab-' + tab).addEventListener('click', function () { showTab(tab); });
});

// -- BPMN files -----------------------------------------------------------------------------------------

function findBpmn(name) {
  return state.bpmn.filter(function (f) { return f.name === name; })[0] || null;
}

function saveCurrent() {
  if (!state.current) { return Promise.resolve(); }
  const file = findBpmn(state.current);
  return modeler.saveXML({ format: true }).then(function (result) { file.edited = result.xml; });
}

function openBpmn(name) {
  const file = findBpmn(name);
  return saveCurrent().then(function () {
    state.current = name;
    $('bpmn-file').value = name;
    return modeler.importXML(file.edited || file.content);
  }).then(function (result) {
    if (!(name in state.pristine)) {
      return modeler.saveXML({ format: true }).then(function (saved) {
        state.pristine[name] = saved.xml;
        return result;
      });
    }
    return result;
  }).then(function (result) {
    fitBesidePalette(modeler.get('canvas'));
    $('canvas').dataset.file = name;
    if (state.problems.length) { drawProblems(); }
    return result;
  });
}

/** Fit to the viewport: the whole diagram in view and centred, no larger than life, clear of the palette.
 *  The canvas is measured again first (the layout may have changed since the modeler was created). */
function fitBesidePalette(canvas) {
  canvas.resized();
  const box = canvas.viewbox();
  const inner = box.inner, outer = box.outer;
  if (!inner.width || !outer.width) { return; }
  const left = 130, margin = 16;
  const scale = Math.min(1, (outer.width - left - margin) / inner.width, (outer.height - 2 * margin) / inner.height);
  const spareX = (outer.width - left - margin) / scale - inner.width;
  const spareY = (outer.height - 2 * margin) / scale - inner.height;
  canvas.viewbox({ x: inner.x - left / scale - spareX / 2, y: inner.y - margin / scale - spareY / 2,
                   width: outer.width / scale, height: outer.height / scale });
  $('canvas').dataset.zoom = String(Math.round(scale * 1000) / 1000);
}

/** The process id of the diagram open now (a new diagram's file is named after it). */
function processId() {
  const definitions = modeler.getDefinitions();
  const process = (definitions && definitions.rootElements || []).filter(function (e) { return e.$type === 'bpmn:Process'; })[0];
  return process ? process.id : null;
}

function collectFiles() {
  return saveCurrent().then(function () {
    const files = state.bpmn.map(function (f) {
      const edited = f.edited && f.edited !== state.pristine[f.name];
      return { name: f.name, content: edited ? f.edited : f.content };
    });
    if (state.isNew && files.length === 1 && processId()) { files[0].name = processId() + '.bpmn'; }
    return dmnTab.files().then(function (dmn) {
      const forms = formsTab.files();
      return files.concat(dmn.map(strip), forms.map(strip));
    });
  });
}

function strip(f) { return { name: f.name, content: f.content }; }

// -- role catalogue and form keys ----------------------------------------------------------------------

function selected(type) {
  return modeler.get('selection').get().filter(function (e) { return e.type === type; })[0] || null;
}

function notice(text) {
  status(text, 'warn');
}

document.querySelectorAll('.use-role').forEach(function (button) {
  button.addEventListener('click', function () {
    const lane = selected('bpmn:Lane');
    if (!lane) { notice(texts.selectLane); return; }
    try {
      modeler.get('modeling').updateProperties(lane, { id: button.dataset.role, name: button.dataset.name });
      status('');
    } catch (err) {
      notice(messageOf(err));
    }
  });
});

function renderFormKeys() {
  const list = $('form-keys');
  list.replaceChildren();
  formsTab.keys().forEach(function (entry) {
    const use = el('button', { type: 'button', 'class': 'small secondary use-form-key', 'data-key': entry.key,
                             text: texts.useForTask || '→' });
    use.addEventListener('click', function () {
      const task = selected('bpmn:UserTask');
      if (!task) { notice(texts.selectTask); return; }
      modeler.get('modeling').updateProperties(task, { 'camunda:formKey': entry.key });
      status('');
    });
    list.appendChild(el('li', { 'data-key': entry.key }, [el('code', { text: entry.key }), ' ', use]));
  });
  if (!list.children.length) { list.appendChild(el('li', { 'class': 'empty', text: texts.noForms })); }
  $('forms-count').textContent = String(formsTab.count());
}

// -- problems: the list, and on the diagram ------------------------------------------------------------

function clearDrawn() {
  const canvas = modeler.get('canvas');
  modeler.get('elementRegistry').forEach(function (element) {
    canvas.removeMarker(element.id, 'has-problem-error');
    canvas.removeMarker(element.id, 'has-problem-warning');
  });
}

/** Whether problem `p` (of the engine's check) is about the BPMN file open now. */
function onThisDiagram(p) {
  if (!p.file) { return true; }
  if (p.file === state.current) { return true; }
  return !findBpmn(p.file) && /\.bpmn$/i.test(p.file) && state.bpmn.length === 1; // a new diagram, renamed
}

/**
 * The engine's findings on the diagram: each one in bpmnlint's overlay of the element it names (and in
 * its error count), the element outlined. A finding about another file, or about no element, is shown
 * on the diagram itself, so the canvas never says "no issues" while the engine lists errors.
 */
function drawProblems() {
  clearDrawn();
  const registry = modeler.get('elementRegistry');
  const findings = [];
  const worst = {};
  state.problems.forEach(function (p) {
    const here = onThisDiagram(p);
    const element = here && p.element && registry.get(p.element) ? p.element : null;
    const severity = p.severity === 'warning' ? 'warning' : 'error';
    findings.push({ id: element, category: severity === 'error' ? 'error' : 'warn',
                    message: (here ? '' : (p.file || '') + ': ') + p.message });
    if (element && worst[element] !== 'error') { worst[element] = severity; }
  });
  Object.keys(worst).forEach(function (id) {
    modeler.get('canvas').addMarker(id, 'has-problem-' + worst[id]);
  });
  modeler.get('engineFindings').set(findings);
}

function kindOf(name) {
  if (/\.bpmn$/i.test(name || '')) { return 'bpmn'; }
  if (/\.dmn$/i.test(name || '')) { return 'dmn'; }
  if (/\.ya?ml$/i.test(name || '')) { return 'form'; }
  return null;
}

function reveal(p) {
  const kind = kindOf(p.file);
  if (kind === 'form' && formsTab.has(p.file)) {
    showTab('forms').then(function () { formsTab.reveal(p.file, p.line); });
  } else if (kind === 'dmn') {
    showTab('dmn').then(function () { return dmnTab.open(p.file); });
  } else if (p.element) {
    const go = (findBpmn(p.file) && p.file !== state.current) ? openBpmn(p.file) : Promise.resolve();
    showTab('bpmn').then(function () { return go; }).then(function () {
      const element = modeler.get('elementRegistry').get(p.element);
      if (element) {
        const canvas = modeler.get('canvas');
        if (canvas.zoom() < 0.75) { canvas.zoom(1); }
        modeler.get('selection').select(element);
        canvas.scrollToElement(element, { top: 120, bottom: 120, left: 200, right: 200 });
      }
    });
  }
}

/** The element a problem names, by its name when it has one on the diagram open now (else its id). */
function elementLabel(p) {
  if (!p.element) { return ''; }
  const element = onThisDiagram(p) && modeler.get('elementRegistry').get(p.element);
  const name = element && element.businessObject && element.businessObject.name;
  return name ? name.replace(/\s+/g, ' ') : p.element;
}

function problemItem(p) {
  const severity = p.severity === 'warning' ? 'warning' : 'error';
  const where = [p.file, elementLabel(p)].filter(Boolean).join(' › ') + (p.line ? ' (' + p.line + ')' : '');
  const item = el('li', {
    'class': 'problem severity-' + severity, 'data-severity': severity,
    'data-file': p.file || '', 'data-element': p.element || '', tabindex: '0'
  }, [
    el('span', { 'class': 'severity', text: severity === 'error' ? texts.error : texts.warning }), ' ',
    el('span', { 'class': 'where', text: where }), ' ',
    el('span', { 'class': 'message', text: p.message })
  ]);
  item.addEventListener('click', function () { reveal(p); });
  item.addEventListener('keydown', function (event) { if (event.key === 'Enter') { reveal(p); } });
  return item;
}

function showProblems(problems) {
  state.problems = problems || [];
  const list = $('problems');
  list.replaceChildren();
  state.problems.forEach(function (p) { list.appendChild(problemItem(p)); });
  if (!state.problems.length) { list.appendChild(el('li', { 'class': 'empty', text: texts.noProblems })); }
  const errors = state.problems.filter(function (p) { return p.severity !== 'warning'; }).length;
  const warnings = state.problems.length - errors;
  state.lastCheckErrors = errors;
  $('check-summary').textContent = state.problems.length
    ? errors + ' ' + texts.errors + ', ' + warnings + ' ' + texts.warnings : texts.noProblems;
  $('check-card').dataset.errors = String(errors);
  $('check-card').dataset.warnings = String(warnings);
  $('deploy').disabled = errors > 0;
  drawProblems();
  return errors;
}

function showLintIssues(issues) {
  state.lintIssues = issues || {};
  const list = $('bpmnlint-problems');
  list.replaceChildren();
  let count = 0;
  Object.keys(state.lintIssues).forEach(function (id) {
    state.lintIssues[id].forEach(function (issue) {
      if (issue.rule === ENGINE_RULE) { return; } // the engine's own findings are listed above
      count += 1;
      const severity = issue.category === 'error' ? 'error' : 'warning';
      const item = problemItem({ file: state.current, element: id, severity: severity,
                               message: modeler.get('translate')(issue.message) });
      item.dataset.rule = issue.rule || issue.id;
      item.classList.add('bpmnlint');
      list.appendChild(item);
    });
  });
  if (!count) { list.appendChild(el('li', { 'class': 'empty', text: texts.bpmnlintNone })); }
  list.dataset.count = String(count);
}

modeler.on('linting.completed', function (event) { showLintIssues(event.issues); });

// -- check and deploy ------------------------------------------------------------------------------------

function check() {
  $('check-summary').textContent = texts.checking;
  $('check-card').dataset.state = 'checking';
  return collectFiles().then(function (files) {
    return postJson(root.dataset.lintUrl, { files: files });
  }).then(function (answer) {
    $('check-card').dataset.state = 'done';
    if (!answer.ok) {
      const problems = answer.body.problems || [{ severity: 'error', message: answer.body.message || texts.checkFailed }];
      return showProblems(problems);
    }
    return showProblems(answer.body.problems);
  }).catch(function (err) {
    $('check-card').dataset.state = 'failed';
    $('check-summary').textContent = texts.checkFailed + ' ' + (err && err.message || '');
    throw err;
  });
}

function deployError(text) {
  const box = $('deploy-error');
  box.textContent = text || '';
  box.hidden = !text;
}

/** The process ids whose replacement the owner confirmed (the boxes a refused deploy put on the card). */
function replaceTicked() {
  return Array.from($('deploy-replace').querySelectorAll('input[name="replace"]:checked'))
    .map(function (box) { return box.value; });
}

/** The processes the diagram would replace, each with its diff and an unticked box to confirm it. */
function showReplacing(html) {
  const ticked = replaceTicked();
  const box = $('deploy-replace');
  box.replaceChildren(document.createRange().createContextualFragment(html || ''));
  box.querySelectorAll('input[name="replace"]').forEach(function (input) {
    input.checked = ticked.indexOf(input.value) >= 0; // a box ticked before stays ticked
  });
}

function deploy(event) {
  event.preventDefault();
  deployError('');
  const note = $('deploy-note').value.trim();
  const button = $('deploy');
  button.disabled = true;
  $('deploy-card').dataset.state = 'checking';
  return check().then(function (errors) {
    if (errors > 0) {
      deployError(texts.deployBlocked);
      $('deploy-card').dataset.state = 'refused';
      return null;
    }
    $('deploy-card').dataset.state = 'deploying';
    status(texts.deploying);
    return collectFiles().then(function (files) {
      return postJson(root.dataset.deployUrl, { files: files, note: note, replace: replaceTicked() });
    }).then(function (answer) {
      status('');
      if (!answer.ok) {
        $('deploy-card').dataset.state = 'refused';
        deployError(texts.deployFailed + ' ' + (answer.body.message || ''));
        if (answer.body.problems) { showProblems(answer.body.problems); }
        if (answer.body.error === 'replaces_process') { // deployable once a box is ticked: offered again
          showReplacing(answer.body.html);
          button.disabled = false;
        }
        return answer;
      }
      $('deploy-replace').replaceChildren();
      const result = $('deploy-result');
      const range = document.createRange();
      result.replaceChildren();
      answer.body.deployed.forEach(function (d) { result.appendChild(range.createContextualFragment(d.html)); });
      showDeployedVersion(answer.body.deployed);
      $('deploy-card').dataset.state = 'deployed';
      $('deploy-note').value = '';
      button.disabled = false;
      return saved().then(function () { return answer; });
    });
  }).catch(function (err) {
    $('deploy-card').dataset.state = 'failed';
    deployError(texts.deployFailed + ' ' + (err && err.message || ''));
    button.disabled = false;
  });
}

$('check').addEventListener('click', function () { check().catch(function () {}); });
$('deploy-form').addEventListener('submit', deploy);

function edited() {
  // anything edited since the last check may have fixed its errors: deploy (which checks again) is offered
  if (state.lastCheckErrors) { $('deploy').disabled = false; }
  unsaved.changed();
}

modeler.on('commandStack.changed', function (event) {
  if (event.trigger !== 'clear') { edited(); } // 'clear': a file was (re)opened, nothing edited
});

// -- unsaved changes: leaving the page asks first ------------------------------------------------------

/** Everything that would be deployed, BPMN as bpmn-js writes it (so an undone edit compares equal). */
function snapshot() {
  return collectFiles().then(function (files) {
    const bpmn = state.bpmn.map(function (f) {
      // bpmn-js leaves an empty <bpmndi:BPMNLabel/> behind when a rename is undone: no change to anyone
      return (f.edited || state.pristine[f.name] || f.content).replace(/\s*<bpmndi:BPMNLabel\s*\/>/g, '');
    });
    return JSON.stringify([bpmn, files.slice(state.bpmn.length)]);
  });
}

const unsaved = unsavedGuard({ root, confirmText: texts.leaveConfirm, snapshot });
const saved = () => unsaved.saved();

// -- after a deploy: the version the page shows is the new one ---------------------------------------

function showDeployedVersion(deployed) {
  const key = root.dataset.key;
  // a draft (submitted for approval) is this page's version too: the editor goes on from it
  const mine = deployed.filter(function (d) { return (d.status === 'deployed' || d.status === 'draft') && (key ? d.key === key : true); });
  if (!mine.length) { return; }
  const d = mine[0];
  const label = texts.versionN.replace('{version}', String(d.version));
  const badge = $('page-version');
  badge.textContent = label;
  badge.hidden = false;
  root.dataset.version = String(d.version);
  if (!key) { // a new diagram is a process now: the page becomes its version's page
    root.dataset.key = d.key;
    root.dataset.new = 'false';
    state.isNew = false;
    const name = processName();
    if (name) { $('page-title').textContent = name; }
  }
  document.title = $('page-title').textContent + ' · ' + label + ' · ' + texts.siteName;
  if (d.url && window.history && window.history.replaceState) { window.history.replaceState(null, '', d.url); }
}

function processName() {
  const definitions = modeler.getDefinitions();
  const process = (definitions && definitions.rootElements || []).filter(function (e) { return e.$type === 'bpmn:Process'; })[0];
  return process && process.name || null;
}

// -- loading -----------------------------------------------------------------------------------------------

function load() {
  return getJson(root.dataset.filesUrl)
    .then(function (data) {
      const files = data.files || [];
      const of = function (kind) { return files.filter(function (f) { return f.kind === kind; }); };
      state.bpmn = of('bpmn').map(function (f) { return { name: f.name, content: f.content, edited: null }; });
      const key = root.dataset.key;
      state.bpmn.sort(function (a, b) {
        return (b.name === key + '.bpmn') - (a.name === key + '.bpmn') || a.name.localeCompare(b.name);
      });
      const select = $('bpmn-file');
      state.bpmn.forEach(function (f) { select.appendChild(el('option', { value: f.name, text: f.name })); });
      $('bpmn-switch').hidden = state.bpmn.length < 2;
      select.addEventListener('change', function () { openBpmn(select.value); });

      formsTab.init({ files: of('form'), list: $('forms-list'), newForm: $('new-form'),
                      previewUrl: root.dataset.previewUrl, csrf: csrf, texts: texts });
      formsTab.onChange(function () { renderFormKeys(); edited(); });
      renderFormKeys();
      dmnTab.init({ files: of('dmn'), container: $('dmn-canvas'), select: $('dmn-file'),
                    empty: $('dmn-empty') });
      dmnTab.onChange(edited);
      dmnTab.onEdit(edited);
      $('dmn-count').textContent = String(dmnTab.count());
      return state.bpmn.length ? openBpmn(state.bpmn[0].name) : null;
    })
    .then(saved)
    .then(function () {
      status('');
      root.dataset.ready = 'true';
    })
    .catch(function (err) {
      status(texts.loadFailed + ' ' + messageOf(err), 'bad');
      root.dataset.ready = 'failed';
    });
}

const ready = load();
window.salesflowPage = { ready: ready, check: check, collectFiles: collectFiles, showTab: showTab,
                         openBpmn: openBpmn, processId: processId };
