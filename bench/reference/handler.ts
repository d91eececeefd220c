import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The cold-start reference of `npm run bench` (issue 5): a Lambda that loads everything a
 * "kitchen sink" Warden function could — the four SDK clients and the three Powertools
 * utilities — and builds each one at import time, as a handler that pays for all of them would.
 * It is bundled by the same WardenFunction construct as the real handlers, never deployed.
 */

const logger = new Logger({ serviceName: 'bench-reference' });
const metrics = new Metrics({ namespace: 'Bench', serviceName: 'bench-reference' });
const tracer = new Tracer({ serviceName: 'bench-reference' });
const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new S3Client({}), new SFNClient({}), new BedrockRuntimeClient({})];

export async function handler(): Promise<{ clients: number }> {
  logger.info('reference', { traced: tracer.isTracingEnabled() });
  metrics.publishStoredMetrics();
  return { clients: clients.length };
}
