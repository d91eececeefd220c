import { isIPv6 } from 'node:net';

/**
 * The PII shield: replaces personal data and secrets with typed placeholders (`[EMAIL_1]`)
 * before text reaches a model, a log or the audit trail. Each detector is tight enough to
 * leave Warden's own vocabulary alone: amounts ($7,850), dates (2027-01-01) and ids (C-1001,
 * O-5001) never match, and numbers that could be cards or IBANs must pass their checksums.
 * The same detectors serve both directions: `inbound.ts` (the gateway) and `outbound.ts`
 * (model output and receipts on their way to a client or the audit).
 */

export const PII_TYPES = [
  'jwt',
  'aws_access_key',
  'secret',
  'aws_secret_key',
  'email',
  'iban',
  'card',
  'ssn',
  'ipv6',
  'ipv4',
  'phone',
  'token',
] as const;
export type PiiType = (typeof PII_TYPES)[number];

/**
 * Credentials rather than personal data: no effect ever needs them back, so their originals
 * are never kept (not even in the encrypted vault) — the placeholder is all that survives.
 */
export const CREDENTIAL_TYPES: ReadonlySet<PiiType> = new Set(['jwt', 'aws_access_key', 'secret', 'aws_secret_key', 'token']);

export interface PiiFinding {
  type: PiiType;
  /** Occurrences replaced (the same value twice counts twice, under one placeholder). */
  count: number;
}

export interface ScrubResult {
  text: string;
  findings: PiiFinding[];
  /**
   * Placeholder → original value. This IS the personal data: keep it out of logs, state and
   * audit; it exists so that a trusted step can restore a value it is entitled to.
   */
  replacements: Record<string, string>;
}

interface Detector {
  type: PiiType;
  label: string;
  pattern: RegExp;
  /** A checksum or range test on the value; a failed test leaves the text as it is. */
  accept?: (value: string) => boolean;
  /** The form two spellings of one value share (`4111 1111…` and `41111…` are one card). */
  normalize?: (value: string) => string;
  /**
   * When only part of the match is the value (`password=hunter2`): the pattern names the groups
   * `pre`, `value` and `post`, and only `value` is replaced.
   */
  partial?: boolean;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** A whole placeholder (`[EMAIL_1]`): never a value to scrub again. */
const PLACEHOLDER_ONLY = /^\[[A-Z_]+_\d+\]$/;

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** One word as people write it: lower case, Capitalised, ALL CAPS or all digits — not a mix. */
const WORD_SHAPED = /^(?:[a-z]+|[A-Z][a-z]*|[A-Z]+|\d+)$/;

/**
 * True for a run that looks machine-made: at least two of lower case, upper case and digits,
 * and not just words joined by separators (`dell-latitude-5440-laptops`). Random base64url of
 * 32+ characters (approval tokens, task tokens, API keys) is opaque with near certainty.
 */
export function looksOpaque(run: string): boolean {
  const classes = Number(/[a-z]/.test(run)) + Number(/[A-Z]/.test(run)) + Number(/\d/.test(run));
  if (classes < 2) return false;
  const segments = run.split(/[-_/+=.]+/).filter(Boolean);
  return !segments.every((segment) => WORD_SHAPED.test(segment));
}

/**
 * An opaque run that is not a canonical UUID: records are keyed by UUIDs, and no Warden token
 * (approval token, task token) has that shape.
 */
export function looksLikeToken(run: string): boolean {
  return looksOpaque(run) && !UUID.test(run);
}

/**
 * Keys whose value is a credential in `key=value`, `key: value` and `"key": "value"` forms, also
 * with a prefix (`DB_PASSWORD`, `github_token`). Data: extend the list, not the pattern.
 */
export const SECRET_KEY_NAMES: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'client[_-]?secret',
  'api[_-]?key',
  'x-api-key',
  'access[_-]?key(?:[_-]?id)?',
  'secret[_-]?(?:access[_-]?)?key',
  'private[_-]?key',
  '(?:auth|access|refresh|bearer|session|id|api)[_-]?token',
  'token',
];
const SECRET_ASSIGNMENT = new RegExp(
  `(?<pre>(?<![A-Za-z0-9_-])(?:[A-Za-z0-9]+[_-]){0,3}(?:${SECRET_KEY_NAMES.join('|')})["']?\\s*(?:=>|[:=])\\s*(?<q>["']?))` +
    `(?<value>(?<=["'])[^"'\\n]{1,200}|(?<!["'])[^\\s"'\`,;<>()[\\]{}]{1,200})(?<post>\\k<q>)`,
  'gi',
);

