import type * as z from 'zod/mini';
import { recordKey, requestHash, type BuiltinConnector } from '../../lambdas/shared/catalog';
import { EffectPreconditionFailed } from '../../lambdas/shared/errors';
import type { RecordItem } from '../../lambdas/shared/ports';
import type { TicketFacts, TicketRoutingFields, TicketRoutingReceipt } from './action';

const ticketKey = (ticketId: string) => recordKey('TICKET', ticketId);
const routingKey = (requestId: string) => recordKey('ROUTING', requestId);

function receiptOf(item: RecordItem): z.input<typeof TicketRoutingReceipt> {
  return {
    routingId: String(item.routingId),
    ticketId: String(item.ticketId),
    queue: String(item.queue),
    priority: String(item.priority),
    routedAt: String(item.routedAt),
  };
}

/**
 * Facts: the ticket, with whether it is open. Effect: the ticket's queue and priority, and one
 * routing record per request; `ticketStatus` rather than `status`, a DynamoDB reserved word.
 */
export const ticketRoutingBuiltin: BuiltinConnector<TicketRoutingFields, z.input<typeof TicketFacts>, z.input<typeof TicketRoutingReceipt>> = {
  seed: [
    { type: 'TICKET', id: 'T-2001', attributes: { ticketId: 'T-2001', ticketStatus: 'open', queue: 'technical', priority: 'normal' } },
    { type: 'TICKET', id: 'T-2002', attributes: { ticketId: 'T-2002', ticketStatus: 'closed', queue: 'billing', priority: 'low' } },
  ],

  async facts(fields, records) {
    const item = await records.get(ticketKey(fields.ticketId));
    return item ? { ticket: { ticketId: String(item.ticketId), ticketStatus: String(item.ticketStatus) } } : {};
  },

  async effect({ requestId, fields, at }, records) {
    const key = routingKey(requestId);
    const done = await records.get(key);
    if (done) return receiptOf(done);

    const { ticketId, queue, priority } = fields;
    // The ticket moves only while open, and remembers which request moved it: a retry after a
    // failure between the two writes finds its own move and goes on to record it.
    const moved = await records.updateIf({
      key: ticketKey(ticketId),
      update: 'SET queue = :queue, priority = :priority, routedBy = :rid',
      condition: 'attribute_exists(pk) AND ticketStatus = :open',
      values: { ':queue': queue, ':priority': priority, ':rid': requestId, ':open': 'open' },
    });
    if (!moved) {
      const ticket = await records.get(ticketKey(ticketId));
      if (!ticket) throw new EffectPreconditionFailed('ticket_not_found', `Ticket ${ticketId} does not exist.`);
      if (ticket.routedBy !== requestId) throw new EffectPreconditionFailed('ticket_closed', `Ticket ${ticketId} is closed.`);
    }
    const routing = { ...key, routingId: `TR-${requestHash(requestId)}`, requestId, ticketId, queue, priority, routedAt: at };
    if (!(await records.putIfAbsent(routing))) return receiptOf((await records.get(key)) ?? routing);
    return receiptOf(routing);
  },
};
