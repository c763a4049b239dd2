// Modeler page, DMN tab: the version's DMN files in dmn-js, one file at a time. A file never opened, or
// opened and left as it was, goes back to the server unchanged. dmn-js (about a third of the page's
// script) is imported when the tab first shows a file, so the BPMN tab does not wait for it.
// The page script (pages/model-editor.js) drives it through `dmnTab`.
import { el } from '../page-kit/dom.js';

const state = { files: [], current: null, modeler: null, loading: null, container: null, select: null, empty: null,
                pristine: {}, listeners: [], editListeners: [], opening: Promise.resolve() };

function find(name) {
  return state.files.find((f) => f.name === name) || null;
}

function openTable(modeler) {
  const table = modeler.getViews().find((v) => v.type === 'decisionTable');
  const active = modeler.getActiveView();
  if (table && (!active || active.type === 'drd')) { return modeler.open(table); }
  return Promise.resolve();
}

function ensureModeler() {
  if (!state.loading) {
    state.loading = import('../dmn.js').then(({ createDmnModeler }) => {
      state.modeler = createDmnModeler({ container: state.container });
      state.modeler.on('views.changed', () => { watchEdits(); changed(); });
      return state.modeler;
    });
  }
  return state.loading;
}

function changed() {
  state.listeners.forEach((fn) => fn());
}

// an edit in whichever view is open (DRD, decision table): the page's unsaved-changes guard hears it
function watchEdits() {
  const viewer = state.modeler.getActiveViewer();
  if (!viewer || viewer.salesflowWatched) { return; }
  viewer.salesflowWatched = true;
  viewer.on('commandStack.changed', (event) => {
    if (event.trigger !== 'clear') { state.editListeners.forEach((fn) => fn()); }
  });
}

/** The XML of the open file as dmn-js would save it now. */
function saveCurrent() {
  if (!state.modeler || !state.current) { return Promise.resolve(); }
  const file = find(state.current);
  return state.modeler.saveXML({ format: true }).then((result) => { file.edited = result.xml; });
}

async function load(name, file) {
  const modeler = await ensureModeler();
  state.current = name;
  state.select.value = name;
  await modeler.importXML(file.edited || file.content);
  await openTable(modeler);
  if (!(name in state.pristine)) {
    state.pristine[name] = (await modeler.saveXML({ format: true })).xml;
  }
  state.container.dataset.file = name;
  state.container.dataset.ready = 'true';
}

function open(name) {
  const file = find(name);
  if (!file) { return Promise.reject(new Error(`no DMN file ${name}`)); }
  state.opening = state.opening.then(saveCurrent).then(() => load(name, file));
  return state.opening;
}

export const dmnTab = {
  init(options) {
    state.files = (options.files || []).map((f) => ({ name: f.name, content: f.content, edited: null }));
    state.container = options.container;
    state.select = options.select;
    state.empty = options.empty;
    state.select.replaceChildren(...state.files.map((f) => el('option', { value: f.name, text: f.name })));
    state.select.closest('.file-switch').hidden = state.files.length < 2;
    state.empty.hidden = state.files.length > 0;
    state.select.addEventListener('change', () => open(state.select.value));
  },
  /** Called when the tab becomes visible: dmn-js draws into a visible container. */
  show() {
    if (!state.files.length) { return Promise.resolve(); }
    if (state.current) { return state.opening; }
    return open(state.files[0].name);
  },
  open,
  /** Every DMN file: the edited XML when it differs from what the file imported as, else the original. */
  files() {
    return state.opening.then(saveCurrent).then(() => state.files.map((f) => {
      const edited = f.edited && f.edited !== state.pristine[f.name];
      return { name: f.name, kind: 'dmn', content: edited ? f.edited : f.content };
    }));
  },
  names() { return state.files.map((f) => f.name); },
  count() { return state.files.length; },
  get modeler() { return state.modeler; },
  onChange(fn) { state.listeners.push(fn); },
  onEdit(fn) { state.editListeners.push(fn); }
};
