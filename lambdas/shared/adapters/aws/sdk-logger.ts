import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** The SDK's logger interface, as every client's configuration takes it. */
type Logger = NonNullable<DynamoDBClientConfig['logger']>;

/**
 * The logger every SDK client here is built with. Without one the SDK sends its own warnings (a
 * socket pool at capacity, a request past its timeout, a response it could not read) to `console`,
 * but it recognises its default logger by class name, which a minified bundle does not keep: the
 * warnings would then go nowhere. This one says so explicitly: warnings to `console`, as before.
 * Nothing else: at debug and info the SDK logs each call, and at error the input of a call that
 * failed (a model call's input is the request text); a failed call reaches the handler as an
 * error, which it logs without either.
 */
export const sdkLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => console.warn(...content),
  error: () => undefined,
};
