import { RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { WardenConfig } from './config';

/** The config's settings as the CDK types them (lib/config.ts itself loads no aws-cdk-lib). */

export function removalPolicyOf(config: WardenConfig): RemovalPolicy {
  return config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The config's retention, already checked against the values CloudWatch Logs accepts. */
export function logRetentionOf(config: WardenConfig): RetentionDays {
  return config.logRetentionDays as RetentionDays;
}
