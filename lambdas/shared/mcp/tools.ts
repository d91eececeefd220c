import * as z from '../schemas/zod';
import { wholeCatalog, type CatalogAction } from '../catalog/registry';
import { ActionDefinitionError } from '../catalog/define';
import { shapeOf } from '../catalog/kinds';
import { InvalidInput } from '../errors';
import { Id } from '../ids';
import { lazy } from '../lazy';
import { recordMetric } from '../observability';
import { submitRequest, type SubmitDeps } from '../requests/submit';
import { getRequestFor, listRequestsFor, PublicRequest, RequestList } from '../requests/view';
import { describeIssues } from '../schemas/actions';
import { IdempotencyKey, ListRequestsQuery, SubmitRequestBody } from '../schemas/api';
import { RequestStatus } from '../schemas/records';
import type { Principal } from '../schemas/workflow';

/**
 * The MCP tools, generated from the action catalog: `request_<action>` per action, plus
 * `submit_request`, `get_request` and `list_my_requests` (API.md "MCP"). Each runs the gateway's
 * own submit and view code as the token's principal, so validation, idempotency and visibility
 * are exactly those of the HTTP API. No tool decides an approval: agents request, humans approve.
 */

/** Who calls and with what: one per MCP HTTP request (the transport is stateless). */
export interface ToolSession {
  principal: Principal;
  traceId: string;
  deps: SubmitDeps;
}

/** What a tool hands back: the structured content, and one line that says it for a model or a person. */
export interface ToolOutput {
  structured: Record<string, unknown>;
  summary: string;
}

export interface WardenTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The arguments; a value that breaks it is a `validation_failed` tool error naming the argument. */
  readonly input: z.core.$ZodObject;
  /** The structured content of a successful call. */
  readonly output: z.core.$ZodObject;
  readonly readOnly: boolean;
  run(args: Record<string, unknown>, session: ToolSession): Promise<ToolOutput>;
}

/** What a failed call carries in `structuredContent`: the stable codes of problem+json. */
export const ToolError = z.strictObject({ code: z.string(), detail: z.string() });
export type ToolError = z.infer<typeof ToolError>;

const Text = SubmitRequestBody.shape.text;
const OPTIONAL_REQUEST_ARGUMENTS = {
  text: z.optional(Text).check(z.describe('The request in your own words, kept in the audit trail; a short one is made from the action when absent.')),
  idempotencyKey: z.optional(IdempotencyKey).check(z.describe('Send the same key again to retry safely: the same arguments return the same request.')),
};

const HUMANS_APPROVE =
  'Warden validates it against policy: it runs at once when policy allows, waits for a human approver when policy says so (no tool can approve), or is rejected with reason codes. Follow it with get_request.';

/** `r_… is PENDING_APPROVAL: …`: the view in one line. */
export function summarize(view: PublicRequest): string {
  const reasons = view.decision?.reasons.length ? view.decision.reasons.join(', ') : undefined;
  const what = (() => {
    switch (view.status) {
      case 'QUEUED':
      case 'RUNNING':
        return 'being processed; read it again with get_request';
      case 'PENDING_APPROVAL': {
        const waiting = view.next.waitingFor;
        const who = waiting ? `a ${waiting.approverRoles.join(' or ')} (tier ${waiting.tier}) until ${waiting.deadline}` : 'a human approver';
        return `waiting for ${who}${view.approval ? `, task ${view.approval.taskId}` : ''}${reasons ? `, because ${reasons}` : ''}`;
      }
      case 'COMPLETED':
        return view.result ? 'done, the effect was executed' : 'done';
      case 'REJECTED':
        return `rejected${reasons ? `: ${reasons}` : ''}`;
      case 'FAILED':
        return `failed${view.error ? `: ${view.error.code}` : ''}`;
      case 'EXPIRED':
        return 'expired: no approver decided before the deadline';
    }
  })();
  return `${view.requestId} is ${view.status}: ${what}`;
}

async function submitAndView(session: ToolSession, body: SubmitRequestBody, idempotencyKey: string | undefined): Promise<ToolOutput> {
  const submitted = await submitRequest(session.principal, body, { idempotencyKey, traceId: session.traceId }, session.deps);
  if (submitted.statusCode === 202) recordMetric('RequestsSubmitted', 1);
  const view = await getRequestFor(session.principal, submitted.body.requestId, session.deps);
  return { structured: view, summary: summarize(view) };
}