/** Luhn checksum: every payment card number passes it; most other long numbers do not. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const numeric = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let remainder = 0;
  for (const ch of numeric) remainder = (remainder * 10 + Number(ch)) % 97;
  return remainder === 1;
}

/** In order: a JWT or key is replaced before its pieces could look like anything else. */
const DETECTORS: readonly Detector[] = [
  {
    type: 'jwt',
    label: 'JWT',
    // Header and payload are base64url JSON objects, so both start with `eyJ` (`{"`).
    pattern: /(?<![\w-])eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]*/g,
  },
  {
    type: 'aws_access_key',
    label: 'AWS_KEY',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    type: 'secret',
    label: 'SECRET',
    pattern: SECRET_ASSIGNMENT,
    partial: true,
    // `password: [EMAIL_1]` was already scrubbed; `token = 5` is not a credential.
    accept: (value) => !PLACEHOLDER_ONLY.test(value.trim()) && value.trim().length >= 4,
  },
  {
    type: 'secret',
    label: 'SECRET',
    pattern: /(?<pre>\b(?:Bearer|Basic)\s+)(?<value>[A-Za-z0-9._~+/-]{16,}=*)(?<post>)(?![A-Za-z0-9._~+/=-])/g,
    partial: true,
  },
  {
    type: 'aws_secret_key',
    label: 'AWS_SECRET',
    // 40 characters of base64 with both cases: the shape of an AWS secret access key (a
    // 40-character hex digest has one case and falls through to TOKEN).
    pattern: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    accept: (m) => /[a-z]/.test(m) && /[A-Z]/.test(m) && looksOpaque(m),
  },
  {
    type: 'email',
    label: 'EMAIL',
    pattern: /(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g,
    normalize: (m) => m.toLowerCase(),
  },
  {
    type: 'iban',
    label: 'IBAN',
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
    accept: ibanValid,
    normalize: (m) => m.replace(/\s/g, ''),
  },
  {
    type: 'card',
    label: 'CARD',
    // 4-4-4-4(-3) and 4-6-5/4-6-4 groupings with one consistent separator, or 13-19 digits run
    // together. Dates never have these shapes, and the Luhn check rejects most other digit runs:
    // not all. About one Warden task or request id in a thousand holds a run it accepts, so
    // fields that are ids pass around this shield (shieldApproval, outbound.ts). A card glued to
    // letters ("card4111…") is still caught, which is why the run is not required to stand alone.
    pattern: /(?<![\d+-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?![\d-])/g,
    accept: (m) => luhnValid(digitsOf(m)),
    normalize: digitsOf,
  },
  {
    type: 'ssn',
    label: 'SSN',
    // Area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
    pattern: /(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])/g,
    normalize: digitsOf,
  },
  {
    type: 'ipv6',
    label: 'IP',
    // A candidate with at least two colons (times like 10:30:00 fail the address check below),
    // optionally ending in an embedded IPv4 address and a zone.
    pattern: /(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?:%\w{1,16})?(?![\w:]|\.\d)/g,
    accept: (m) => isIPv6(m.replace(/%.*$/, '')) && /[0-9A-Fa-f]{2}/.test(m),
    normalize: (m) => m.toLowerCase(),
  },
  {
    type: 'ipv4',
    label: 'IP',
    pattern: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)/g,
  },
  {
    type: 'phone',
    label: 'PHONE',
    // International (+CC …) or North American (555) 123-4567 / 555-123-4567 / 555.123.4567.
    pattern:
      /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])|(?<![\w$.,-])(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-]|[.,]\d)/g,
    accept: (m) => {
      const n = digitsOf(m).length;
      return n >= 10 && n <= 15;
    },
    normalize: digitsOf,
  },
  {
    type: 'token',
    label: 'TOKEN',
    // Last: 32+ characters of base64/base64url that look machine-made — approval and task
    // tokens, API keys, session ids, hex digests. Word-like runs, placeholders and UUIDs never match.
    pattern: /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])/g,
    accept: looksLikeToken,
  },
];

const LABELS = new Set(DETECTORS.map((d) => d.label));
const PLACEHOLDER = /\[([A-Z_]+)_(\d+)\]/g;

/** The type a placeholder's label stands for (`IP` is both IPv4 and IPv6: the first is named). */
const LABEL_TYPES = new Map<string, PiiType>();
for (const d of DETECTORS) if (!LABEL_TYPES.has(d.label)) LABEL_TYPES.set(d.label, d.type);

