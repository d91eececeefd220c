import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'node:child_process';
import { seedItems } from '../../lambdas/shared/adapters/aws/seed';
import { recordKeys } from '../../lambdas/shared/adapters/aws/systemOfRecord';
import { STACK_OUTPUTS } from '../../lib/outputs';
import { startFakeCloudFormation, type FakeCloudFormation } from '../support/cloudformation';
import { PROJECT_ROOT } from '../infra/synth';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';
import { createRecordsTable, scanTable, useEmulatedStores } from '../support/stores';

/**
 * `npm run seed` run as a user runs it, in a child process, against dynalite and a local
 * CloudFormation endpoint: what it prints, what it stores, how it exits.
 */

jest.setTimeout(120_000);

const stores = useEmulatedStores();
let cloudFormation: FakeCloudFormation;
const STACK_TABLE = 'Warden-DataSystemOfRecord-ABC123';

beforeAll(async () => {
  cloudFormation = await startFakeCloudFormation({
    Warden: { outputs: { ApiUrl: 'https://api.example.com/', [STACK_OUTPUTS.recordsTable]: STACK_TABLE } },
    Older: { outputs: { ApiUrl: 'https://api.example.com/' } },
    Locked: 'access-denied',
  });
  await emptyTable(STACK_TABLE);
});

afterAll(async () => {
  await cloudFormation?.stop();
});

function emptyTable(name: string): Promise<string> {
  return createRecordsTable(stores(), name);
}

function scan(tableName: string) {
  return scanTable(stores(), tableName);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user with credentials for the account (here: the emulators), and nothing else of AWS. */
function userEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  Object.assign(env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: stores().emulators.endpoints.dynamodb,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
  });
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function seed(args: string[], env: NodeJS.ProcessEnv = userEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'seed', '--', ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line.length > 0);
const N = seedItems().length;

describe('npm run seed against a stack', () => {
  it('loads the example records into the table the stack output names; a second run writes nothing', async () => {
    const first = await seed([]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = lines(first.stdout);
    expect(out[0]).toBe(`Table ${STACK_TABLE} (output ${STACK_OUTPUTS.recordsTable} of stack Warden) in ${LOCAL_REGION}`);
    expect(out.filter((line) => /^ {2}written {6}/.test(line))).toHaveLength(N);
    expect(out).toContain('  written      VENDOR#alpha tech systems');
    expect(out.at(-1)).toBe(`${N} written, 0 already present, 0 differing`);
    const stored = await scan(STACK_TABLE);
    expect(stored).toHaveLength(N);
    expect(stored).toEqual(expect.arrayContaining(seedItems()));

    const second = await seed(['--stack', 'Warden', '--region', LOCAL_REGION]);
    expect(second.code).toBe(0);
    expect(lines(second.stdout).filter((line) => line.startsWith('  present      '))).toHaveLength(N);
    expect(lines(second.stdout).at(-1)).toBe(`0 written, ${N} already present, 0 differing`);
    expect(await scan(STACK_TABLE)).toEqual(stored);
    expect(cloudFormation.requests).toEqual(['Warden', 'Warden']);
  });
});

describe('npm run seed --table', () => {
  it('--dry-run prints what it would write and writes nothing; a changed record is reported and never overwritten', async () => {
    const table = await emptyTable('seed-command-table');
    const lookups = cloudFormation.requests.length;

    const dry = await seed(['--table', table, '--dry-run']);
    expect(dry.code).toBe(0);
    const dryOut = lines(dry.stdout);
    expect(dryOut[0]).toBe(`Dry run, nothing is written: table ${table} in ${LOCAL_REGION}`);
    expect(dryOut).toContain('  would write  CUSTOMER#C-1001 {"customerId":"C-1001","tier":"basic"}');
    expect(dryOut).toContain('  would write  ORDER#O-5002 {"orderId":"O-5002","customerId":"C-1003","total":2400,"currency":"USD","refundedTotal":0}');
    expect(dryOut.at(-1)).toBe(`${N} would be written, 0 already present, 0 differing`);
    expect(await scan(table)).toEqual([]);

    expect((await seed(['--table', table])).code).toBe(0);
    const key = recordKeys.customer('C-1002');
    await stores().doc.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET tier = :t', ExpressionAttributeValues: { ':t': 'premium' } }),
    );

    const again = await seed(['--table', table]);
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toContain('  differing    CUSTOMER#C-1002: tier changed since; left as it is');
    expect(lines(again.stdout).at(-1)).toBe(`0 written, ${N - 1} already present, 1 differing`);
    const { Item } = await stores().doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Item).toEqual({ ...key, customerId: 'C-1002', tier: 'premium' });

    const dryAgain = await seed(['--table', table, '--dry-run']);
    expect(lines(dryAgain.stdout).at(-1)).toBe(`0 would be written, ${N - 1} already present, 1 differing`);
    expect(cloudFormation.requests.length).toBe(lookups);
  });
});

