// Instance page: fetch the instance's diagram state (<div id="diagram" data-diagram-url="...">) and draw
// it with the viewer, what ran and what waits marked.
import { renderDiagram } from '../viewer.js';
import { diagramFailed, messageOf } from '../page-kit/dom.js';
import { getJson } from '../page-kit/http.js';

function fail(container, message) {
  diagramFailed(container, message);
  console.warn(`instance diagram: ${message}`);
}

async function start(container) {
  const url = container.dataset.diagramUrl;
  if (!url) { fail(container, 'no data-diagram-url'); return; }
  try {
    const state = await getJson(url);
    const result = await renderDiagram(container, state.bpmn, {
      completed: state.completed || [],
      active: state.active || []
    });
    if (result.missing.length) { container.dataset.missing = result.missing.join(' '); }
  } catch (err) {
    fail(container, messageOf(err));
  }
}

const diagram = document.getElementById('diagram');
if (diagram) { start(diagram); }
