import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../lib/config';
import { WardenStack } from '../lib/warden-stack';

const app = new App();
const config = parseConfig(app.node.tryGetContext('warden'));

new WardenStack(app, 'Warden', {
  config,
  description: 'Warden: governed AI actions (model proposes, policy decides, humans approve)',
  // Environment-agnostic unless the CLI resolved an account and region.
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});

// Every synth is checked: an unacknowledged AWS Solutions finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
