import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { synthWarden, type Synthesized } from './synth';

/** The AWS Solutions pack over the whole stack: every finding is fixed or acknowledged with a reason. */
let defaults: Synthesized;
let variant: Synthesized;

beforeAll(() => {
  defaults = synthWarden();
  variant = synthWarden({
    removalPolicy: 'destroy',
    modelProvider: 'rules',
    auth: { issuer: 'https://idp.example.com', audience: ['warden'] },
  });
});

function findings(stack: Stack): string[] {
  return new AwsSolutionsChecks()
    .validateScope(stack)
    .violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
}

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason })),
      ),
  );
}

it('finds what it should on an insecure bucket (the check is live)', () => {
  const stack = new Stack(new App(), 'Insecure');
  new Bucket(stack, 'Bucket');
  expect(findings(stack).join('\n')).toMatch(/AwsSolutions-S10/);
});

it('has no unacknowledged finding with the default config', () => {
  expect(findings(defaults.stack)).toEqual([]);
});

it('has no unacknowledged finding with destroy, rules and an external issuer', () => {
  expect(findings(variant.stack)).toEqual([]);
});

it('acknowledges on specific resources only, never on the stack, each with a reason', () => {
  const acks = acknowledgements(defaults.stack);
  expect(acks.length).toBeGreaterThan(0);
  for (const ack of acks) {
    expect(ack.path).not.toBe(defaults.stack.node.path);
    expect(ack.reason.length).toBeGreaterThan(30);
  }
  const ids = new Set(acks.map((ack) => ack.id.replace(/^\w+::/, '').replace(/\[.*$/, '')));
  expect([...ids].sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-COG2', 'AwsSolutions-COG8', 'AwsSolutions-IAM5']);
});
