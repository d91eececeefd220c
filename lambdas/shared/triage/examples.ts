import type { ActionDefinition } from '../catalog/define';

/*
 * Action detection learned from the catalog's example requests: TF-IDF over word and character
 * n-grams, one centroid per action, cosine similarity. A handful of examples per action is too
 * few for a discriminative model to be trusted, but enough for a nearest-centroid reading that
 * says how much a text reads like each action's examples. Built once per catalog, in memory:
 * there is no training step and nothing is written.
 */

/** What the classifier learns from: each action's name and its example requests. */
export type ExampleAction = Pick<ActionDefinition, 'name' | 'examples'>;

/** How much a text reads like one action's examples: cosine similarity in [0, 1]. */
export interface ActionSimilarity {
  readonly action: string;
  readonly similarity: number;
}

export interface ExampleReading {
  /** Every action that has examples, most similar first. */
  readonly ranked: readonly ActionSimilarity[];
  /** The most similar action's similarity minus the next one's (its own similarity when it is alone). */
  readonly margin: number;
}

export interface ExampleClassifier {
  read(text: string): ExampleReading;
}

type Vector = Map<string, number>;

/** Character n-grams of each word, as "char_wb" does: typos and inflections still share most of them. */
const CHAR_GRAMS = [3, 4, 5] as const;

/**
 * The text's terms: lower-cased words (digits folded to `0`, so `C-1002` and `C-1003` are the
 * same shape) as unigrams and bigrams, and the character n-grams of each word padded with spaces.
 */
export function exampleTerms(text: string): string[] {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\d+(?:[.,]\d+)*/g, '0')
    .match(/[\p{L}\p{N}$€£¥₹]+(?:[-'’][\p{L}\p{N}]+)*/gu) ?? [];
  const terms: string[] = [];
  for (const [i, word] of words.entries()) {
    terms.push(`w:${word}`);
    if (i > 0) terms.push(`b:${words[i - 1]} ${word}`);
    const padded = ` ${word} `;
    for (const n of CHAR_GRAMS) for (let at = 0; at + n <= padded.length; at++) terms.push(`c:${padded.slice(at, at + n)}`);
  }
  return terms;
}

function counts(terms: readonly string[]): Vector {
  const out: Vector = new Map();
  for (const t of terms) out.set(t, (out.get(t) ?? 0) + 1);
  return out;
}

function normalised(v: Vector): Vector {
  let norm = 0;
  for (const x of v.values()) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) return v;
  for (const [k, x] of v) v.set(k, x / norm);
  return v;
}

/** Sublinear term frequency times inverse document frequency; terms no example has are dropped. */
function weigh(terms: Vector, idf: ReadonlyMap<string, number>): Vector {
  const out: Vector = new Map();
  for (const [t, n] of terms) {
    const w = idf.get(t);
    if (w !== undefined) out.set(t, (1 + Math.log(n)) * w);
  }
  return normalised(out);
}

function dot(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [k, x] of small) sum += x * (large.get(k) ?? 0);
  return sum;
}

/** The classifier of a catalog's examples: actions without examples are never read. */
export function exampleClassifier(catalog: readonly ExampleAction[]): ExampleClassifier {
  const documents = catalog.flatMap((action) => action.examples.map((example) => ({ action: action.name, terms: counts(exampleTerms(example.text)) })));
  const df = new Map<string, number>();
  for (const doc of documents) for (const t of doc.terms.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const idf = new Map<string, number>();
  for (const [t, n] of df) idf.set(t, Math.log((1 + documents.length) / (1 + n)) + 1);

  const centroids = new Map<string, Vector>();
  for (const doc of documents) {
    const centroid = centroids.get(doc.action) ?? new Map<string, number>();
    for (const [t, w] of weigh(doc.terms, idf)) centroid.set(t, (centroid.get(t) ?? 0) + w);
    centroids.set(doc.action, centroid);
  }
  for (const centroid of centroids.values()) normalised(centroid);

  return {
    read(text) {
      const v = weigh(counts(exampleTerms(text)), idf);
      const ranked = [...centroids]
        .map(([action, centroid]) => ({ action, similarity: Math.max(0, Math.min(1, dot(v, centroid))) }))
        .sort((a, b) => b.similarity - a.similarity);
      const margin = (ranked[0]?.similarity ?? 0) - (ranked[1]?.similarity ?? 0);
      return { ranked, margin };
    },
  };
}

/** Leave-one-out accuracy: each example read by a classifier built from all the others. */
export function leaveOneOutAccuracy(catalog: readonly ExampleAction[]): { correct: number; total: number; misread: { action: string; text: string; read: string }[] } {
  const misread: { action: string; text: string; read: string }[] = [];
  let total = 0;
  for (const [a, action] of catalog.entries()) {
    for (const [e, example] of action.examples.entries()) {
      const rest = catalog.map((other, o) => (o === a ? { ...other, examples: other.examples.filter((_, i) => i !== e) } : other));
      const read = exampleClassifier(rest).read(example.text).ranked[0]?.action ?? '';
      total++;
      if (read !== action.name) misread.push({ action: action.name, text: example.text, read });
    }
  }
  return { correct: total - misread.length, total, misread };
}
