import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { WardenStack } from '../../lib/warden-stack';

export const PROJECT_ROOT = path.join(__dirname, '..', '..');

interface CdkJson {
  app: string;
  context: Record<string, unknown> & { warden: unknown };
}

export function readCdkJson(): CdkJson {
  return JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as CdkJson;
}

export interface Synthesized {
  stack: WardenStack;
  template: Template;
}

/**
 * Synthesizes the Warden stack the way `cdk synth` does (cdk.json's feature flags), with
 * `warden` config overrides and without bundling, so tests stay fast and need no esbuild run.
 */
export function synthWarden(warden: unknown = {}): Synthesized {
  const { warden: _defaults, ...flags } = readCdkJson().context;
  const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new WardenStack(app, 'Warden', {
    config: parseConfig(warden),
    env: { account: '123456789012', region: 'us-east-1' },
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The CloudFormation logical id of a construct's default child (a table, a function, ...). */
export function logicalIdOf(stack: WardenStack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error('construct has no default child');
  return stack.getLogicalId(child as Parameters<WardenStack['getLogicalId']>[0]);
}

type Json = unknown;

export interface Statement {
  effect: string;
  actions: string[];
  resources: Json[];
  condition?: Record<string, unknown>;
  sid?: string;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every identity-policy statement attached to each role, keyed by the role's logical id. */
export function statementsByRole(template: Template): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  const policies = template.findResources('AWS::IAM::Policy');
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as {
      Roles?: { Ref: string }[];
      PolicyDocument: { Statement: Record<string, unknown>[] };
    };
    const statements = props.PolicyDocument.Statement.map((s) => ({
      effect: s.Effect as string,
      actions: asArray(s.Action as string | string[]),
      resources: asArray(s.Resource as Json),
      condition: s.Condition as Record<string, unknown> | undefined,
      sid: s.Sid as string | undefined,
    }));
    for (const role of props.Roles ?? []) {
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...statements]);
    }
  }
  return byRole;
}

/** The role logical id of each Lambda function, keyed by the function's logical id. */
export function roleOfFunction(template: Template, functionLogicalId: string): string {
  const fn = template.toJSON().Resources[functionLogicalId] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  return fn.Properties.Role['Fn::GetAtt'][0];
}

/** True when a (possibly intrinsic) resource value refers to the given logical id. */
export function refersTo(resource: Json, logicalId: string): boolean {
  return JSON.stringify(resource).includes(`"${logicalId}"`);
}

/**
 * The value CloudFormation would give a property built from `Ref`, `Fn::Join`, `Fn::Split` and
 * `Fn::Select`, with the pseudo parameters and references in `refs`. Throws on anything else.
 */
export function evaluateIntrinsics(value: Json, refs: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((item) => evaluateIntrinsics(item, refs));
  const [fn, args] = Object.entries(value as Record<string, Json>)[0] ?? [];
  switch (fn) {
    case 'Ref': {
      const resolved = refs[args as string];
      if (resolved === undefined) throw new Error(`no value for Ref ${String(args)}`);
      return resolved;
    }
    case 'Fn::Join': {
      const [separator, parts] = args as [string, Json[]];
      return parts.map((part) => evaluateIntrinsics(part, refs)).join(separator);
    }
    case 'Fn::Split': {
      const [separator, source] = args as [string, Json];
      return String(evaluateIntrinsics(source, refs)).split(separator);
    }
    case 'Fn::Select': {
      const [index, list] = args as [number | string, Json];
      return (evaluateIntrinsics(list, refs) as unknown[])[Number(index)];
    }
    default:
      throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
  }
}
