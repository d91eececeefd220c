import { CURRENCY_CODES } from './values';

/**
 * Names as a request writes them: a run of capitalised words. The rules provider reads a
 * vendor's name with these, and the grounding check asks with them whether a proposed name is
 * written as itself or only as the start of a longer one ("Initech" in "Initech Holdings").
 */

/** One capitalised word of a name, in any script ("Initech", "Inc.", "Аcme", "GmbH", "AT&T"). */
export const NAME_WORD = String.raw`\p{Lu}[\p{L}\p{N}_&'.\-]*`;

/** Capitalised words that open a sentence or a value rather than continue a name. */
export const NOT_NAME_WORDS: ReadonlySet<string> = new Set([
  ...CURRENCY_CODES,
  'PO',
  'POs',
  'Customer',
  'Order',
  'The',
  'A',
  'An',
  'I',
  'Please',
  'Thanks',
  'ASAP',
  'Jan', 'January', 'Feb', 'February', 'Mar', 'March', 'Apr', 'April', 'May', 'Jun', 'June', 'Jul', 'July',
  'Aug', 'August', 'Sep', 'Sept', 'September', 'Oct', 'October', 'Nov', 'November', 'Dec', 'December',
  'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
]);

/** The next word of a name on the same line, after an optional joiner ("Bank of Initech"). */
const NEXT_WORD = new RegExp(String.raw`[^\S\r\n]+(?:(?<joiner>of|and|&)[^\S\r\n]+)?(?<word>${NAME_WORD})`, 'uy');

/**
 * No company's name runs on for more words ("Bank of America Merrill Lynch International Designated
 * Activity Company" is nine): a run of capitalised words longer than this is read no further, so
 * every name found in a run of them costs a bounded look.
 */
export const MAX_NAME_WORDS = 12;

/**
 * The capitalised words that continue a name right after `end`, on the same line, as written:
 * " Holdings" after "Initech" in "from Initech Holdings for $900", " Inc" in "Initech Inc.".
 * Empty when the name ends there ("Initech for", "Initech.", "Initech USD 900", "Initech\nPlease").
 * A word ending in punctuation is the last one ("Initech Inc. We …"). With `joiners`, "of",
 * "and" and "&" may join two capitalised words ("Bank| of Initech").
 */
export function nameContinuation(text: string, end: number, options: { joiners?: boolean } = {}): string {
  let at = end;
  for (let words = 1; words < MAX_NAME_WORDS; words++) {
    NEXT_WORD.lastIndex = at;
    const m = NEXT_WORD.exec(text);
    if (!m?.groups || (m.groups.joiner !== undefined && options.joiners !== true)) break;
    const written = m.groups.word ?? '';
    const word = trimName(written);
    if (!word || NOT_NAME_WORDS.has(word)) break;
    at += m[0].length - written.length + word.length;
    if (word !== written) break;
  }
  return text.slice(end, at);
}

/** A name without the punctuation that ends its sentence or clause. */
export function trimName(written: string): string {
  return trimEnd(written, /[.,;:!?'-]/);
}

/**
 * The string without the characters of a class (`/[.,;]/`, one BMP character) at its end. A loop,
 * not `/[…]+$/`: that pattern tries each run of those characters to its end, which costs the
 * square of a long run that does not end the text.
 */
export function trimEnd(s: string, characterClass: RegExp): string {
  let end = s.length;
  while (end > 0 && characterClass.test(s[end - 1] as string)) end--;
  return s.slice(0, end);
}
