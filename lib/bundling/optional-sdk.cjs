#!/usr/bin/env node
// Run by WardenFunction's afterBundling hook (lib/constructs/functions.ts):
//   node optional-sdk.cjs <projectRoot> <outputDir> <esbuildTarget> <package or ./module>=<file>...
// For each SDK package the bundle leaves out and still names, writes the package as a bundle of
// its own to <outputDir>/<file>, built as the function's bundle is (CommonJS, minified):
// - an optional client it loads on first use (lambdas/shared/adapters/aws/optional-sdk.ts), as
//   sdk/<client>.js;
// - a credential provider the SDK imports only without credentials in the environment, or the SSO
//   OIDC client a token provider imports only for an SSO profile, as node_modules/<name>/index.js,
//   where Node finds it from the bundle and from sdk/ alike (a subpath, such as
//   `@aws-sdk/nested-clients/sso-oidc`, with a package.json that maps it). The clients' files leave
//   these out too, so one is written when the bundle or one of those files names it;
// - a module of the project's own the bundle leaves out (`./<path>`, relative to the project root),
//   such as the adapters' S3 module as sdk/s3.js: always written, the bundle names it by its file.
'use strict';
const { existsSync, readFileSync, mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { buildSync } = require('esbuild');

const [projectRoot, outputDir, target, ...pairs] = process.argv.slice(2);
if (!projectRoot || !outputDir || !target || pairs.some((pair) => !pair.includes('='))) {
  console.error('usage: optional-sdk.cjs <projectRoot> <outputDir> <esbuildTarget> <package or ./module>=<file>...');
  process.exit(2);
}
const packages = pairs.map((pair) => {
  const [name, file] = pair.split('=');
  return { name, file, asPackage: file.startsWith('node_modules/'), own: name.startsWith('./') };
});
const shared = packages.filter((p) => p.asPackage).map((p) => p.name);
// What names the packages: the bundle, then each file written here.
const written = [readFileSync(join(outputDir, 'index.js'), 'utf8')];
// The clients first: a provider is wanted if they name it too.
for (const { name, file, asPackage, own } of [...packages.filter((p) => !p.asPackage), ...packages.filter((p) => p.asPackage)]) {
  if (!own && !written.some((code) => code.includes(`"${name}"`))) continue;
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
    // A client's file leaves the shared packages out, as the bundle does; a package its own.
    external: asPackage ? [] : shared,
    outfile,
    logLevel: 'error',
  });
  written.push(readFileSync(outfile, 'utf8'));
  // A package's subpath (`@aws-sdk/nested-clients/sso-oidc`) is imported with import(), which
  // resolves a subpath only through the package's exports: its package.json names the file.
  const subpath = asPackage ? /^(@[^/]+\/[^/]+|[^@/][^/]*)\/(.+)$/.exec(name) : null;
  if (subpath) {
    const manifest = join(outputDir, 'node_modules', subpath[1], 'package.json');
    const exports = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).exports : {};
    exports[`./${subpath[2]}`] = `./${subpath[2]}/index.js`;
    writeFileSync(manifest, `${JSON.stringify({ name: subpath[1], private: true, exports }, null, 2)}\n`);
  }
}
