// Read-only BPMN viewer for the instance page: draws the diagram and marks what ran and what waits.
// Bundled as the global BpmnViewerBundle (../static/dist/viewer.js).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

export const MARKERS = {
  completed: 'highlight-completed',
  active: 'highlight-active',
  taken: 'highlight-taken'
};

/**
 * Sequence flows that were taken: the source ran and the target ran or waits now.
 * (A flow to a branch that never ran has a target in neither list, so it stays unmarked.)
 */
function takenFlows(registry, completed, active) {
  return registry.filter((el) => el.type === 'bpmn:SequenceFlow'
    && el.source && completed.has(el.source.id)
    && el.target && (completed.has(el.target.id) || active.has(el.target.id)));
}

/**
 * Render `xml` into `container` and highlight the instance's state.
 * @param {HTMLElement} container
 * @param {string} xml BPMN 2.0 XML
 * @param {{completed?: string[], active?: string[]}} state element ids
 * @returns {Promise<{viewer, warnings: Array, missing: string[], taken: string[]}>}
 *   `missing` lists ids that are not in the diagram; nothing throws for them.
 */
export async function renderDiagram(container, xml, state = {}) {
  const viewer = new NavigatedViewer({ container });
  const { warnings } = await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const completed = new Set(state.completed || []);
  const active = new Set(state.active || []);
  const missing = [];

  const mark = (ids, marker) => {
    for (const id of ids) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      } else {
        missing.push(id);
      }
    }
  };
  mark(completed, MARKERS.completed);
  mark(active, MARKERS.active);
  const taken = takenFlows(registry, completed, active).map((flow) => flow.id);
  mark(taken, MARKERS.taken);

  canvas.zoom('fit-viewport');
  container.dataset.rendered = 'true';
  return { viewer, warnings, missing, taken };
}
