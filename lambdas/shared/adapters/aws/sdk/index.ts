/* eslint-disable @typescript-eslint/no-require-imports */
import { lazy } from '../../../lazy';

/**
 * The SDK packages the AWS adapters use, each loaded on first use: esbuild bundles a `require()`
 * as a module evaluated when it is called, so importing a handler evaluates no client package and
 * its first store call loads only the ones it needs. (A bench floor still counts them: it follows
 * `require()` as the handler's own.) Adapters import their commands from here; `new` on one builds
 * the package's own command.
 */

export const dynamodbSdk = /* @__PURE__ */ lazy(() => require('./dynamodb') as typeof import('./dynamodb'));
export const kmsSdk = /* @__PURE__ */ lazy(() => require('./kms') as typeof import('./kms'));
export const s3Sdk = /* @__PURE__ */ lazy(() => require('./s3') as typeof import('./s3'));
export const sfnSdk = /* @__PURE__ */ lazy(() => require('./sfn') as typeof import('./sfn'));

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
