// Copy the stylesheets (and their fonts) the bundles need from node_modules into ../static/dist/css.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '..', 'static', 'dist', 'css');
const from = (...parts) => join(root, 'node_modules', ...parts);

const copies = [
  // BPMN viewer and modeler
  [from('bpmn-js', 'dist', 'assets', 'diagram-js.css'), 'diagram-js.css'],
  [from('bpmn-js', 'dist', 'assets', 'bpmn-js.css'), 'bpmn-js.css'],
  [from('bpmn-js', 'dist', 'assets', 'bpmn-font'), 'bpmn-font'],
  [from('@bpmn-io', 'properties-panel', 'dist', 'assets', 'properties-panel.css'), 'properties-panel.css'],
  [from('bpmn-js-bpmnlint', 'dist', 'assets', 'css', 'bpmn-js-bpmnlint.css'), 'bpmn-js-bpmnlint.css'],
  [join(root, 'src', 'bpmn-app.css'), 'bpmn-app.css'],
  // DMN: dmn-js ships its own diagram-js.css (different from bpmn-js's), so it gets its own folder
  [from('dmn-js', 'dist', 'assets'), 'dmn']
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [src, dest] of copies) {
  cpSync(src, join(out, dest), { recursive: true });
}
console.log(`copied ${copies.length} stylesheets/folders to ${out}`);

// Swagger UI for the API's docs page (/api/v1/docs): the prebuilt bundle and stylesheet swagger-ui-dist
// ships, with its licence, into ../static/dist/swagger-ui (webui/templates/pages/api_docs.html loads them).
const apiDocs = join(root, '..', 'static', 'dist', 'swagger-ui');
const apiDocsFiles = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];
rmSync(apiDocs, { recursive: true, force: true });
mkdirSync(apiDocs, { recursive: true });
for (const name of apiDocsFiles) {
  cpSync(from('swagger-ui-dist', name), join(apiDocs, name));
}
console.log(`copied Swagger UI (${apiDocsFiles.length} files) to ${apiDocs}`);
