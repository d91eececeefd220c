import * as z from 'zod';
import { ActionDefinitionError, choice, defineAction, freeText, recordId } from '../../../lambdas/shared/catalog';
import { wholeCatalog } from '../../../lambdas/shared/catalog/registry';
import { RULES_CONFIDENCE, readFields } from '../../../lambdas/shared/models/rules';
import { asksForSeveral, correctActionWords, detectActions } from '../../../lambdas/shared/triage';

/*
 * An action that exists only in this file: triage and the rules provider know it from its
 * definition alone, with no change to core code.
 */
const QUEUES = ['billing', 'technical', 'sales', 'security'] as const;
const ticketMove = () =>
  defineAction({
    name: 'ticket_move',
    title: 'ticket move',
    description: 'Moves a support ticket from one queue to another, with a priority and the reason the requester gives.',
    riskClass: 'low',
    fields: z.strictObject({
      ticketId: recordId('ticket', { prefix: 'T-' }),
      fromQueue: choice(QUEUES, { nouns: ['queue'] }),
      toQueue: choice(QUEUES, { nouns: ['queue'] }),
      priority: choice(['low', 'normal', 'high', 'urgent']),
      summary: freeText({ min: 10, max: 500 }),
    }),
    summaryFields: ['ticketId', 'toQueue'],
    examples: [],
    facts: z.object({}),
    receipt: z.object({}),
    policy: {},
    cues: {
      phrases: [/\breassign(?:s|ed|ing)?\b/i],
      words: ['reassign'],
      several: [/\b(?:two|three|several)\s+tickets\b/i],
      change: { from: 'fromQueue', to: 'toQueue' },
    },
  });

const withFake = () => [...wholeCatalog(), ticketMove()];

describe('detection reads each action’s cues from its definition', () => {
  it('names a test-only action by its own phrase, and the seed catalog alone does not', () => {
    const text = 'Reassign T-1234 to the security queue, the customer reports a leaked password';
    expect(detectActions(text, withFake())).toEqual(['ticket_move']);
    expect(detectActions(text)).toEqual([]);
  });

  it('reads a typo of its action word as the word', () => {
    expect(correctActionWords('Please reasign T-1234', withFake())).toBe('Please reassign T-1234');
    expect(correctActionWords('Please reasign T-1234')).toBe('Please reasign T-1234');
    expect(detectActions('Please reasign T-1234 to sales', withFake())).toEqual(['ticket_move']);
  });

  it('names it by a stated change between two values of its choice fields, whatever the verb', () => {
    const text = 'T-1234 should go from the billing queue to security';
    expect(detectActions(text, withFake())).toEqual(['ticket_move']);
    expect(detectActions(text)).toEqual([]);
    // One value alone is no change.
    expect(detectActions('T-1234 is in the billing queue', withFake())).toEqual([]);
  });

  it('lists every action the text names, in catalog order', () => {
    expect(detectActions('Reassign T-1234 and refund $40 on order O-5001 for C-1002', withFake())).toEqual(['refund', 'ticket_move']);
  });

  it('knows a request for several of the action from its own phrasings', () => {
    expect(asksForSeveral(ticketMove(), 'Reassign two tickets to sales')).toBe(true);
    expect(asksForSeveral(ticketMove(), 'Reassign T-1234 to sales')).toBe(false);
  });
});

describe('the rules provider reads a test-only action by its field kinds', () => {
  it('reads an id by its prefix, a change between two choices, a lone choice and the stated reason', () => {
    const text = 'Reassign ticket T-1234 from billing to security queue, priority urgent, because the customer reports a data leak';
    expect(readFields(ticketMove(), text)).toEqual({
      fields: { ticketId: 'T-1234', fromQueue: 'billing', toQueue: 'security', priority: 'urgent', summary: 'the customer reports a data leak' },
      confidence: RULES_CONFIDENCE.complete,
    });
  });

  it('stays below the threshold when a field is missing or said twice', () => {
    const missing = readFields(ticketMove(), 'Reassign ticket T-1234 to security, priority high, because the customer reports a data leak');
    expect(missing.fields).toEqual({ ticketId: 'T-1234', toQueue: 'security', priority: 'high', summary: 'the customer reports a data leak' });
    expect(missing.confidence).toBeLessThan(0.95);

    const twice = readFields(ticketMove(), 'Reassign T-1234 and T-1235 from billing to sales, priority low, because both are sales leads');
    expect(twice.fields).not.toHaveProperty('ticketId');
    expect(twice.confidence).toBeLessThan(0.95);
  });

  it('doubts a request for several of the action even when every field is found', () => {
    const text = 'Reassign two tickets: T-1234 from billing to sales, priority low, because both are sales leads';
    expect(readFields(ticketMove(), text).confidence).toBeLessThan(0.95);
  });
});

describe('defineAction checks a change cue', () => {
  it('refuses a change between fields that are not choices, or that offer different values', () => {
    const base = ticketMove();
    expect(() => defineAction({ ...base, cues: { phrases: [], change: { from: 'ticketId', to: 'toQueue' } } })).toThrow(
      new ActionDefinitionError('ticket_move: change field ticketId is not a choice field'),
    );
    expect(() => defineAction({ ...base, cues: { phrases: [], change: { from: 'priority', to: 'toQueue' } } })).toThrow(
      /change fields priority and toQueue offer different values/,
    );
  });
});
