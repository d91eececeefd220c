import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import * as z from '../schemas/zod';
import { invalidFields, schemaGuide } from '../schemas/issues';
import { InvalidInput, WardenError } from '../errors';
import { MAX_BODY_BYTES } from '../schemas/api';
import { principalFromClaims } from './identity';
import type { Principal } from '../schemas/workflow';

/** An API Gateway payload-2.0 event with the JWT authorizer's verified claims. */
export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export class PayloadTooLarge extends WardenError {
  override readonly name = 'PayloadTooLarge';

  constructor() {
    super('payload_too_large', `The body must be at most ${MAX_BODY_BYTES} bytes.`, 413);
  }
}

export class UnsupportedMediaType extends WardenError {
  override readonly name = 'UnsupportedMediaType';

  constructor() {
    super('unsupported_media_type', 'The body must be application/json.', 415);
  }
}

export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function callerOf(event: HttpEvent): Principal {
  return principalFromClaims(event.requestContext?.authorizer?.jwt?.claims);
}

/** Size, media type and JSON checks, then the zod schema (400 names the failing field path). */
export function parseJsonBody<T extends z.core.$ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge();
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(contentType.trim())) throw new UnsupportedMediaType();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInput('malformed_json', 'The body is not valid JSON.');
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw invalidFields(parsed.error, { guide: schemaGuide(schema), input: value });
  return parsed.data;
}

export function parseQuery<T extends z.core.$ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  const query = event.queryStringParameters ?? {};
  const parsed = z.safeParse(schema, query);
  if (!parsed.success) throw invalidFields(parsed.error, { guide: schemaGuide(schema), input: query, prefix: 'query' });
  return parsed.data;
}

/** X-Ray's root id when API Gateway sent one, so logs, traces and the response agree. */
export function traceIdOf(event: HttpEvent): string {
  const xray = header(event, 'x-amzn-trace-id');
  const root = xray?.match(/Root=([0-9a-f-]{1,64})/i)?.[1];
  return root ?? event.requestContext?.requestId ?? randomUUID();
}
