import * as z from 'zod/mini';
import policy from './policy.json';
import { choice, defineAction, freeText, recordId } from '../../lambdas/shared/catalog';
import { ticketRoutingBuiltin } from './builtin';

const fields = z.strictObject({
  ticketId: recordId('ticket', { prefix: 'T-' }).check(z.regex(/^T-\d{4,8}$/, 'must be T- and 4 to 8 digits')),
  queue: choice(['billing', 'technical', 'sales', 'security'], { nouns: ['queue', 'team'] }),
  priority: choice(['low', 'normal', 'high', 'urgent'], { nouns: ['priority'] }),
  summary: freeText({ min: 10, max: 500 }),
});
export type TicketRoutingFields = z.output<typeof fields>;

/** The ticket on file, with whether it is open; absent when there is none. */
export const TicketFacts = z.object({
  ticket: z.optional(z.object({ ticketId: z.string().check(z.minLength(1)), ticketStatus: z.string().check(z.minLength(1)) })),
});

/** Where the ticket now is, and when it was moved. */
export const TicketRoutingReceipt = z.object({
  routingId: z.string().check(z.minLength(1), z.maxLength(128)),
  ticketId: z.string(),
  queue: z.string(),
  priority: z.string(),
  routedAt: z.string(),
});

export const ticketRouting = defineAction({
  name: 'ticket_routing',
  title: 'ticket routing',
  description:
    'Moves an open support ticket to a queue (billing, technical, sales or security) with a priority and a short ' +
    'summary of why. Routing runs with no human, except into the security queue, which a support-lead approves.',
  policy,
  riskClass: 'low',
  fields,
  summaryFields: ['ticketId', 'queue', 'priority'],
  cues: {
    phrases: [
      /\b(?:route|routes|routed|routing|assign|assigned|send|move|escalate|transfer)\b[^.;!?]{0,20}?\bticket\b/i,
      /\bticket\s+T-\d{4,8}\b/i,
      /\broute\b/i,
    ],
    words: ['route'],
    plurals: ['tickets'],
  },
  examples: [
    {
      text: 'Route ticket T-2001 with normal priority to billing, customer was charged twice this month',
      fields: { ticketId: 'T-2001', queue: 'billing', priority: 'normal', summary: 'customer was charged twice this month' },
    },
    {
      text: 'Please assign high priority ticket T-2001 to technical, login fails after the password reset',
      fields: { ticketId: 'T-2001', queue: 'technical', priority: 'high', summary: 'login fails after the password reset' },
    },
    {
      text: 'Low priority: send ticket T-2001 to sales - customer asks about volume pricing',
      fields: { ticketId: 'T-2001', queue: 'sales', priority: 'low', summary: 'customer asks about volume pricing' },
    },
    {
      text: 'Move ticket T-2001, priority urgent, to security, suspected account takeover',
      fields: { ticketId: 'T-2001', queue: 'security', priority: 'urgent', summary: 'suspected account takeover' },
    },
    {
      text: 'route T-2001 at priority urgent to technical because the export job crashes every night',
      fields: { ticketId: 'T-2001', queue: 'technical', priority: 'urgent', summary: 'the export job crashes every night' },
    },
    {
      text: 'Priority low: route ticket T-2001 to billing; invoice address needs updating',
      fields: { ticketId: 'T-2001', queue: 'billing', priority: 'low', summary: 'invoice address needs updating' },
    },
  ],
  facts: TicketFacts,
  receipt: TicketRoutingReceipt,
  builtin: ticketRoutingBuiltin,
});
