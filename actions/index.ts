import { purchaseOrder } from './purchase_order/action';
import { refund } from './refund/action';
import { tierUpgrade } from './tier_upgrade/action';

/**
 * The governed actions this deployment offers, in the order the API and the model list them.
 * Adding an action: a folder beside these, and one line here.
 */
export const ACTION_CATALOG = [purchaseOrder, tierUpgrade, refund] as const;
