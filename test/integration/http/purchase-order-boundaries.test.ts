import { useTestServer } from '../../support/http-client';

/**
 * The purchase-order policy's boundaries for one order (DESIGN.md §3), each met by an order that
 * is its requester's first to the vendor: limits are cumulative (cumulative-limits.test.ts), so
 * each case has a requester of its own. The one that runs with no human is the only order to
 * its vendor here: what waits for an approver counts against a vendor's autonomous limit too.
 */

const procurement = { sub: 'pb-pat', roles: ['procurement-manager'] };
const finance = { sub: 'pb-fran', roles: ['finance-director'] };

const { client } = useTestServer();

it.each([
  [4999.99, 'auto', 'Initech'],
  [5000, 'procurement-manager', 'Globex Corporation'],
  [49_999.99, 'procurement-manager', 'Globex Corporation'],
  [50_000, 'finance-director', 'Globex Corporation'],
  [1_000_000, 'finance-director', 'Globex Corporation'],
  [1_000_000.01, 'out_of_range', 'Globex Corporation'],
] as const)('at the boundary %d the outcome is %s', async (amount, expected, vendor) => {
  const requester = { sub: `pb-requester-${amount}`, roles: [] as string[] };
  const requestId = await client.submitOk(requester, {
    text: `Boundary order of ${amount}`,
    action: 'purchase_order',
    fields: { vendor, amount, description: `boundary lot ${amount}` },
  });
  if (expected === 'auto') {
    expect(await client.waitForStatus(requester, requestId, 'COMPLETED')).toMatchObject({ status: 'COMPLETED', decision: { outcome: 'approved' } });
  } else if (expected === 'out_of_range') {
    expect(await client.waitForStatus(requester, requestId, 'REJECTED')).toMatchObject({ decision: { reasons: ['amount_out_of_range'] } });
  } else {
    const approver = expected === 'finance-director' ? finance : procurement;
    const other = expected === 'finance-director' ? procurement : finance;
    expect(await client.waitForTask(approver, requestId)).toMatchObject({ approverRoles: [expected], reasons: ['above_autonomous_limit'] });
    expect(await client.listedTask(other, requestId)).toBeUndefined();
  }
});
