/**
 * JSON with object keys sorted (recursively) and no whitespace, so the same value always
 * serialises to the same text however it was built or round-tripped through a store. The one
 * serialisation Warden hashes: audit entries, idempotency bodies and proposal fingerprints.
 * Follows JSON.stringify's rules for what is dropped (undefined, functions) or nulled (NaN, ±Infinity).
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  // Only a top-level undefined/function has no JSON form; nothing Warden hashes is one.
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

function canonicalize(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') throw new TypeError('BigInt has no JSON representation');
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalize(item) ?? 'null').join(',')}]`;
  }
  const members: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const member = canonicalize((value as Record<string, unknown>)[key]);
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${members.join(',')}}`;
}
