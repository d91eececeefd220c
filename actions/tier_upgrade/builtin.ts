import type * as z from 'zod/mini';
import { recordKey, type BuiltinConnector } from '../../lambdas/shared/catalog';
import { EffectPreconditionFailed } from '../../lambdas/shared/errors';
import type { RecordItem, RecordKey, RecordTable } from '../../lambdas/shared/ports';
import type { CustomerTier } from '../../lambdas/shared/schemas/customers';
import type { TierUpgradeFacts, TierUpgradeFields, TierUpgradeReceipt } from './action';

type Facts = z.input<typeof TierUpgradeFacts>;
type Receipt = z.input<typeof TierUpgradeReceipt>;

export const tierChangeKey = (requestId: string) => recordKey('TIERCHANGE', requestId);
const customerKey = (customerId: string) => recordKey('CUSTOMER', customerId);

/** A change recorded on the customer to take effect on `on`, by request `requestId`. */
interface ScheduledChange {
  tier: string;
  on: string;
  requestId: string;
}

function scheduleOf(customer: RecordItem): ScheduledChange | undefined {
  const { scheduledTier: tier, scheduledOn: on, scheduledRequestId: requestId } = customer;
  return typeof tier === 'string' && typeof on === 'string' && typeof requestId === 'string' ? { tier, on, requestId } : undefined;
}

/**
 * The customer as of `today` (UTC, `YYYY-MM-DD`): a scheduled change whose date has come is its
 * tier, though the record may not show it yet (the next effect on the customer writes it); one
 * not yet due is `scheduled`.
 */
export function customerAsOf(customer: RecordItem, today: string): NonNullable<Facts['customer']> {
  const schedule = scheduleOf(customer);
  const due = schedule !== undefined && schedule.on <= today;
  return {
    customerId: customer.customerId as string,
    tier: (due ? schedule.tier : customer.tier) as CustomerTier,
    ...(schedule && !due ? { scheduled: { tier: schedule.tier as CustomerTier, effectiveDate: schedule.on } } : {}),
  };
}

function receiptOf(item: RecordItem): Receipt {
  return {
    customerId: item.customerId as string,
    fromTier: item.fromTier as string,
    toTier: item.toTier as string,
    effectiveDate: item.effectiveDate as string,
    // Change records written before scheduling existed have no status.
    ...(item.status === 'applied' || item.status === 'scheduled' ? { status: item.status } : {}),
  };
}

/** Writes a scheduled change that is due into the tier; a no-op when another effect did it first. */
async function applyDueChange(records: RecordTable, key: RecordKey, customer: RecordItem, today: string): Promise<void> {
  const schedule = scheduleOf(customer);
  if (!schedule || schedule.on > today) return;
  await records.updateIf({
    key,
    update: 'SET tier = :to, tierEffectiveDate = :on, lastUpgradeRequestId = :rid REMOVE scheduledTier, scheduledOn, scheduledRequestId',
    condition: 'scheduledRequestId = :rid AND scheduledOn = :on',
    values: { ':to': schedule.tier, ':on': schedule.on, ':rid': schedule.requestId },
  });
}

/** Why the conditional write failed, read from the customer as it is now. */
async function refusal(records: RecordTable, key: RecordKey, fields: TierUpgradeFields, today: string): Promise<EffectPreconditionFailed> {
  const { customerId, currentTier } = fields;
  const item = await records.get(key);
  if (!item) return new EffectPreconditionFailed('customer_not_found', `Customer ${customerId} does not exist.`);
  const scheduled = customerAsOf(item, today).scheduled;
  if (scheduled) {
    return new EffectPreconditionFailed(
      'tier_change_scheduled',
      `Customer ${customerId} already has a change to ${scheduled.tier} scheduled for ${scheduled.effectiveDate}; a second one waits until it takes effect.`,
    );
  }
  return new EffectPreconditionFailed('tier_mismatch', `Customer ${customerId} is no longer on tier ${currentTier}.`);
}

/**
 * Facts: the customer and its tier as of the decision's day, with a change still to come.
 * Effect: a change dated after the effect's day is scheduled on the customer (the tier stays);
 * one dated that day or earlier moves the tier. Once per request, and a change record says which.
 */
export const tierUpgradeBuiltin: BuiltinConnector<TierUpgradeFields, Facts, Receipt> = {
  async facts(fields, records, context) {
    const customer = await records.get(customerKey(fields.customerId));
    // A caller that names no day reads the records as of the clock's.
    return customer ? { customer: customerAsOf(customer, context?.today ?? new Date().toISOString().slice(0, 10)) } : {};
  },

  async effect({ requestId, fields, at }, records) {
    const changeKey = tierChangeKey(requestId);
    const done = await records.get(changeKey);
    if (done) return receiptOf(done);

    const { customerId, currentTier, targetTier, effectiveDate } = fields;
    const key = customerKey(customerId);
    const today = at.slice(0, 10);
    const customer = await records.get(key);
    if (!customer) throw new EffectPreconditionFailed('customer_not_found', `Customer ${customerId} does not exist.`);
    // A change that has come due is the tier this one moves from.
    await applyDueChange(records, key, customer, today);

    const status = effectiveDate > today ? 'scheduled' : 'applied';
    const values = { ':to': targetTier, ':date': effectiveDate, ':rid': requestId, ':from': currentTier };
    // Either way the customer must be on `currentTier` with no change pending. The second
    // alternative is our own earlier attempt, which wrote and failed before recording it: writing
    // the same values again changes nothing (`tier = :to`: never undo a newer change).
    const written = await records.updateIf(
      status === 'scheduled'
        ? {
            key,
            update: 'SET scheduledTier = :to, scheduledOn = :date, scheduledRequestId = :rid',
            condition: 'attribute_exists(pk) AND ((tier = :from AND attribute_not_exists(scheduledTier)) OR scheduledRequestId = :rid)',
            values,
          }
        : {
            key,
            update: 'SET tier = :to, tierEffectiveDate = :date, lastUpgradeRequestId = :rid',
            condition: 'attribute_exists(pk) AND ((tier = :from AND attribute_not_exists(scheduledTier)) OR (lastUpgradeRequestId = :rid AND tier = :to))',
            values,
          },
    );
    if (!written) throw await refusal(records, key, fields, today);

    const change = { ...changeKey, requestId, customerId, fromTier: currentTier, toTier: targetTier, effectiveDate, status, at };
    if (!(await records.putIfAbsent(change))) return receiptOf((await records.get(changeKey)) ?? change);
    return receiptOf(change);
  },
};
