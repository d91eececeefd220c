/**
 * What crosses between the local stack and the thread its Lambda handlers run on
 * (local/functions.ts ↔ local/functions-host.ts). Payloads and results cross as JSON text, as
 * they cross the Lambda service: what a handler returns is what the next state would see in AWS.
 */

import type { FunctionName } from '../lib/function-names';

export { FUNCTION_NAMES, type FunctionName } from '../lib/function-names';

/** The module a function's handler is in (relative to local/): where the CDK construct bundles it from, `lambdas/<name>/handler.ts`. */
export const handlerModule = (name: FunctionName): string => `../lambdas/${name}/handler`;

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own JSON fields (`code`, `status`, …), as a Lambda's error payload keeps them. */
  fields: Record<string, unknown>;
}

export type HostMessage =
  | { kind: 'env'; env: Record<string, string> }
  /** For the instrument module (`FunctionsWorkerOptions.instrument`), as it is. */
  | { kind: 'instrument'; message: unknown }
  /** The local Step Functions' answer to one of the handlers' SDK calls (`SfnCall`). */
  | { kind: 'sfn'; id: number; status: number; body: string }
  | {
      kind: 'invoke';
      id: number;
      name: FunctionName;
      payload: string | undefined;
      /** The engine's Lambda context (its deadline as an epoch time); none from the HTTP API, as in-process. */
      context?: { functionName: string; awsRequestId: string; invokedFunctionArn: string; deadline: number };
    };

export type HostReply =
  | { ready: true }
  | { failed: SerializedError }
  /** From the instrument module, as it is. */
  | { instrument: unknown }
  /** A Step Functions call of the handlers' SDK client, for the local engine. */
  | { sfn: SfnCall }
  | { id: number; result: string | undefined }
  | { id: number; error: SerializedError };

/**
 * One call of the handlers' Step Functions client, as its HTTP request would carry it (the
 * operation in `X-Amz-Target`, the JSON body): the SDK serialises and signs it, and parses the
 * answer, as it does over HTTP; only the transport is the thread's port instead of a loopback
 * connection (why: local/functions-host.ts).
 */
export interface SfnCall {
  id: number;
  target: string;
  body: string;
}

/**
 * A module the worker loads after the handlers, to watch them from inside their thread (the
 * bench's I/O recorder does: the SDK clients it watches are the handlers'). It is given a way to
 * post to the stack's side and returns what takes the stack's messages.
 */
export interface InstrumentModule {
  instrument(post: (message: unknown) => void): (message: unknown) => void;
}
