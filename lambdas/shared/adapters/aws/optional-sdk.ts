/* eslint-disable @typescript-eslint/no-require-imports */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The SDK clients only some code paths load: a connector's Lambda and its secret, a tier's model
 * id in SSM, Bedrock. In a Lambda bundle each ships as a file of its own beside `index.js`
 * (`sdk/<client>.js`, written by lib/constructs/functions.ts, which leaves these packages out of
 * the bundle), so a cold start does not parse code the function may never run; the file is read
 * when the client is first wanted. Elsewhere (npm start, the tests) it is the package itself.
 */
export const OPTIONAL_SDK = ['@aws-sdk/client-bedrock-runtime', '@aws-sdk/client-lambda', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm'] as const;
export type OptionalSdk = (typeof OPTIONAL_SDK)[number];

/** Where a bundle keeps the package, relative to `index.js`. */
export function optionalSdkFile(name: OptionalSdk): string {
  return `sdk/${name.slice('@aws-sdk/'.length)}.js`;
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
    const file = join(__dirname, optionalSdkFile(name));
    module = existsSync(file) ? Promise.resolve(require(file) as M) : fromPackage();
    loaded.set(name, module);
  }
  return module;
}