function requestTool(action: CatalogAction): WardenTool {
  const fields = action.fields as z.core.$ZodObject;
  for (const name of Object.keys(OPTIONAL_REQUEST_ARGUMENTS)) {
    if (name in shapeOf(fields)) throw new ActionDefinitionError(`${action.name}: field ${name} clashes with the request_${action.name} tool's own argument`);
  }
  return {
    name: `request_${action.name}`,
    title: `Request a ${action.title}`,
    description: `${action.description} ${HUMANS_APPROVE}`,
    // The action's own schema, refinements and strictness included: the fields are checked as over HTTP.
    // An action may be written with classic zod: `safeExtend` clones the schema as its own class.
    input: z.safeExtend(fields as z.ZodMiniObject, OPTIONAL_REQUEST_ARGUMENTS),
    output: PublicRequest,
    readOnly: false,
    run: (args, session) => {
      const { text, idempotencyKey, ...values } = args as { text?: string; idempotencyKey?: string } & Record<string, unknown>;
      return submitAndView(session, { text: text ?? `Requested a ${action.title} with request_${action.name}.`, action: action.name, fields: values }, idempotencyKey);
    },
  };
}

const SubmitArguments = z.strictObject({
  text: Text.check(z.describe('What you need, in plain words; Warden works out the action and its fields.')),
  idempotencyKey: OPTIONAL_REQUEST_ARGUMENTS.idempotencyKey,
});

const GetArguments = z.strictObject({ requestId: Id.check(z.describe('The r_… id a request tool returned.')) });

// GET /v1/requests' own query schema, as tool arguments (numbers are numbers here, not strings).
const ListArguments = z.extend(ListRequestsQuery, {
  status: z.optional(RequestStatus).check(z.describe('Only requests in this status.')),
  limit: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 50).check(z.describe('Requests per page, 1..100.')),
  nextToken: ListRequestsQuery.shape.nextToken.check(z.describe('From the previous page.')),
});

/** Built on first use: a `request_<action>` tool loads every action's schemas. */
export const tools = lazy((): readonly WardenTool[] => [
  ...wholeCatalog().map(requestTool),
  {
    name: 'submit_request',
    title: 'Submit a request in plain words',
    description: `Asks for any governed action in free text. ${HUMANS_APPROVE}`,
    input: SubmitArguments,
    output: PublicRequest,
    readOnly: false,
    run: (args, session) => {
      const { text, idempotencyKey } = SubmitArguments.parse(args);
      return submitAndView(session, { text }, idempotencyKey);
    },
  },
  {
    name: 'get_request',
    title: 'Read a request',
    description: 'The request as it stands now: status, decision and reason codes, approval, result. Visible to its requester and to auditors.',
    input: GetArguments,
    output: PublicRequest,
    readOnly: true,
    run: async (args, session) => {
      const view = await getRequestFor(session.principal, GetArguments.parse(args).requestId, session.deps);
      return { structured: view, summary: summarize(view) };
    },
  },
  {
    name: 'list_my_requests',
    title: 'List my requests',
    description: 'Your requests, newest first (an auditor sees everyone\'s), optionally in one status; pass nextToken for the next page.',
    input: ListArguments,
    output: RequestList,
    readOnly: true,
    run: async (args, session) => {
      const listing = await listRequestsFor(session.principal, ListArguments.parse(args), session.deps);
      const more = listing.nextToken ? '; more with nextToken' : '';
      return { structured: { ...listing }, summary: `${listing.requests.length} request(s)${more}` };
    },
  },
]);

const byName = lazy(() => new Map(tools().map((tool) => [tool.name, tool])));

export function toolNamed(name: string): WardenTool | undefined {
  return byName().get(name);
}

/** The arguments as the tool takes them; a bad one is 400-like `validation_failed` naming it. */
export function parseArguments(tool: WardenTool, args: unknown): Record<string, unknown> {
  const parsed = z.safeParse(tool.input, args ?? {});
  if (!parsed.success) throw new InvalidInput('validation_failed', describeIssues(parsed.error));
  return parsed.data as Record<string, unknown>;
}
