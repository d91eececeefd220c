import { App } from 'aws-cdk-lib';
import { createWardenApp } from '../lib/app';

// Environment-agnostic unless the CLI resolved an account and region.
const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
createWardenApp(new App(), account && region ? { account, region } : undefined);
