import { App } from 'aws-cdk-lib';
import { createWardenApp } from '../lib/app';
import { WardenConfigError } from '../lib/config';

// Environment-agnostic unless the CLI resolved an account and region.
const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
try {
  createWardenApp(new App(), account && region ? { account, region } : undefined);
} catch (error) {
  // A config mistake is the user's to fix: its message names every key; a stack trace adds nothing.
  if (!(error instanceof WardenConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
