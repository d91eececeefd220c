import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { createDocumentClient } from '../lambdas/shared/adapters/aws/clients';
import { seedSystemOfRecord, type SeedResult } from '../lambdas/shared/adapters/aws/seed';
import { SEED, TABLES } from '../lambdas/shared/tables';
import { STACK_OUTPUTS, WARDEN_STACK_NAME } from '../lib/outputs';

/**
 * `npm run seed -- --stack Warden [--region R] [--dry-run]` (or `--table NAME`): loads the example
 * records local mode starts from (SEED) into a deployed system-of-record table, with the same
 * conditional writes local mode uses, so a record that changed since is never overwritten.
 */

const OUTPUT_KEY = STACK_OUTPUTS.recordsTable;

const USAGE = `Usage: npm run seed -- [--stack NAME | --table NAME] [--region REGION] [--dry-run]

Loads the example records of local mode (vendors, customers, orders) into the system-of-record
table of a deployed Warden stack. Only absent items are written: an item already there is
counted as present, or as differing (and left as it is) when it has changed since.

  --stack NAME     the deployed stack; its output ${OUTPUT_KEY} names the table (default: ${WARDEN_STACK_NAME})
  --table NAME     the table itself, without a stack lookup
  --region REGION  the stack's region (default: AWS_REGION or the profile's region)
  --dry-run        print what would be written and write nothing
  -h, --help       print this and exit

AWS credentials come from the usual chain (AWS_PROFILE, environment, SSO). Needs
cloudformation:DescribeStacks (without --table) and dynamodb:DescribeTable, GetItem, PutItem.
Exit status: 0 done, 1 an AWS error, 2 a usage error.`;

/** A command line that cannot be run: the message, then the usage, exit 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure explained in one line: no stack trace, exit 1. */
class SeedFailed extends Error {
  override readonly name = 'SeedFailed';
}

interface SeedOptions {
  readonly help: boolean;
  readonly stack?: string;
  readonly table?: string;
  readonly region?: string;
  readonly dryRun: boolean;
}

export function parseSeedArgs(argv: readonly string[]): SeedOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: 'string' },
        table: { type: 'string' },
        region: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    if (isParseArgsError(error)) throw new UsageError(firstSentence(error.message));
    throw error;
  }
  for (const name of ['stack', 'table', 'region'] as const) {
    if (values[name] !== undefined && values[name].trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
  }
  if (values.stack !== undefined && values.table !== undefined) {
    throw new UsageError('give --stack or --table, not both');
  }
  return {
    help: values.help,
    dryRun: values['dry-run'],
    ...(values.table !== undefined ? { table: values.table } : { stack: values.stack ?? WARDEN_STACK_NAME }),
    ...(values.region !== undefined ? { region: values.region } : {}),
  };
}

export async function main(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  let options: SeedOptions;
  try {
    options = parseSeedArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err.write(`seed: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const clientOptions = options.region ? { region: options.region } : {};
  const doc = createDocumentClient(clientOptions);
  const cloudFormation = new CloudFormationClient(clientOptions);
  try {
    const region = await regionOf(doc);
    const tableName = options.table ?? (await tableFromStack(cloudFormation, options.stack!, region));
    await checkTable(doc, tableName, region);
    const source = options.table ? '' : ` (output ${OUTPUT_KEY} of stack ${options.stack})`;
    out.write(`${options.dryRun ? 'Dry run, nothing is written: table' : 'Table'} ${tableName}${source} in ${region}\n`);
    const results = await seedSystemOfRecord(doc, tableName, SEED, { dryRun: options.dryRun });
    for (const result of results) out.write(`${describeResult(result, options.dryRun)}\n`);
    out.write(`${summary(results, options.dryRun)}\n`);
    return 0;
  } catch (error) {
    err.write(`seed: ${explain(error, options)}\n`);
    return 1;
  } finally {
    doc.destroy();
    cloudFormation.destroy();
  }
}

async function regionOf(doc: DynamoDBDocumentClient): Promise<string> {
  try {
    return await doc.config.region();
  } catch {
    throw new SeedFailed('no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)');
  }
}

async function tableFromStack(client: CloudFormationClient, stackName: string, region: string): Promise<string> {
  let outputs;
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError that says so.
    if (errorName(error) === 'ValidationError' && /does not exist/i.test(errorMessage(error))) {
      throw new SeedFailed(`stack ${stackName} not found in ${region} (deploy it with npx cdk deploy, or pass --region or --table)`);
    }
    throw error;
  }
  const tableName = outputs.find((output) => output.OutputKey === OUTPUT_KEY)?.OutputValue;
  if (!tableName) {
    throw new SeedFailed(`stack ${stackName} has no output ${OUTPUT_KEY}: deploy this version of Warden (npx cdk deploy), or pass --table`);
  }
  return tableName;
}

/** A table given by hand could be any table: its keys must be the system of record's. */
async function checkTable(doc: DynamoDBDocumentClient, tableName: string, region: string): Promise<void> {
  let keys: string[];
  try {
    const { Table } = await doc.send(new DescribeTableCommand({ TableName: tableName }));
    keys = (Table?.KeySchema ?? []).map((key) => key.AttributeName ?? '');
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') throw new SeedFailed(`table ${tableName} not found in ${region}`);
    throw error;
  }
  const { partitionKey, sortKey } = TABLES.records;
  const expected = [partitionKey.name, sortKey.name];
  if (keys.join(',') !== expected.join(',')) {
    throw new SeedFailed(
      `table ${tableName} is not a Warden system of record: its keys are ${keys.join(', ') || 'unknown'}, expected ${expected.join(', ')}`,
    );
  }
}

function describeResult(result: SeedResult, dryRun: boolean): string {
  const { pk, sk: _sk, ...attributes } = result.item;
  switch (result.outcome) {
    case 'written':
      return dryRun ? `  would write  ${pk} ${JSON.stringify(attributes)}` : `  written      ${pk}`;
    case 'present':
      return `  present      ${pk}`;
    case 'differing':
      return `  differing    ${pk}: ${result.differingAttributes?.join(', ')} changed since; left as it is`;
  }
}

function summary(results: readonly SeedResult[], dryRun: boolean): string {
  const count = (outcome: SeedResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const written = dryRun ? `${count('written')} would be written` : `${count('written')} written`;
  return `${written}, ${count('present')} already present, ${count('differing')} differing`;
}

const CREDENTIALS_REFUSED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** Every failure as one line: what went wrong and, where it is known, what to do. */
function explain(error: unknown, options: SeedOptions): string {
  if (error instanceof SeedFailed) return error.message;
  const name = errorName(error);
  const message = errorMessage(error);
  if (name === 'CredentialsProviderError') {
    return `no usable AWS credentials (${message}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') return `access denied: ${message}`;
  if (CREDENTIALS_REFUSED.has(name)) return `AWS refused the credentials (${name}): ${message}`;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return `cannot reach AWS${options.region ? ` in ${options.region}` : ''}: ${message}`;
  }
  return `${name}: ${message}`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim() || '(no message)';
}

function isParseArgsError(error: unknown): error is Error {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Node's unknown-option message goes on to explain `--`; the first sentence is the news. */
function firstSentence(message: string): string {
  const end = message.indexOf('. ');
  return end === -1 ? message : message.slice(0, end + 1);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`seed: ${errorName(error)}: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    },
  );
}
