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

/** What `quietSdkClient` needs of a client besides its constructor: the SDK's middleware stack. */
interface SdkClient {
  middlewareStack: { remove(name: string): boolean };
}

/**
 * Builds an SDK client with `sdkLogger`, and without the SDK's `loggerMiddleware`: that middleware
 * copies every input and output through the operation's sensitive-data filter to hand the copies
 * to the logger's `info`, although `sdkLogger` drops them (the handlers log through Powertools).
 * For a model call the copies are the request text and the model's answer. Measured (npm run
 * bench, the escalated cycle's CPU profile): the filter was the SDK's costliest function. Every
 * SDK client the Lambdas build is built here.
 */
export function quietSdkClient<C extends SdkClient, Config extends object>(
  Client: new (...config: [] | [Config]) => C,
  config: NoInfer<Omit<Config, 'logger'>>,
): C {
  const client = new Client({ ...config, logger: sdkLogger } as Config);
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
