import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../lambdas/shared/adapters/aws/clients';
import { catalogSeed, seedSystemOfRecord, type SeedResult } from '../lambdas/shared/adapters/aws/seed';
import { TABLES } from '../lambdas/shared/tables';
import { STACK_OUTPUTS, WARDEN_STACK_NAME } from '../lib/outputs';
import { CommandError, nonEmpty, runCli, type CliOption, type CliSpec, type CliValues } from '../scripts/cli';

/**
 * `npm run seed -- --stack Warden [--region R] [--dry-run]` (or `--table NAME`): loads the example
 * records local mode starts from (`SEED` and each catalog action's builtin seed records) into a deployed system-of-record table, with the same
 * conditional writes local mode uses, so a record that changed since is never overwritten.
 */

const OUTPUT_KEY = STACK_OUTPUTS.recordsTable;

const COMMAND = {
  command: 'npm run seed --',
  summary:
    'Loads the example records of local mode (vendors, customers, orders) into the system-of-record table of a deployed\n' +
    'Warden stack. Only absent items are written: an item already there is counted as present, or as differing (and left\n' +
    'as it is) when it has changed since.\n\n' +
    'AWS credentials come from the usual chain (AWS_PROFILE, environment, SSO). Needs cloudformation:DescribeStacks\n' +
    '(without --table) and dynamodb:DescribeTable, GetItem, PutItem.',
  options: {
    stack: { type: 'string', value: 'name', default: WARDEN_STACK_NAME, description: `the deployed stack; its output ${OUTPUT_KEY} names the table` },
    table: { type: 'string', value: 'name', description: 'the table itself, without a stack lookup (instead of --stack)' },
    region: { type: 'string', value: 'region', description: "the stack's region (default: AWS_REGION or the profile's region)" },
    'dry-run': { type: 'boolean', description: 'print what would be written and write nothing' },
  },
  exclusive: [['stack', 'table']],
  examples: ['npm run seed -- --stack Warden --region eu-west-1 --dry-run', 'npm run seed -- --table Warden-DataSystemOfRecord-ABC123'],
  exitStatus: { 1: 'an AWS error, said in one line' },
} as const satisfies CliSpec<Record<string, CliOption>>;

type SeedValues = CliValues<typeof COMMAND.options>;

async function main(values: SeedValues): Promise<void> {
  const stack = nonEmpty('stack', values.stack);
  const table = nonEmpty('table', values.table);
  const region = nonEmpty('region', values.region);
  const dryRun = values['dry-run'];
  const clientOptions = region ? { region } : {};
  const doc = createDocumentClient(clientOptions);
  const cloudFormation = new CloudFormationClient(clientOptions);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const resolvedRegion = await regionOf(doc);
    const tableName = table ?? (await tableFromStack(cloudFormation, stack, resolvedRegion));
    await checkTable(doc, tableName, resolvedRegion);
    const source = table ? '' : ` (output ${OUTPUT_KEY} of stack ${stack})`;
    out(`${dryRun ? 'Dry run, nothing is written: table' : 'Table'} ${tableName}${source} in ${resolvedRegion}`);
    const results = await seedSystemOfRecord(doc, tableName, catalogSeed(), { dryRun });
    for (const result of results) out(describeResult(result, dryRun));
    out(summary(results, dryRun));
  } catch (error) {
    throw new CommandError(explain(error, region));
  } finally {
    doc.destroy();
    cloudFormation.destroy();
  }
}

async function regionOf(doc: DynamoDBDocumentClient): Promise<string> {
  try {
    return await doc.config.region();
  } catch {
    throw new CommandError('no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)');
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
      throw new CommandError(`stack ${stackName} not found in ${region} (deploy it with npx cdk deploy, or pass --region or --table)`);
    }
    throw error;
  }
  const tableName = outputs.find((output) => output.OutputKey === OUTPUT_KEY)?.OutputValue;
  if (!tableName) {
    throw new CommandError(`stack ${stackName} has no output ${OUTPUT_KEY}: deploy this version of Warden (npx cdk deploy), or pass --table`);
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
    if (errorName(error) === 'ResourceNotFoundException') throw new CommandError(`table ${tableName} not found in ${region}`);
    throw error;
  }
  const { partitionKey, sortKey } = TABLES.records;
  const expected = [partitionKey.name, sortKey.name];
  if (keys.join(',') !== expected.join(',')) {
    throw new CommandError(
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
function explain(error: unknown, region: string | undefined): string {
  if (error instanceof CommandError) return error.message;
  const name = errorName(error);
  const message = errorMessage(error);
  if (name === 'CredentialsProviderError') {
    return `no usable AWS credentials (${message}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') return `access denied: ${message}`;
  if (CREDENTIALS_REFUSED.has(name)) return `AWS refused the credentials (${name}): ${message}`;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return `cannot reach AWS${region ? ` in ${region}` : ''}: ${message}`;
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

void runCli(COMMAND, main);
