#!/usr/bin/env node
// Run by WardenFunction's afterBundling hook (lib/constructs/functions.ts):
//   node optional-sdk.cjs <projectRoot> <outputDir> <esbuildTarget> <package>=<file>...
// For each optional SDK package the bundle leaves out and still names (it loads it on first use,
// lambdas/shared/adapters/aws/optional-sdk.ts), writes the package as a bundle of its own to
// <outputDir>/<file> (optionalSdkFile), built as the function's bundle is (CommonJS, minified, class names kept).
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
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: projectRoot, loader: 'js', sourcefile: `${name}.js` },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target,
    minify: true,
    keepNames: true,
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'error',
  });
}
