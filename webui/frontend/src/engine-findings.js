// The engine's check (POST /model/lint) in bpmnlint's in-canvas overlays and its "N errors" button:
// the findings of the last check are merged into every lint run, so the button never says
// "No Issues" while the engine lists errors, and each finding sits on the element it names.
export const ENGINE_RULE = 'salesflow-engine';

function EngineFindings(linting, canvas, elementRegistry) {
  this._findings = [];
  const lint = linting.lint.bind(linting);
  linting.lint = () => lint().then((issues) => this._merge(issues || {}));
  this._linting = linting;
  this._canvas = canvas;
  this._registry = elementRegistry;
}

EngineFindings.$inject = ['linting', 'canvas', 'elementRegistry'];

/**
 * Replace the engine's findings shown in the canvas and lint again.
 * @param {Array<{id?: string, message: string, category: 'error'|'warn'}>} findings
 *   id: an element of this diagram; findings without one are shown on the diagram itself
 */
EngineFindings.prototype.set = function (findings) {
  this._findings = findings || [];
  if (this._findings.some((f) => f.category === 'error')) { this._linting.toggle(true); }
  this._linting.update();
};

EngineFindings.prototype.get = function () { return this._findings.slice(); };

EngineFindings.prototype._merge = function (issues) {
  if (!this._findings.length) { return issues; }
  const root = this._canvas.getRootElement();
  const reports = this._findings.map((f) => ({
    id: f.id && this._registry.get(f.id) ? f.id : root.id,
    message: f.message,
    category: f.category === 'warn' ? 'warn' : 'error'
  }));
  return { ...issues, [ENGINE_RULE]: reports };
};

export default {
  __init__: ['engineFindings'],
  engineFindings: ['type', EngineFindings]
};
