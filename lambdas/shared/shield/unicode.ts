/**
 * Unicode hygiene for the shields: every check runs on NFKC text, so full-width digits and
 * letters (`＄７，８５０`, `ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`) meet the same detectors as ASCII.
 */

/**
 * Characters a reviewer cannot see: zero-width and joiners, bidi controls, soft hyphen, word
 * joiner and invisible operators, BOM, fillers, variation selectors and Unicode tag characters
 * (which can spell out whole instructions invisibly). Data: extend the class, not the code.
 */
export const INVISIBLE_CHARACTERS =
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/u;

const INVISIBLE_GLOBAL = new RegExp(INVISIBLE_CHARACTERS.source, 'gu');

export function normalizeUnicode(text: string): string {
  return text.normalize('NFKC');
}

/** How many invisible characters the text holds. */
export function countInvisible(text: string): number {
  return text.match(INVISIBLE_GLOBAL)?.length ?? 0;
}

/** The text without its invisible characters: what a reviewer sees is what a model reads. */
export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE_GLOBAL, '');
}
