/* eslint-disable @typescript-eslint/no-require-imports */
import { lazy } from '../../../lazy';
import { fileBesideBundle, missingBesideBundle } from '../optional-sdk';

/**
 * The SDK packages the AWS adapters use, each loaded on first use: esbuild bundles a `require()`
 * as a module evaluated when it is called, so importing a handler evaluates no client package and
 * its first store call loads only the ones it needs. (A bench floor still counts them: it follows
 * `require()` as the handler's own.) Adapters import their commands from here; `new` on one builds
 * the package's own command.
 */

export const dynamodbSdk = /* @__PURE__ */ lazy(() => require('./dynamodb') as typeof import('./dynamodb'));
export const kmsSdk = /* @__PURE__ */ lazy(() => require('./kms') as typeof import('./kms'));
/**
 * Where a bundle that leaves the S3 module out keeps it, relative to `index.js`. The gateway and
 * the MCP handler touch S3 only to vault the PII of a submission that holds some, so their
 * bundles leave it out (S3_BESIDE_FUNCTIONS in lib/constructs/functions.ts) and a cold start does
 * not parse the S3 client; the construct builds this module as that file beside the bundle.
 */
export const S3_MODULE_FILE = 'sdk/s3.js';

/**
 * `process.env.WARDEN_S3_MODULE` is replaced when such a bundle is built (an esbuild define), and
 * the branch not taken is left out with what it requires; elsewhere it is read from the environment,
 * where nothing sets it.
 */
export const s3Sdk = /* @__PURE__ */ lazy(() =>
  process.env.WARDEN_S3_MODULE === 'beside' ? besideBundle<typeof import('./s3')>(S3_MODULE_FILE) : (require('./s3') as typeof import('./s3')),
);
export const sfnSdk = /* @__PURE__ */ lazy(() => require('./sfn') as typeof import('./sfn'));

/** A module the construct wrote beside the bundle; a bundle without it is a broken deployment, said so. */
function besideBundle<M>(file: string): M {
  const path = fileBesideBundle(file);
  if (!path) throw missingBesideBundle(file);
  return require(path) as M;
}

/** A class whose package is loaded when the first instance is built; the instance is the package's own. */
function loadedOnNew<C extends new (...args: never[]) => object>(load: () => C): C {
  return function (...args: ConstructorParameters<C>) {
    return new (load())(...args);
  } as unknown as C;
}

export const GetCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().GetCommand);
export const BatchGetCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().BatchGetCommand);
export const PutCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().PutCommand);
export const UpdateCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().UpdateCommand);
export const DeleteCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().DeleteCommand);
export const QueryCommand = /* @__PURE__ */ loadedOnNew(() => dynamodbSdk().QueryCommand);
export const SignCommand = /* @__PURE__ */ loadedOnNew(() => kmsSdk().SignCommand);
export const GetPublicKeyCommand = /* @__PURE__ */ loadedOnNew(() => kmsSdk().GetPublicKeyCommand);
export const GetObjectCommand = /* @__PURE__ */ loadedOnNew(() => s3Sdk().GetObjectCommand);
export const PutObjectCommand = /* @__PURE__ */ loadedOnNew(() => s3Sdk().PutObjectCommand);
export const StartExecutionCommand = /* @__PURE__ */ loadedOnNew(() => sfnSdk().StartExecutionCommand);
export const SendTaskSuccessCommand = /* @__PURE__ */ loadedOnNew(() => sfnSdk().SendTaskSuccessCommand);
