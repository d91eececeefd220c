/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * The governed actions this deployment offers, in the order the API and the model list them:
 * each as its folder's name and its definition, loaded on first use (esbuild bundles a `require()`
 * as a module evaluated when it is called). A handler builds the schemas of the actions its
 * requests name, not the whole catalog at import; the registry checks each name on loading.
 * Adding an action: a folder beside these, and one line here.
 */
export const ACTION_CATALOG = [
  ['purchase_order', () => (require('./purchase_order/action') as typeof import('./purchase_order/action')).purchaseOrder],
  ['tier_upgrade', () => (require('./tier_upgrade/action') as typeof import('./tier_upgrade/action')).tierUpgrade],
  ['refund', () => (require('./refund/action') as typeof import('./refund/action')).refund],
  ['ticket_routing', () => (require('./ticket_routing/action') as typeof import('./ticket_routing/action')).ticketRouting],
  ['credit_limit_change', () => (require('./credit_limit_change/action') as typeof import('./credit_limit_change/action')).creditLimitChange],
] as const;

/**
 * The folder holding `<action>/policy.cedar` and `policy.cedarschema`, read when the policy
 * engine first loads. In a Lambda bundle `__dirname` is the bundle's folder (the banner defines
 * it) and the bundling hook copies the files there in the same layout.
 */
export function actionsDir(): string {
  return __dirname;
}
