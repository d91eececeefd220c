import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A cold-start probe of `npm run bench`, not a Lambda: the least any Warden handler loads — the
 * three Powertools utilities (DESIGN.md §7) and the DynamoDB document client every step uses
 * for its audit entry — and nothing else. Its ratio to the reference is the best any handler
 * could reach without deferring the SDK itself.
 */

const logger = new Logger({ serviceName: 'bench-dynamodb-floor' });
const metrics = new Metrics({ namespace: 'Bench', serviceName: 'bench-dynamodb-floor' });
const tracer = new Tracer({ serviceName: 'bench-dynamodb-floor' });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function handler(): Promise<{ ok: boolean }> {
  logger.info('probe', { traced: tracer.isTracingEnabled() });
  metrics.publishStoredMetrics();
  return { ok: documents !== undefined };
}
