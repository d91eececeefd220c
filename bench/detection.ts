import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { wholeCatalog } from '../lambdas/shared/catalog/registry';
import { classifierOf, detectActions, leaveOneOutAccuracy, readActions } from '../lambdas/shared/triage';

/**
 * `npx tsx bench/detection.ts`: what the examples' classifier costs and how well it reads.
 * Leave-one-out accuracy over the catalog's examples, the one-off cost of building it, and the
 * time per triage call (`readActions`, which runs on every free-text request) next to the cues
 * alone (`detectActions`), over the eval sets' texts. A figure to read, not a test to pass.
 */

const texts = ['requests.jsonl', 'holdout.jsonl'].flatMap((file) =>
  readFileSync(join(__dirname, '..', 'evals', file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text),
);

function perCallMicros(read: (text: string) => unknown, rounds: number): number {
  for (const text of texts) read(text);
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const text of texts) read(text);
  return ((performance.now() - start) * 1000) / (rounds * texts.length);
}

const loo = leaveOneOutAccuracy(wholeCatalog());
const buildStart = performance.now();
classifierOf([...wholeCatalog()]);
const buildMs = performance.now() - buildStart;
const ROUNDS = 20;
const cues = perCallMicros((text) => detectActions(text), ROUNDS);
const both = perCallMicros((text) => readActions(text), ROUNDS);

console.log(`examples: ${wholeCatalog().map((a) => `${a.name} ${a.examples.length}`).join(', ')}`);
console.log(`leave-one-out accuracy: ${loo.correct}/${loo.total} (${((100 * loo.correct) / loo.total).toFixed(1)}%)`);
for (const m of loo.misread) console.log(`  misread ${m.action} as ${m.read}: ${m.text}`);
console.log(`build once per catalog: ${buildMs.toFixed(2)} ms`);
console.log(`per call over ${texts.length} eval texts × ${ROUNDS}: cues alone ${cues.toFixed(1)} µs, cues + examples ${both.toFixed(1)} µs (+${(both - cues).toFixed(1)} µs)`);
