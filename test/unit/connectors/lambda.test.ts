import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sdkInvokeFunction } from '../../../lambdas/shared/adapters/aws/connectors';
import { Connectors, ConnectorsConfig, FactsEvent } from '../../../lambdas/shared/connectors';
import { ConnectorFailed } from '../../../lambdas/shared/errors';
import type { RecordTable } from '../../../lambdas/shared/ports';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

/**
 * A local server speaking the Lambda Invoke REST API (POST /2015-03-31/functions/{name}/invocations),
 * found by the SDK through AWS_ENDPOINT_URL_LAMBDA, as in local mode.
 */
const invocations: { functionName: string; invocationType: string | undefined; event: unknown }[] = [];
let server: Server;
const saved = { ...process.env };

const REPLIES: Record<string, (event: { fields: Record<string, unknown> }) => { status?: number; functionError?: string; body: unknown }> = {
  facts: () => ({ body: { order: { orderId: 'O-1', customerId: 'C-1', total: 100, currency: 'USD', refundedTotal: 0 } } }),
  effect: (event) => ({ body: { refundId: 'RF-ERP-9', orderId: 'O-1', customerId: 'C-1', amount: event.fields.amount, currency: 'USD', refundedTotalAfter: 20 } }),
  refuses: () => ({ body: { error: { code: 'order_locked', message: 'Order O-1 is locked by finance (private detail)' } } }),
  crashes: () => ({ functionError: 'Unhandled', body: { errorType: 'TypeError', errorMessage: 'x is undefined' } }),
  malformed: () => ({ body: { refundId: 7 } }),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return void res.writeHead(404).end();
      const functionName = decodeURIComponent(match[1]);
      const event = JSON.parse(body) as { fields: Record<string, unknown> };
      invocations.push({ functionName, invocationType: req.headers['x-amz-invocation-type'] as string | undefined, event });
      const reply = REPLIES[functionName.split(':').pop() as string](event);
      res.writeHead(200, { 'content-type': 'application/json', ...(reply.functionError ? { 'x-amz-function-error': reply.functionError } : {}) });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});

afterAll(async () => {
  process.env = saved;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => (invocations.length = 0));

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const proposal: Proposal = { action: 'refund', fields: { customerId: 'C-1', orderId: 'O-1', amount: 20, reason: 'damaged' } };
const noRecords = {} as RecordTable;

function connectors(facts: string, effect: string) {
  const config = ConnectorsConfig.parse({ refund: { facts: { type: 'lambda', functionArn: arn(facts) }, effect: { type: 'lambda', functionArn: arn(effect) } } });
  return new Connectors(config, { invoke: sdkInvokeFunction() });
}
const apply = (c: Connectors) => c.effect({ requestId: 'req-9', at: '2026-06-01T12:00:00.000Z', approvedBy: 'lead-1', records: noRecords })(proposal);

describe('lambda connector', () => {
  it('invokes the configured function (RequestResponse) with warden.facts.v1 and returns its facts', async () => {
    const facts = await connectors('facts', 'effect').readFacts({ requestId: 'req-9', proposal, records: noRecords });
    expect(facts).toEqual({ order: { orderId: 'O-1', customerId: 'C-1', total: 100, currency: 'USD', refundedTotal: 0 } });
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatchObject({ functionName: arn('facts'), invocationType: 'RequestResponse' });
    expect(FactsEvent.parse(invocations[0].event)).toMatchObject({ type: 'warden.facts.v1', idempotencyKey: 'req-9.facts', action: 'refund' });
  });

  it('applies the effect with warden.effect.v1 and returns the receipt', async () => {
    await expect(apply(connectors('facts', 'effect'))).resolves.toEqual({
      refundId: 'RF-ERP-9',
      orderId: 'O-1',
      customerId: 'C-1',
      amount: 20,
      currency: 'USD',
      refundedTotalAfter: 20,
    });
    expect(invocations[0].event).toMatchObject({ type: 'warden.effect.v1', idempotencyKey: 'req-9.effect', approvedBy: 'lead-1' });
  });

  it("turns the function's typed error into ConnectorFailed with its code, not its message", async () => {
    const error = (await apply(connectors('facts', 'refuses')).catch((e: unknown) => e)) as ConnectorFailed;
    expect(error).toBeInstanceOf(ConnectorFailed);
    expect(error.message).toBe('[refund effect lambda: remote_error] the function refused: order_locked');
  });

  it('an unhandled function error and a malformed receipt are ConnectorFailed, each invoked once', async () => {
    await expect(apply(connectors('facts', 'crashes'))).rejects.toThrow('[refund effect lambda: function_error] the function failed (unhandled error)');
    await expect(apply(connectors('facts', 'malformed'))).rejects.toThrow(/^\[refund effect lambda: invalid_response\] the receipt does not match/);
    expect(invocations).toHaveLength(2);
  });
});
