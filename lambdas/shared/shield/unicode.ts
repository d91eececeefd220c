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

/**
 * Letters a reader takes for Latin ones, as that letter (a dotless ı, Cyrillic і, а, е, о, р, с,
 * Greek ο, α…): "ıgnore" and "іgnore" read as "ignore". Those that NFKD leaves alone; accented
 * letters and full-width or mathematical ones NFKD already takes apart. Data: extend the map.
 */
export const CONFUSABLES: Readonly<Record<string, string>> = {
  ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŧ: 't', ɑ: 'a', ɡ: 'g', ɩ: 'i', ɪ: 'i', ʟ: 'l', ᴀ: 'a', ᴇ: 'e', ᴏ: 'o', ʀ: 'r', ß: 'ss',
  а: 'a', в: 'b', е: 'e', і: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l',
  А: 'A', В: 'B', Е: 'E', І: 'I', Ј: 'J', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', Ѕ: 'S',
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};

const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'gu');
const COMBINING_MARK = /\p{M}/gu;
/** Three or more single letters, one separator apart: "i g n o r e", "i.g.n.o.r.e", "i-g-n-o-r-e". */
const SPACED_LETTERS = /(?<![\p{L}\p{N}])\p{L}(?:[ .\-_*·]\p{L}(?![\p{L}\p{N}])){2,}/gu;
const NOT_A_LETTER = /[^\p{L}]/gu;

/** NFKD without combining marks ("ignóre"), invisible characters or confusables ("ıgnore"): the letters a reader sees. */
function readerLetters(text: string): string {
  return text
    .normalize('NFKD')
    .replace(COMBINING_MARK, '')
    .replace(INVISIBLE_GLOBAL, '')
    .replace(CONFUSABLE, (ch) => CONFUSABLES[ch] ?? ch);
}

/**
 * The text as a reader sees its letters, for the injection checks only: `readerLetters`, and
 * letters spaced out one by one written together ("i g n o r e"). Each step is one pass over the
 * text. What the skeleton trips only ever sends a request to a human.
 */
export function skeleton(text: string): string {
  return readerLetters(text).replace(SPACED_LETTERS, (run) => run.replace(NOT_A_LETTER, ''));
}

/** The words the text spells out letter by letter ("i g n o r e a l l" → "ignoreall"), lower case. */
export function spacedOutWords(text: string): string[] {
  return [...readerLetters(text).matchAll(SPACED_LETTERS)].map((m) => m[0].replace(NOT_A_LETTER, '').toLowerCase());
}
