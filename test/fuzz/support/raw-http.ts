import { Agent, request } from 'node:http';

/**
 * HTTP without a client's help: the path goes out byte for byte (fetch would resolve `..` and
 * re-encode), any header and any body can be sent, and nothing is retried. For the hostile-id
 * and fuzz suites against the local API.
 */

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  /** The parsed body when it is a JSON object, else undefined. */
  json?: Record<string, unknown>;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export class RawHttp {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  send({ method, path, headers = {}, body }: RawRequest): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            const value: unknown = JSON.parse(text);
            if (value !== null && typeof value === 'object' && !Array.isArray(value)) json = value as Record<string, unknown>;
          } catch {
            // not JSON: the caller sees `text`
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Every byte percent-encoded: any string becomes a path segment that survives the wire. */
export function percentEncodeAll(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** What a stack trace or an exception looks like in a body: frames, source positions, error names. */
const LEAK_PATTERNS: readonly RegExp[] = [
  /(?:^|\n|\\n)\s*at\s+[\w$.<>[\]]+\s*\(/, // "    at handler (file:1:2)"
  /(?:^|\n|\\n)\s*at\s+\/\S+:\d+/, // "    at /var/task/index.mjs:1:2"
  /\.(?:ts|js|mjs|cjs):\d+/, // a source position
  /\b(?:[A-Z][A-Za-z]*)?Error:/, // "TypeError: …", "Error: …"
  /node_modules|\/var\/task|\/work\//,
];

/** Why a response body leaks something it must not, or undefined when it does not. */
export function leakIn(text: string, secrets: readonly string[] = []): string | undefined {
  for (const pattern of LEAK_PATTERNS) if (pattern.test(text)) return `matches ${pattern}`;
  for (const secret of secrets) if (secret.length >= 8 && text.includes(secret)) return `echoes a secret (${secret.slice(0, 4)}…)`;
  return undefined;
}

/**
 * What every answer must be (API.md "Errors"): never a 5xx, never a leak, and for every error
 * `application/problem+json` with type, title, status (the HTTP status), detail and a code.
 * Returns the problems found, empty when the answer is fine.
 */
export function problemsWith(response: RawResponse, secrets: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`status ${response.status}`);
  const leak = leakIn(response.text, secrets);
  if (leak) problems.push(`body ${leak}`);
  if (response.status >= 400) {
    if (!/^application\/problem\+json\b/.test(response.contentType)) problems.push(`content-type ${JSON.stringify(response.contentType)}`);
    const body = response.json ?? {};
    for (const key of ['type', 'title', 'detail', 'code'] as const) {
      if (typeof body[key] !== 'string' || (body[key] as string).length === 0) problems.push(`no ${key}`);
    }
    if (body.status !== response.status) problems.push(`body status ${JSON.stringify(body.status)}`);
    if (typeof body.code === 'string' && !/^[a-z][a-z0-9_]*$/.test(body.code)) problems.push(`code ${JSON.stringify(body.code)} is not snake_case`);
  }
  return problems;
}
