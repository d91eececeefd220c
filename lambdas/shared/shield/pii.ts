/**
 * The PII shield: replaces personal data and secrets with typed placeholders (`[EMAIL_1]`)
 * before text reaches a model, a log or the audit trail. Each detector is tight enough to
 * leave Warden's own vocabulary alone: amounts ($7,850), dates (2027-01-01) and ids (C-1001,
 * O-5001) never match, and numbers that could be cards or IBANs must pass their checksums.
 */

export const PII_TYPES = ['jwt', 'aws_access_key', 'email', 'iban', 'card', 'ssn', 'ipv4', 'phone'] as const;
export type PiiType = (typeof PII_TYPES)[number];

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
  /** A checksum or range test on the match; a failed test leaves the text as it is. */
  accept?: (match: string) => boolean;
  /** The form two spellings of one value share (`4111 1111…` and `41111…` are one card). */
  normalize?: (match: string) => string;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

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
    // together. Dates and ids never have these shapes; the Luhn check rejects most others.
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
];

const LABEL_TYPES = new Map(DETECTORS.map((d) => [d.label, d.type]));
const PLACEHOLDER = /\[([A-Z_]+)_(\d+)\]/g;

/**
 * Holds the placeholder numbering across every string of one document, so the same value
 * gets the same placeholder wherever it appears.
 */
class Scrubber {
  private readonly byValue = new Map<string, string>();
  private readonly next = new Map<PiiType, number>();
  private readonly counts = new Map<PiiType, number>();
  readonly replacements: Record<string, string> = {};

  /** Numbers placeholders already in the input out of the way of new ones (re-scrubbing is safe). */
  reserve(text: string): void {
    for (const [, label, n] of text.matchAll(PLACEHOLDER)) {
      const type = LABEL_TYPES.get(label ?? '');
      if (type) this.next.set(type, Math.max(this.next.get(type) ?? 1, Number(n) + 1));
    }
  }

  scrub(text: string): string {
    let out = text;
    for (const d of DETECTORS) {
      out = out.replace(d.pattern, (match: string) => {
        if (d.accept && !d.accept(match)) return match;
        const key = `${d.type}:${d.normalize ? d.normalize(match) : match}`;
        let placeholder = this.byValue.get(key);
        if (!placeholder) {
          const n = this.next.get(d.type) ?? 1;
          this.next.set(d.type, n + 1);
          placeholder = `[${d.label}_${n}]`;
          this.byValue.set(key, placeholder);
          this.replacements[placeholder] = match;
        }
        this.counts.set(d.type, (this.counts.get(d.type) ?? 0) + 1);
        return placeholder;
      });
    }
    return out;
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

function walk(value: unknown, visit: (s: string) => string, seen: WeakSet<object>): unknown {
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
  const scrubber = new Scrubber();
  walk(
    value,
    (s) => {
      scrubber.reserve(s);
      return s;
    },
    new WeakSet(),
  );
  return walk(value, (s) => scrubber.scrub(s), new WeakSet()) as T;
}