describe('npm run seed: usage and failures', () => {
  it('--help prints the usage and exits 0; an unknown option, an empty value or --stack with --table prints one line and the usage and exits 2', async () => {
    const [help, unknown, both, empty] = await Promise.all([
      seed(['--help']),
      seed(['--frobnicate']),
      seed(['--stack', 'Warden', '--table', 'x']),
      seed(['--table', '']),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: npm run seed -- \[options\]\n/);
    for (const option of ['--stack <name>', '--table <name>', '--region <region>', '--dry-run']) expect(help.stdout).toContain(option);
    expect(help.stdout).toMatch(/--stack <name> .+\(default: Warden\)\n/);

    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(lines(unknown.stderr)[0]).toBe("npm run seed: Unknown option '--frobnicate'");
    expect(lines(unknown.stderr)[1]).toBe(lines(help.stdout)[0]);
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(lines(both.stderr)[0]).toBe('npm run seed: give --stack or --table, not both');
    expect(lines(both.stderr)[1]).toBe(lines(help.stdout)[0]);
    expect(empty).toMatchObject({ code: 2, stdout: '' });
    expect(lines(empty.stderr)[0]).toBe('npm run seed: --table needs a non-empty value');
  });

  it('AWS failures are one line on stderr and exit 1, without a stack trace', async () => {
    const runs = await Promise.all([
      seed(['--stack', 'Nope']),
      seed(['--stack', 'Locked']),
      seed(['--stack', 'Older']),
      seed(['--table', 'no-such-table']),
      seed(['--table', stores().emulators.tableNames.requests]),
      seed(['--table', STACK_TABLE], userEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined })),
      seed(['--table', STACK_TABLE], userEnv({ AWS_REGION: undefined })),
    ]);
    const expected = [
      /^stack Nope not found in us-east-1 \(deploy it with npx cdk deploy, or pass --region or --table\)$/,
      /^access denied: User: arn:aws:iam::123456789012:user\/tester is not authorized to perform: cloudformation:DescribeStacks on resource: Locked$/,
      /^stack Older has no output SystemOfRecordTableName: deploy this version of Warden \(npx cdk deploy\), or pass --table$/,
      /^table no-such-table not found in us-east-1$/,
      /^table warden-Requests is not a Warden system of record: its keys are requestId, expected pk, sk$/,
      /^no usable AWS credentials \(.+\): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login$/,
      /^no AWS region: pass --region or set AWS_REGION/,
    ];
    runs.forEach((run, i) => {
      expect({ i, code: run.code, stdout: run.stdout }).toEqual({ i, code: 1, stdout: '' });
      expect(lines(run.stderr)).toEqual([expect.stringMatching(expected[i]!)]);
    });
    expect(cloudFormation.requests).toEqual(expect.arrayContaining(['Nope', 'Locked', 'Older']));
  });
});
