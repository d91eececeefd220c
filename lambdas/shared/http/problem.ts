import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from '../schemas/zod';
import { InvalidInput, WardenError } from '../errors';
import { SNAKE_CASE } from '../ids';
import { FieldIssue } from '../schemas/issues';

/**
 * The one place where errors become HTTP responses (API.md "Errors"): problem+json with a
 * stable `code`. Unknown errors become a bare 500 — no message, no stack, nothing echoed.
 */

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const Problem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.number().check(z.int(), z.gte(400), z.lte(599)),
  detail: z.string(),
  code: z.string().check(z.regex(SNAKE_CASE)),
  /** 400 `validation_failed` from a schema: every offending field, with what it expects. */
  errors: z.optional(z.array(FieldIssue).check(z.minLength(1))),
});
export type Problem = z.infer<typeof Problem>;

export function problem(status: number, code: string, detail: string, errors?: readonly FieldIssue[]): APIGatewayProxyStructuredResultV2 {
  const body: Problem = {
    type: `https://warden.dev/problems/${code.replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors: [...errors] } : {}),
  };
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * What a caller may learn of a thrown error: a WardenError's code and message below 500 (and
 * 503), with a validation failure's field list, otherwise a bare `internal_error`. `onUnexpected`
 * gets the raw error for the log. The MCP tools answer with the same codes as problem+json.
 */
export function publicErrorOf(
  error: unknown,
  onUnexpected: (error: unknown) => void,
): { status: number; code: string; detail: string; errors?: readonly FieldIssue[] } {
  if (error instanceof WardenError && (error.status < 500 || error.status === 503)) {
    const errors = error instanceof InvalidInput ? error.errors : undefined;
    return { status: error.status, code: error.code, detail: error.message, ...(errors && errors.length > 0 ? { errors } : {}) };
  }
  onUnexpected(error);
  return { status: 500, code: 'internal_error', detail: 'An unexpected error occurred. It has been logged.' };
}

/** Maps a thrown error to problem+json; `onUnexpected` gets the raw error for the log. */
export function problemFromError(error: unknown, onUnexpected: (error: unknown) => void): APIGatewayProxyStructuredResultV2 {
  const { status, code, detail, errors } = publicErrorOf(error, onUnexpected);
  return problem(status, code, detail, errors);
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
