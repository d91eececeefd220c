import { shieldApproval, shieldOutbound, shieldProposal } from '../../../lambdas/shared/shield/outbound';
import { restoreFreeText } from '../../../lambdas/shared/shield/vault';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

/** What a model (or an effect's echo) may carry out to a client or the audit: no PII, no tokens, no originals. */

const APPROVAL_TOKEN = 'Zk3_q9XbT2mN8vLpR4sW6yA1cE5gH7jK0oQ-uIdF2eB';
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAbWkv+Yh1cJ7xq0/pQ2nZ3uE8f9Lr4sT6vW1yX0AbCdEfGh';

const po = (description: string, vendor = 'Initech'): Proposal => ({
  action: 'purchase_order',
  fields: { vendor, amount: 900, currency: 'USD', description },
});

describe('shieldOutbound', () => {
  it('redacts a token-shaped string a model tries to smuggle out, and an email', () => {
    const candidate = {
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: 900, description: `toner; ref ${APPROVAL_TOKEN}, cc eve@evil.example and ${TASK_TOKEN}` },
    };
    const { value, redactions } = shieldOutbound(candidate);
    expect(value.fields.description).toBe('toner; ref [TOKEN_1], cc [EMAIL_1] and [TOKEN_2]');
    expect(redactions).toEqual([
      { type: 'email', count: 1 },
      { type: 'token', count: 2 },
    ]);
    expect(JSON.stringify(value)).not.toContain(APPROVAL_TOKEN.slice(0, 20));
  });

  it('puts a vaulted original back behind its own placeholder, whatever its case or width', () => {
    const originals = { '[EMAIL_1]': 'jane@example.com', '[PHONE_1]': '555-123-4567' };
    const { value, redactions } = shieldOutbound(
      { a: 'for JANE@example.com', b: 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ', c: ['call 555-123-4567'] },
      originals,
    );
    expect(value).toEqual({ a: 'for [EMAIL_1]', b: '[EMAIL_1]', c: ['call [PHONE_1]'] });
    expect(redactions).toEqual([
      { type: 'email', count: 2 },
      { type: 'phone', count: 1 },
    ]);
  });

  it('sees through zero-width characters inside a value', () => {
    expect(shieldOutbound('mail ja\u200Bne@exa\u200Dmple.com').value).toBe('mail [EMAIL_1]');
    expect(shieldOutbound(`token ${APPROVAL_TOKEN.slice(0, 20)}\u200B${APPROVAL_TOKEN.slice(20)}`).value).toBe('token [TOKEN_1]');
  });

  it('numbers new placeholders after those already present, and changes nothing clean', () => {
    expect(shieldOutbound({ d: 'from [EMAIL_1] to ann@example.com' }).value).toEqual({ d: 'from [EMAIL_1] to [EMAIL_2]' });
    const clean = { purchaseOrderNumber: 'PO-1A2B3C4D5E', vendor: 'Alpha Tech Systems', amount: 7850, createdAt: '2027-01-01T10:30:00.000Z' };
    expect(shieldOutbound(clean)).toEqual({ value: clean, redactions: [] });
  });
});

describe('shieldProposal', () => {
  it('returns the same proposal when nothing needs redacting', () => {
    const proposal = po('staplers');
    expect(shieldProposal(proposal)).toEqual({ value: proposal, redactions: [] });
  });

  it('keeps the proposal within its schema: a field the redaction breaks gets a stand-in', () => {
    const refund: Proposal = { action: 'refund', fields: { customerId: APPROVAL_TOKEN, orderId: 'O-5001', amount: 10, reason: 'damaged' } };
    expect(shieldProposal(refund).value).toEqual({ action: 'refund', fields: { customerId: 'REDACTED', orderId: 'O-5001', amount: 10, reason: 'damaged' } });
    const upgrade: Proposal = {
      action: 'tier_upgrade',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: TASK_TOKEN },
    };
    expect(shieldProposal(upgrade).value?.fields).toMatchObject({ justification: '[REDACTED]' });
  });
});

describe('shieldApproval', () => {
  /** A task id as taskIdFor makes it, whose random digits include a Luhn-valid 14-digit run. */
  const CARD_LIKE_TASK = 't_mx96y7rx4e17228633594054';

  it('passes the task id and status as they are, though the digits in the id pass for a card number', () => {
    expect(shieldOutbound({ taskId: CARD_LIKE_TASK }).value.taskId).toBe('t_mx96y7rx4e[CARD_1]');
    const approval = { taskId: CARD_LIKE_TASK, status: 'REJECTED', decidedBy: 'approver-1', comment: 'call me on bob@example.com' };
    expect(shieldApproval(approval)).toEqual({
      value: { taskId: CARD_LIKE_TASK, status: 'REJECTED', decidedBy: 'approver-1', comment: 'call me on [EMAIL_1]' },
      redactions: [{ type: 'email', count: 1 }],
    });
  });
});

describe('restoreFreeText', () => {
  const originals = { '[EMAIL_1]': 'jane@example.com', '[SECRET_1]': 'hunter22' };

  it('restores personal data in free-text fields only, never a credential', () => {
    const { proposal, restored } = restoreFreeText(po('chairs for [EMAIL_1], pw [SECRET_1]', '[EMAIL_1]'), originals);
    expect(proposal.fields).toMatchObject({ description: 'chairs for jane@example.com, pw [SECRET_1]', vendor: '[EMAIL_1]' });
    expect(restored).toEqual(['description']);
  });

  it('keeps the placeholders where the restored text would break the schema', () => {
    const long = { '[EMAIL_1]': `${'a'.repeat(480)}@example.com` };
    const { proposal, restored } = restoreFreeText(po('for [EMAIL_1] and more'), long);
    expect(proposal.fields).toMatchObject({ description: 'for [EMAIL_1] and more' });
    expect(restored).toEqual([]);
  });
});
