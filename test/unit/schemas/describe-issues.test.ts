import { describeIssues, parseFields } from '../../../lambdas/shared/schemas/actions';
import { ListTasksQuery, SubmitRequestBody } from '../../../lambdas/shared/schemas/api';
import { fieldIssues, fieldsGuide, schemaGuide } from '../../../lambdas/shared/schemas/issues';
import { actionDefinition } from '../../../lambdas/shared/catalog/registry';

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

describe('fieldIssues: every offending field, with what it expects', () => {
  const guide = fieldsGuide(actionDefinition('tier_upgrade'));

  it('lists each bad field, a missing one as required, with its expected type from the field kinds', () => {
    const input = { customerId: '../C-1', currentTier: 'gold', effectiveDate: '2027-02-30', justification: 'short' };
    const issues = fieldIssues(parseFields('tier_upgrade', input).error!, { guide, input, prefix: 'fields' });
    expect(issues).toEqual([
      { path: 'fields.customerId', message: expect.any(String), expected: 'customer id: 1..64 characters of A-Z, a-z, 0-9, _ and -' },
      { path: 'fields.currentTier', message: expect.any(String), expected: 'one of basic, standard, premium' },
      { path: 'fields.targetTier', message: 'required', expected: 'one of basic, standard, premium' },
      { path: 'fields.effectiveDate', message: 'must be a real calendar date', expected: 'YYYY-MM-DD (a real calendar date)' },
      { path: 'fields.justification', message: expect.any(String), expected: 'string of 10..500 characters' },
    ]);
  });

  it('an unknown key is a field of its own, named only when plain, with the fields there are', () => {
    const secret = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const input = { vendor: 'Initech', amount: 0, description: 'pens', discount: 5, [secret]: 1 };
    const issues = fieldIssues(parseFields('purchase_order', input).error!, { guide: fieldsGuide(actionDefinition('purchase_order')), input, prefix: 'fields' });
    expect(issues.map((i) => [i.path, i.expected])).toEqual([
      ['fields.amount', expect.stringMatching(/^number > 0, at most 1,000,000,000,000/)],
      ['fields.discount', 'no such field; the fields are vendor, amount, currency, description'],
      ['fields.<key>', 'no such field; the fields are vendor, amount, currency, description'],
    ]);
    expect(JSON.stringify(issues)).not.toContain(secret);
  });

  it('a body or query schema is read from its JSON schema', () => {
    const body = { action: 'wire_transfer', fields: 3 };
    expect(fieldIssues(SubmitRequestBody.safeParse(body).error!, { guide: schemaGuide(SubmitRequestBody), input: body })).toEqual([
      { path: 'text', message: 'required', expected: 'string of 1..4000 characters' },
      { path: 'action', message: expect.any(String), expected: expect.stringMatching(/^one of purchase_order, tier_upgrade, refund/) },
      { path: 'fields', message: expect.any(String), expected: 'object' },
    ]);
    const query = { limit: '0' };
    expect(fieldIssues(ListTasksQuery.safeParse(query).error!, { guide: schemaGuide(ListTasksQuery), input: query, prefix: 'query' })).toEqual([
      { path: 'query.limit', message: expect.any(String), expected: 'integer 1..100' },
    ]);
  });
});
