import { creditLimitChange } from './credit_limit_change/action';
import { purchaseOrder } from './purchase_order/action';
import { refund } from './refund/action';
import { ticketRouting } from './ticket_routing/action';
import { tierUpgrade } from './tier_upgrade/action';

/**
 * The governed actions this deployment offers, in the order the API and the model list them.
 * Adding an action: a folder beside these, and one line here.
 */
export const ACTION_CATALOG = [purchaseOrder, tierUpgrade, refund, ticketRouting, creditLimitChange] as const;

/**
 * The folder holding `<action>/policy.cedar` and `policy.cedarschema`, read when the policy
 * engine first loads. In a Lambda bundle `__dirname` is the bundle's folder (the banner defines
 * it) and the bundling hook copies the files there in the same layout.
 */
export function actionsDir(): string {
  return __dirname;
}
