import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A CloudFormation endpoint on 127.0.0.1 that answers DescribeStacks the way the service does
 * (query protocol: a form-encoded POST in, XML out), from a table of stacks. A stack listed as
 * 'access-denied' gets the 403 an IAM refusal gives; an unlisted one the "does not exist" 400.
 */

export type FakeStack = { outputs: Record<string, string> } | 'access-denied';

export interface FakeCloudFormation {
  endpoint: string;
  /** The StackName of every DescribeStacks received, in order. */
  requests: string[];
  stop(): Promise<void>;
}

const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function errorBody(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`;
}

function stackBody(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(([key, value]) => `<member><OutputKey>${xmlEscape(key)}</OutputKey><OutputValue>${xmlEscape(value)}</OutputValue></member>`)
    .join('');
  return (
    `<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks><member>` +
    `<StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xmlEscape(name)}/00000000-0000-0000-0000-000000000000</StackId>` +
    `<StackName>${xmlEscape(name)}</StackName><CreationTime>2026-06-01T12:00:00.000Z</CreationTime>` +
    `<StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
    `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></DescribeStacksResponse>`
  );
}

export async function startFakeCloudFormation(stacks: Record<string, FakeStack>): Promise<FakeCloudFormation> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(xml);
      };
      if (req.method !== 'POST' || form.get('Action') !== 'DescribeStacks' || form.get('Version') !== '2010-05-15') {
        return reply(400, errorBody('InvalidAction', `not DescribeStacks: ${req.method} ${form.get('Action')}`));
      }
      const name = form.get('StackName') ?? '';
      requests.push(name);
      const stack = Object.prototype.hasOwnProperty.call(stacks, name) ? stacks[name] : undefined;
      if (stack === undefined) return reply(400, errorBody('ValidationError', `Stack with id ${name} does not exist`));
      if (stack === 'access-denied') {
        return reply(
          403,
          errorBody('AccessDenied', `User: arn:aws:iam::123456789012:user/tester is not authorized to perform: cloudformation:DescribeStacks on resource: ${name}`),
        );
      }
      return reply(200, stackBody(name, stack.outputs));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
