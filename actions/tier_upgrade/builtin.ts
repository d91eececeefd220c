import type * as z from 'zod';
import { recordKey, type BuiltinConnector } from '../../lambdas/shared/catalog';
import { EffectPreconditionFailed } from '../../lambdas/shared/errors';
import type { RecordItem } from '../../lambdas/shared/ports';
import type { TierUpgradeFacts, TierUpgradeFields, TierUpgradeReceipt } from './action';

export const tierChangeKey = (requestId: string) => recordKey('TIERCHANGE', requestId);

function receiptOf(item: RecordItem): z.input<typeof TierUpgradeReceipt> {
  return {
    customerId: item.customerId as string,
    fromTier: item.fromTier as string,
    toTier: item.toTier as string,
    effectiveDate: item.effectiveDate as string,
  };
}

/** Facts: the customer and its tier. Effect: the customer's tier moves once, and a change record says so. */
export const tierUpgradeBuiltin: BuiltinConnector<TierUpgradeFields, z.input<typeof TierUpgradeFacts>, z.input<typeof TierUpgradeReceipt>> = {
  async facts(fields, records) {
    const customer = await records.getCustomer(fields.customerId);
    return customer ? { customer } : {};
  },

  async effect({ requestId, fields, at }, records) {
    const changeKey = tierChangeKey(requestId);
    const done = await records.get(changeKey);
    if (done) return receiptOf(done);

    const { customerId, currentTier, targetTier, effectiveDate } = fields;
    const customerKey = recordKey('CUSTOMER', customerId);
    const moved = await records.updateIf({
      key: customerKey,
      update: 'SET tier = :to, tierEffectiveDate = :date, lastUpgradeRequestId = :rid',
      // `lastUpgradeRequestId = :rid AND tier = :to`: our own earlier attempt already moved
      // the tier (then failed before recording it) and nothing moved it since; writing the
      // same values again changes nothing. Without `tier = :to` a retry could undo a newer change.
      condition: 'attribute_exists(pk) AND (tier = :from OR (lastUpgradeRequestId = :rid AND tier = :to))',
      values: { ':to': targetTier, ':date': effectiveDate, ':rid': requestId, ':from': currentTier },
    });
    if (!moved) {
      if (!(await records.get(customerKey))) {
        throw new EffectPreconditionFailed('customer_not_found', `Customer ${customerId} does not exist.`);
      }
      throw new EffectPreconditionFailed('tier_mismatch', `Customer ${customerId} is no longer on tier ${currentTier}.`);
    }
    const change = { ...changeKey, requestId, customerId, fromTier: currentTier, toTier: targetTier, effectiveDate, at };
    if (!(await records.putIfAbsent(change))) return receiptOf((await records.get(changeKey)) ?? change);
    return receiptOf(change);
  },
};
