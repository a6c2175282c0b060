// Bundles the report page into one minified script and one stylesheet (esbuild), which the CMake
// build embeds into the leakscope binary (core/html). Offline: it reads only node_modules, which
// `npm ci` filled from package-lock.json.
//   node build.mjs --outdir DIR      writes DIR/report.js and DIR/report.css
import {readFileSync, mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outdir = args[args.indexOf('--outdir') + 1];
if (args.indexOf('--outdir') < 0 || !outdir) {
  console.error('usage: node build.mjs --outdir DIR');
  process.exit(2);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`web/build.mjs: esbuild is missing (${err.message}); run scripts/setup, which runs npm ci in web/`);
  process.exit(1);
}

mkdirSync(outdir, {recursive: true});
await esbuild.build({
  absWorkingDir: here,
  entryPoints: {report: join(here, 'src/main.js')},
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});

// The bundle goes inside <script> and <style> elements: a closing tag in it would end them early.
for (const [file, tag] of [['report.js', '</script'], ['report.css', '</style']]) {
  const text = readFileSync(join(outdir, file), 'utf8');
  if (text.toLowerCase().includes(tag)) {
    console.error(`web/build.mjs: ${file} contains "${tag}", which would end the inline element`);
    process.exit(1);
  }
}
