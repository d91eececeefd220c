import { canonicalProposalJson, fingerprintProposal } from '../../../lambdas/shared/validation';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

function po(fields: Partial<Extract<Proposal, { action: 'purchase_order' }>['fields']> = {}): Proposal {
  return { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations', ...fields } };
}

describe('fingerprintProposal', () => {
  it('is a sha256 hex digest', () => {
    expect(fingerprintProposal(po())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores key order, vendor case and spacing, and free-text case and spacing', () => {
    const reordered: Proposal = {
      fields: { description: '  Workstations ', currency: 'USD', amount: 7850.0, vendor: ' alpha  TECH systems' },
      action: 'purchase_order',
    } as Proposal;
    expect(fingerprintProposal(reordered)).toBe(fingerprintProposal(po()));
  });

  it('normalises -0', () => {
    expect(canonicalProposalJson(po({ amount: -0 }))).toBe(canonicalProposalJson(po({ amount: 0 })));
  });

  it('differs for any difference that matters', () => {
    const base = fingerprintProposal(po());
    expect(fingerprintProposal(po({ amount: 7850.01 }))).not.toBe(base);
    expect(fingerprintProposal(po({ vendor: 'Initech' }))).not.toBe(base);
    expect(fingerprintProposal(po({ currency: 'EUR' }))).not.toBe(base);
    expect(fingerprintProposal(po({ description: 'monitors' }))).not.toBe(base);
  });

  it('keeps ids exact', () => {
    const refund = (customerId: string): Proposal => ({ action: 'refund', fields: { customerId, orderId: 'O-5001', amount: 1, reason: 'x' } });
    expect(fingerprintProposal(refund('C-1002'))).not.toBe(fingerprintProposal(refund('c-1002')));
  });

  it('is stable across releases (execution keys depend on it)', () => {
    expect(canonicalProposalJson(po())).toBe(
      '{"action":"purchase_order","fields":{"amount":7850,"currency":"USD","description":"workstations","vendor":"alpha tech systems"}}',
    );
  });
});
