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

  it('answers each question the same when asked again, with the roles in another order (answers are kept)', () => {
    for (let round = 0; round < 2; round++) {
      expect(mayDecide(task, { sub: 'approver-2', roles: ['finance-director', 'auditor'] })).toEqual({ ok: true });
      expect(mayDecide(task, { sub: 'approver-2', roles: ['auditor'] })).toEqual({ ok: false, code: 'not_authorized_approver' });
      expect(mayDecide(task, { sub: 'requester-1', roles: ['auditor', 'finance-director'] })).toEqual({ ok: false, code: 'self_approval_forbidden' });
      expect(mayDecide({ ...task, requestedBy: 'approver-2' }, { sub: 'approver-2', roles: ['finance-director'] })).toEqual({ ok: false, code: 'self_approval_forbidden' });
      expect(mayDecide({ ...task, approverRoles: ['procurement-manager', 'finance-director'] }, { sub: 'approver-2', roles: ['procurement-manager'] })).toEqual({ ok: true });
    }
  });
});
