/** A plain object's shape (not null, not an array): what a parsed JSON object or a stored map is. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
