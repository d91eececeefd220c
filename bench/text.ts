import { performance } from 'node:perf_hooks';
import { actionDefinition } from '../lambdas/shared/catalog/registry';
import { RulesProvider } from '../lambdas/shared/models/rules';
import type { ActionName, Proposal } from '../lambdas/shared/schemas/actions';
import { injectionSignals, triageRequest } from '../lambdas/shared/triage';
import { findUngroundedFields } from '../lambdas/shared/validation/grounding';
import { HOSTILE_TEXT } from './budgets';
import { percentile, round } from './stats';

/**
 * What reading a hostile text costs: each step that scans a request's words (triage, the rules
 * provider, grounding, the inbound injection signals), timed over texts of the API's full length
 * built to make a scanner backtrack or rescan (issue 12, finding 5). In process, no stack.
 */

/** The API's cap on `text`: the longest a hostile request can be. */
const TEXT_CHARS = 4000;

/** A request opening that names the action, then a unit repeated up to the API's cap (less the closing). */
function filled(opening: string, unit: string, closing = ''): string {
  return (opening + unit.repeat(Math.ceil(TEXT_CHARS / unit.length))).slice(0, TEXT_CHARS - closing.length) + closing;
}

const PO = 'Create a PO for Initech for $100 ';
const TIER = 'Upgrade customer C-1001 from basic to standard ';
const REFUND = 'Refund $120 on order O-5001 for customer C-1002 ';

export const ADVERSARIAL_TEXTS: readonly { name: string; action: ActionName; text: string }[] = [
  { name: 'amounts 1€', action: 'purchase_order', text: filled(PO, '1€') },
  { name: 'amounts €1', action: 'purchase_order', text: filled(PO, '€1') },
  { name: 'amounts 1₹', action: 'purchase_order', text: filled(PO, '1₹') },
  { name: 'amounts 1€—', action: 'purchase_order', text: filled(PO, '1€—') },
  { name: 'amounts $1 ', action: 'purchase_order', text: filled(PO, '$1 ') },
  { name: 'bare numbers', action: 'purchase_order', text: filled(PO, '1 ') },
  { name: 'digit groups', action: 'purchase_order', text: filled(PO, '1 000 ') },
  { name: 'comma groups', action: 'purchase_order', text: filled(PO, '1,000') },
  { name: 'apostrophes', action: 'purchase_order', text: filled(PO, "1'") },
  { name: 'one long number', action: 'purchase_order', text: filled(PO, '1') },
  { name: 'number words', action: 'purchase_order', text: filled(PO, 'one ') },
  { name: 'dates', action: 'purchase_order', text: filled(PO, '2027-01-01 ') },
  { name: 'written dates', action: 'purchase_order', text: filled(PO, '1 Jan 2027 ') },
  { name: 'known vendor', action: 'purchase_order', text: filled(PO, 'Initech ') },
  { name: 'vendor places', action: 'purchase_order', text: filled(PO, 'for Acme ') },
  { name: 'capitalised words', action: 'purchase_order', text: filled(PO, 'For Acme ') },
  { name: 'recurring', action: 'purchase_order', text: filled(PO, '$1 per month for 12 months ') },
  { name: 'record ids', action: 'refund', text: filled(REFUND, 'O-5001 C-1002 ') },
  { name: 'id words', action: 'refund', text: filled(REFUND, 'customer order ') },
  { name: 'tier changes', action: 'tier_upgrade', text: filled(TIER, 'from basic to premium ') },
  { name: 'injection words', action: 'purchase_order', text: filled(PO, 'ignore all the ') },
  { name: 'spaced letters', action: 'purchase_order', text: filled(PO, 'i g n o r e ') },
  { name: 'punctuation', action: 'purchase_order', text: filled(PO, ', ') },
  { name: 'punctuation run', action: 'refund', text: filled(`${REFUND}because `, ', ', 'x') },
  { name: 'connector run', action: 'refund', text: filled(`${REFUND}because `, 'for the ', 'x') },
  { name: 'verb phrases', action: 'purchase_order', text: filled(PO, 'please buy ') },
  { name: 'questions', action: 'purchase_order', text: filled(PO, 'did we raise ', '?') },
  { name: 'one long word', action: 'purchase_order', text: filled(PO, 'a') },
];

const STEPS = ['triage', 'rules', 'grounding', 'injection'] as const;
export type TextStep = (typeof STEPS)[number];

export interface TextRow {
  input: string;
  /** p99 ms per step over the runs. */
  p99Ms: Record<TextStep, number>;
  met: boolean;
}

export interface TextResults {
  runs: number;
  budgetMs: number;
  chars: number;
  rows: TextRow[];
  met: boolean;
}

const rules = new RulesProvider();
const requestedBy = { sub: 'bench', roles: [] };

async function timeSteps(text: string, action: ActionName): Promise<Record<TextStep, number>> {
  // Grounding checks the action's first example: a proposal with a value of each of its field kinds.
  const proposal = { action, fields: actionDefinition(action).examples[0]?.fields ?? {} } as Proposal;
  const ms: Partial<Record<TextStep, number>> = {};
  const time = async (step: TextStep, run: () => unknown) => {
    const start = performance.now();
    await run();
    ms[step] = performance.now() - start;
  };
  await time('triage', () => triageRequest({ text, requestedBy }));
  await time('rules', () => rules.propose({ text, tier: 'low' }));
  await time('grounding', () => findUngroundedFields(proposal, text));
  await time('injection', () => injectionSignals(text));
  return ms as Record<TextStep, number>;
}

export async function measureTextScanning(options: { runs: number }): Promise<TextResults> {
  const rows: TextRow[] = [];
  for (const input of ADVERSARIAL_TEXTS) {
    await timeSteps(input.text, input.action);
    const samples: Record<TextStep, number[]> = { triage: [], rules: [], grounding: [], injection: [] };
    for (let run = 0; run < options.runs; run++) {
      const ms = await timeSteps(input.text, input.action);
      for (const step of STEPS) samples[step].push(ms[step]);
    }
    const p99Ms = Object.fromEntries(STEPS.map((step) => [step, round(percentile(samples[step], 99), 2)])) as Record<TextStep, number>;
    rows.push({ input: input.name, p99Ms, met: STEPS.every((step) => p99Ms[step] < HOSTILE_TEXT.p99Ms) });
  }
  return { runs: options.runs, budgetMs: HOSTILE_TEXT.p99Ms, chars: TEXT_CHARS, rows, met: rows.every((r) => r.met) };
}

export const TEXT_STEPS = STEPS;
