// One esbuild run for every page script: ES modules, split so that code two entries share (bpmn-js core,
// diagram-js, the i18n helpers) is one chunk the browser loads and caches once, not a copy per bundle.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const pages = readdirSync(join(src, 'pages')).filter((name) => name.endsWith('.js'));
const outdir = join(root, '..', 'static', 'dist', 'js');

rmSync(outdir, { recursive: true, force: true }); // chunk names change with their content: no stale ones

await build({
  absWorkingDir: root,
  // one entry per page (templates load dist/js/pages/<page>.js), and the three diagram libraries on their
  // own: the browser tests import them without a page around them
  entryPoints: [...pages.map((name) => join(src, 'pages', name)),
    join(src, 'modeler.js'), join(src, 'viewer.js'), join(src, 'dmn.js')],
  outbase: src,
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  splitting: true,
  bundle: true,
  minify: true,
  sourcemap: true,
  target: 'es2020',
  logLevel: 'warning'
});
console.log(`bundled ${pages.length} pages into ../static/dist/js`);
