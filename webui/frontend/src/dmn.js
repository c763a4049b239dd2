// DMN modeler (decision tables) for process owners.
// Bundled as the global DmnModelerBundle (../static/dist/dmn.js).
import DmnModeler from 'dmn-js/lib/Modeler';

/**
 * @param {{container: HTMLElement}} options
 * @returns {DmnModeler}
 */
export function createDmnModeler({ container }) {
  return new DmnModeler({ container });
}
