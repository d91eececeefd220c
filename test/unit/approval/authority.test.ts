import { mayDecide } from '../../../lambdas/shared/approval';

const task = { requestedBy: 'requester-1', approverRoles: ['finance-director'] };

describe('mayDecide', () => {
  it('allows a caller holding one of the task tier roles', () => {
    expect(mayDecide(task, { sub: 'approver-1', roles: ['auditor', 'finance-director'] })).toEqual({ ok: true });
  });

  it('refuses a caller whose roles belong to another tier or none', () => {
    for (const roles of [['procurement-manager'], [], ['Finance-Director'], ['finance-director ']]) {
      expect(mayDecide(task, { sub: 'approver-1', roles })).toEqual({ ok: false, code: 'not_authorized_approver' });
    }
  });

  it('refuses the requester whatever roles they hold', () => {
    expect(mayDecide(task, { sub: 'requester-1', roles: ['finance-director'] })).toEqual({
      ok: false,
      code: 'self_approval_forbidden',
    });
  });
});