/** `[EMAIL_1]` → `email`; undefined for text that is not one of the shield's placeholders. */
export function placeholderType(placeholder: string): PiiType | undefined {
  const m = /^\[([A-Z_]+)_\d+\]$/.exec(placeholder);
  return m ? LABEL_TYPES.get(m[1] ?? '') : undefined;
}

/**
 * Holds the placeholder numbering across every string of one document, so the same value
 * gets the same placeholder wherever it appears. Numbers are per label: IPv4 and IPv6 share `IP`.
 */
export class Scrubber {
  private readonly byValue = new Map<string, string>();
  private readonly next = new Map<string, number>();
  private readonly counts = new Map<PiiType, number>();
  readonly replacements: Record<string, string> = {};

  /** Numbers placeholders already in the input out of the way of new ones (re-scrubbing is safe). */
  reserve(text: string): void {
    for (const [, label, n] of text.matchAll(PLACEHOLDER)) {
      if (label && LABELS.has(label)) this.next.set(label, Math.max(this.next.get(label) ?? 1, Number(n) + 1));
    }
  }

  scrub(text: string): string {
    let out = text;
    for (const d of DETECTORS) {
      out = out.replace(d.pattern, (...args: unknown[]) => {
        const match = args[0] as string;
        const groups = (d.partial ? args[args.length - 1] : undefined) as Record<string, string | undefined> | undefined;
        const value = groups ? (groups.value ?? '') : match;
        if (d.accept && !d.accept(value)) return match;
        const placeholder = this.placeholderFor(d, value);
        this.counts.set(d.type, (this.counts.get(d.type) ?? 0) + 1);
        return groups ? `${groups.pre ?? ''}${placeholder}${groups.post ?? ''}` : placeholder;
      });
    }
    return out;
  }

  /** Counts a redaction made outside the detectors (a known original found in model output). */
  count(type: PiiType): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  private placeholderFor(d: Detector, value: string): string {
    const key = `${d.label}:${d.normalize ? d.normalize(value) : value}`;
    let placeholder = this.byValue.get(key);
    if (!placeholder) {
      const n = this.next.get(d.label) ?? 1;
      this.next.set(d.label, n + 1);
      placeholder = `[${d.label}_${n}]`;
      this.byValue.set(key, placeholder);
      this.replacements[placeholder] = value;
    }
    return placeholder;
  }

  findings(): PiiFinding[] {
    return PII_TYPES.filter((t) => this.counts.has(t)).map((type) => ({ type, count: this.counts.get(type) ?? 0 }));
  }
}

/** Replaces PII in one text; returns the scrubbed text, what was found, and the originals. */
export function scrubPii(text: string): ScrubResult {
  const scrubber = new Scrubber();
  scrubber.reserve(text);
  const scrubbed = scrubber.scrub(text);
  return { text: scrubbed, findings: scrubber.findings(), replacements: scrubber.replacements };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function walk(value: unknown, visit: (s: string) => string, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return visit(value);
  if (Array.isArray(value) || isPlainObject(value)) {
    // JSON has no cycles; refuse one rather than recurse forever.
    if (seen.has(value)) throw new TypeError('redactPii: value contains a cycle');
    seen.add(value);
    const result = Array.isArray(value)
      ? value.map((v) => walk(v, visit, seen))
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [visit(k), walk(v, visit, seen)]));
    seen.delete(value);
    return result;
  }
  // Numbers, booleans, null and non-JSON objects (Date) pass through unchanged.
  return value;
}

/**
 * Deep-copies a JSON value with PII scrubbed from every string (keys included), numbering
 * placeholders consistently across the whole value. For outbound responses and audit data:
 * the originals are not returned.
 */
export function redactPii<T>(value: T): T {
  return scrubDeep(value).value;
}

/**
 * `redactPii` that also returns what it found and the originals, numbered once across the whole
 * value: the inbound shield scrubs the text and the fields as one document, so one placeholder
 * never stands for two values.
 */
export function scrubDeep<T>(value: T, scrubber: Scrubber = new Scrubber()): { value: T; findings: PiiFinding[]; replacements: Record<string, string> } {
  walk(value, (s) => {
    scrubber.reserve(s);
    return s;
  });
  const scrubbed = walk(value, (s) => scrubber.scrub(s)) as T;
  return { value: scrubbed, findings: scrubber.findings(), replacements: scrubber.replacements };
}
