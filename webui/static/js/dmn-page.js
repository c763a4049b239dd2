// Modeler page, DMN tab: the version's DMN files in dmn-js (the DmnModelerBundle of static/dist/dmn.js),
// one file at a time. A file never opened, or opened and left as it was, goes back to the server unchanged.
// Used by modeler-page.js through window.SalesflowDmn.
(function () {
  'use strict';

  var state = { files: [], current: null, modeler: null, container: null, select: null, empty: null,
                pristine: {}, listeners: [], editListeners: [], opening: Promise.resolve() };

  function find(name) {
    return state.files.filter(function (f) { return f.name === name; })[0] || null;
  }

  function openTable(modeler) {
    var table = modeler.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
    var active = modeler.getActiveView();
    if (table && (!active || active.type === 'drd')) { return modeler.open(table); }
    return Promise.resolve();
  }

  function ensureModeler() {
    if (!state.modeler) {
      state.modeler = window.DmnModelerBundle.createDmnModeler({ container: state.container });
      state.modeler.on('views.changed', function () { watchEdits(); changed(); });
    }
    return state.modeler;
  }

  function changed() {
    state.listeners.forEach(function (fn) { fn(); });
  }

  // an edit in whichever view is open (DRD, decision table): the page's unsaved-changes guard hears it
  function watchEdits() {
    var viewer = state.modeler.getActiveViewer();
    if (!viewer || viewer.salesflowWatched) { return; }
    viewer.salesflowWatched = true;
    viewer.on('commandStack.changed', function (event) {
      if (event.trigger !== 'clear') { state.editListeners.forEach(function (fn) { fn(); }); }
    });
  }

  /** The XML of the open file as dmn-js would save it now. */
  function saveCurrent() {
    if (!state.modeler || !state.current) { return Promise.resolve(); }
    var file = find(state.current);
    return state.modeler.saveXML({ format: true }).then(function (result) {
      file.edited = result.xml;
    });
  }

  function open(name) {
    var file = find(name);
    if (!file) { return Promise.reject(new Error('no DMN file ' + name)); }
    state.opening = state.opening.then(saveCurrent).then(function () {
      var modeler = ensureModeler();
      state.current = name;
      state.select.value = name;
      return modeler.importXML(file.edited || file.content).then(function () {
        return openTable(modeler);
      }).then(function () {
        if (!(name in state.pristine)) {
          return modeler.saveXML({ format: true }).then(function (result) { state.pristine[name] = result.xml; });
        }
      }).then(function () {
        state.container.dataset.file = name;
        state.container.dataset.ready = 'true';
      });
    });
    return state.opening;
  }

  window.SalesflowDmn = {
    init: function (options) {
      state.files = (options.files || []).map(function (f) { return { name: f.name, content: f.content, edited: null }; });
      state.container = options.container;
      state.select = options.select;
      state.empty = options.empty;
      state.select.replaceChildren();
      state.files.forEach(function (f) {
        var option = document.createElement('option');
        option.value = f.name;
        option.textContent = f.name;
        state.select.appendChild(option);
      });
      state.select.closest('.file-switch').hidden = state.files.length < 2;
      state.empty.hidden = state.files.length > 0;
      state.select.addEventListener('change', function () { open(state.select.value); });
    },
    /** Called when the tab becomes visible: dmn-js draws into a visible container. */
    show: function () {
      if (!state.files.length) { return Promise.resolve(); }
      if (state.current) { return state.opening; }
      return open(state.files[0].name);
    },
    open: open,
    /** Every DMN file: the edited XML when it differs from what the file imported as, else the original. */
    files: function () {
      return state.opening.then(saveCurrent).then(function () {
        return state.files.map(function (f) {
          var edited = f.edited && f.edited !== state.pristine[f.name];
          return { name: f.name, kind: 'dmn', content: edited ? f.edited : f.content };
        });
      });
    },
    names: function () { return state.files.map(function (f) { return f.name; }); },
    count: function () { return state.files.length; },
    get modeler() { return state.modeler; },
    onChange: function (fn) { state.listeners.push(fn); },
    onEdit: function (fn) { state.editListeners.push(fn); }
  };
})();
