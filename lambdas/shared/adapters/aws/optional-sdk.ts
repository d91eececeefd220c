/* eslint-disable @typescript-eslint/no-require-imports */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The SDK clients only some deployments' code paths load: a connector's Lambda and its secret, a
 * tier's model id in SSM. In a Lambda bundle each ships as a file of its own beside `index.js`
 * (`sdk/<client>.js`, written by lib/constructs/functions.ts, which leaves these packages out of
 * the bundle), so a cold start does not parse code the function may never run; the file is read
 * when the client is first wanted. Elsewhere (npm start, the tests) it is the package itself.
 *
 * Such a file carries its own copy of the SDK's core, which a path that uses it parses once more:
 * Bedrock, what most deployments' inference calls on its first request, stays in the bundle.
 */
export const OPTIONAL_SDK = ['@aws-sdk/client-lambda', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm'] as const;
export type OptionalSdk = (typeof OPTIONAL_SDK)[number];

/** Where a bundle keeps the package, relative to `index.js`. */
export function optionalSdkFile(name: OptionalSdk): string {
  return `sdk/${name.slice('@aws-sdk/'.length)}.js`;
}

/** A file the construct writes beside the bundle, if it is there (in a bundle, `__dirname` is the bundle's folder). */
export function fileBesideBundle(file: string): string | undefined {
  const path = join(__dirname, file);
  return existsSync(path) ? path : undefined;
}

/** What a Lambda without such a file says: a broken deployment, not a missing feature. */
export function missingBesideBundle(file: string): Error {
  return new Error(`${file} is missing beside the bundle (lib/constructs/functions.ts writes it)`);
}

const loaded = new Map<OptionalSdk, Promise<unknown>>();

/**
 * The package, from its file beside the bundle when there is one, else from `fromPackage` (its
 * `import()`); loaded once per process, so every caller gets the same module (a client and the
 * commands it sends come from one copy).
 */
export function loadOptionalSdk<M>(name: OptionalSdk, fromPackage: () => Promise<M>): Promise<M> {
  let module = loaded.get(name) as Promise<M> | undefined;
  if (!module) {
    const file = fileBesideBundle(optionalSdkFile(name));
    if (file) module = Promise.resolve(require(file) as M);
    // In Lambda the bundle leaves the package out: without its file the runtime's own SDK would answer instead.
    else if (process.env.AWS_LAMBDA_FUNCTION_NAME) module = Promise.reject(new Error(`${name}: ${missingBesideBundle(optionalSdkFile(name)).message}`));
    else module = fromPackage();
    loaded.set(name, module);
  }
  return module;
}
