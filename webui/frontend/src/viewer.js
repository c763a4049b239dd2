// Read-only BPMN viewer for the instance page: draws the diagram and marks what ran and what waits.
// Imported by the instance and history pages (pages/instance.js, pages/history.js).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

export const MARKERS = {
  completed: 'highlight-completed',
  active: 'highlight-active',
  taken: 'highlight-taken',
  current: 'highlight-current'
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
 * Replace the markers of a drawn diagram with those of `state` (the history page moves through
 * the steps of an instance on one viewer, so earlier markers are cleared first).
 * @param viewer a viewer from renderDiagram
 * @param {{completed?: string[], active?: string[], current?: string[]}} state element ids;
 *   `current`: the elements of the step being looked at
 * @returns {{missing: string[], taken: string[]}}
 */
export function showState(viewer, state = {}) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const el of registry.getAll()) {
    for (const marker of Object.values(MARKERS)) {
      canvas.removeMarker(el.id, marker);
    }
  }
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
  mark(state.current || [], MARKERS.current);
  const taken = takenFlows(registry, completed, active).map((flow) => flow.id);
  mark(taken, MARKERS.taken);
  return { missing, taken };
}

/**
 * Render `xml` into `container` and highlight the instance's state.
 * @param {HTMLElement} container
 * @param {string} xml BPMN 2.0 XML
 * @param {{completed?: string[], active?: string[], current?: string[]}} state element ids
 * @returns {Promise<{viewer, warnings: Array, missing: string[], taken: string[]}>}
 *   `missing` lists ids that are not in the diagram; nothing throws for them.
 */
export async function renderDiagram(container, xml, state = {}) {
  const viewer = new NavigatedViewer({ container });
  const { warnings } = await viewer.importXML(xml);
  const { missing, taken } = showState(viewer, state);
  viewer.get('canvas').zoom('fit-viewport');
  container.dataset.rendered = 'true';
  return { viewer, warnings, missing, taken };
}
