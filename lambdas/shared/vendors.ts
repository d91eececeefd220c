/**
 * How Warden compares vendor names: Unicode-compatibility normalised (NFKC), trimmed, inner
 * whitespace collapsed to one space, lower-cased. The system of record's key, the policy's
 * validated-vendor check, the proposal fingerprint and the rules extraction all use this one
 * function, so "ALPHA  tech Systems" is the same vendor everywhere or nowhere.
 */
export function vendorKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Whether two names denote the same vendor. */
export function sameVendor(a: string, b: string): boolean {
  return vendorKey(a) === vendorKey(b);
}
