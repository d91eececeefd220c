import { describeIssues, parseFields } from '../../../lambdas/shared/schemas/actions';
import { SubmitRequestBody } from '../../../lambdas/shared/schemas/api';

/** 400 details name the field path a client must fix, and never quote what could be a secret. */

it('names the failing field path', () => {
  const parsed = parseFields('purchase_order', { vendor: 'Initech', amount: -1, description: 'pens' });
  expect(describeIssues(parsed.error!, 'fields')).toMatch(/^fields\.amount: /);
});

it.each([
  ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
  ['an approval token', 'GnVQLWNtlRNjCwiN4xmRuSZ4xZaY2wN_BX979HBdZYs'],
])('does not quote an unknown key that is %s', (_what, secret) => {
  const parsed = SubmitRequestBody.safeParse({ text: 'x', [secret]: 1 });
  const detail = describeIssues(parsed.error!);
  expect(detail).toBe('(body): unrecognized key(s): <key>');
  expect(detail).not.toContain(secret);
});

it('still names a plain unknown key, which helps a client fix a typo', () => {
  const parsed = SubmitRequestBody.safeParse({ text: 'x', acton: 'refund' });
  expect(describeIssues(parsed.error!)).toBe('(body): unrecognized key(s): acton');
});
