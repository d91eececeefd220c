#!/usr/bin/env node
// Run by WardenFunction's afterBundling hook (lib/constructs/functions.ts):
//   node optional-sdk.cjs <projectRoot> <outputDir> <esbuildTarget> <package>=<file>...
// For each SDK package the bundle leaves out and still names (an optional client it loads on first
// use, lambdas/shared/adapters/aws/optional-sdk.ts; a credential provider the SDK imports only
// without credentials in the environment), writes the package as a bundle of its own to
// <outputDir>/<file>, built as the function's bundle is (CommonJS, minified).
'use strict';
const { readFileSync, mkdirSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { buildSync } = require('esbuild');

const [projectRoot, outputDir, target, ...files] = process.argv.slice(2);
if (!projectRoot || !outputDir || !target || files.some((pair) => !pair.includes('='))) {
  console.error('usage: optional-sdk.cjs <projectRoot> <outputDir> <esbuildTarget> <package>=<file>...');
  process.exit(2);
}
const bundle = readFileSync(join(outputDir, 'index.js'), 'utf8');
for (const pair of files) {
  const [name, file] = pair.split('=');
  if (!bundle.includes(`"${name}"`)) continue;
  const outfile = join(outputDir, file);
  mkdirSync(dirname(outfile), { recursive: true });
  buildSync({
    // An ES module entry: esbuild then names its exports in the CommonJS output where Node's
    // import() finds them (the SDK imports the credential providers with import(), not require()).
    stdin: { contents: `export * from ${JSON.stringify(name)};`, resolveDir: projectRoot, loader: 'js', sourcefile: `${name}.js` },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target,
    minify: true,
    keepNames: false,
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'error',
  });
}
