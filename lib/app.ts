import { join } from 'node:path';
import { Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks, type NagPack } from 'cdk-nag';
import { cdkJsonWarden, configFromContext } from './config';
import { WARDEN_STACK_NAME } from './outputs';
import { WardenStack } from './warden-stack';

/**
 * The cdk-nag packs every synth is checked against. A finding is fixed, or acknowledged on the
 * one resource it concerns with a reason (`Validations.of(resource).acknowledge`), never on a
 * stack or the app. The tests run this same list, so what `cdk synth` enforces is what is tested.
 */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()];
}

/** The project's cdk.json, whose `warden` object `-c warden='{...}'` is merged over (the CLI replaced it). */
const CDK_JSON = join(__dirname, '..', 'cdk.json');

/**
 * What `bin/warden.ts` runs: the `warden` context (cdk.json, `-c warden='{...}'` and
 * `-c warden.<key>=<value>`) parsed (a bad key fails here), the stack, and the nag packs
 * registered on the app, so an unacknowledged finding fails the synth.
 */
export function createWardenApp(app: App, env?: Environment): WardenStack {
  const config = configFromContext(app.node.getAllContext(), () => cdkJsonWarden(CDK_JSON));
  const stack = new WardenStack(app, WARDEN_STACK_NAME, {
    config,
    description: 'Warden: governed AI actions (model proposes, policy decides, humans approve)',
    env,
  });
  Validations.of(app).addPlugins(...nagPacks());
  return stack;
}
