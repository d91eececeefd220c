import { createHash } from 'node:crypto';
import type { RecordKey } from '../ports';

/** Every entity of the example system of record lives under sk = META. */
const META = 'META';

/** The record type of an effect's claim on its proposal's fingerprint (`EFFECT#<fingerprint>`): what makes an effect run once. */
export const EFFECT_CLAIM_TYPE = 'EFFECT';

/** The key of an entity of the example system of record: `TYPE#id`. */
export function recordKey(type: string, id: string): RecordKey {
  return { pk: `${type}#${id}`, sk: META };
}

/** 40 bits of sha256 of the request id: record numbers derived from the request, so a retry writes the same record. */
export function requestHash(requestId: string): string {
  return createHash('sha256').update(requestId, 'utf8').digest('hex').slice(0, 10).toUpperCase();
}
