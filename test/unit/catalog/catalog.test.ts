import * as z from 'zod';
import {
  ActionDefinitionError,
  MAX_AMOUNT,
  MINOR_UNITS,
  RISK_CLASSES,
  choice,
  defineAction,
  fieldMetaOf,
  freeText,
  minorUnits,
  money,
  recordId,
  shapeOf,
  type FieldMeta,
} from '../../../lambdas/shared/catalog';
import { catalogSeed, seedItems } from '../../../lambdas/shared/adapters/aws/seed';
import { wholeCatalog, type CatalogActionName, fieldsOf, orList } from '../../../lambdas/shared/catalog/registry';
import { RulesProvider } from '../../../lambdas/shared/models/rules';
import { ACTIONS, FIELDS_SCHEMA, Proposal } from '../../../lambdas/shared/schemas/actions';
import { triageRequest } from '../../../lambdas/shared/triage';
import { findUngroundedFields } from '../../../lambdas/shared/validation';

const requester = { sub: 'alice', roles: ['support-agent'] };
const examples = wholeCatalog().flatMap((action) => action.examples.map((example) => ({ action: action.name, ...example })));

describe('the action catalog', () => {
  it('registers each action once, under a snake_case name, in the order the API lists them', () => {
    const names = wholeCatalog().map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/);
    expect(ACTIONS).toEqual(names);
  });

  it.each(wholeCatalog().map((a) => [a.name, a] as const))('%s has a title, a one-paragraph description, a risk class and 5–10 examples', (_name, action) => {
    expect(action.title).toMatch(/^[a-z][a-z ]+$/);
    expect(action.description.length).toBeGreaterThanOrEqual(80);
    expect(action.description).not.toMatch(/\n/);
    expect(RISK_CLASSES).toContain(action.riskClass);
    expect(action.examples.length).toBeGreaterThanOrEqual(5);
    expect(action.examples.length).toBeLessThanOrEqual(10);
    expect(new Set(action.examples.map((e) => e.text)).size).toBe(action.examples.length);
  });

  it("takes the seed actions' risk classes from seed 003's decision matrix", () => {
    // The shipped actions; a team's own action (README, "Add your own action") picks its own.
    expect(Object.fromEntries(wholeCatalog().map((a) => [a.name, a.riskClass]))).toMatchObject({ purchase_order: 'medium', tier_upgrade: 'medium', refund: 'high', ticket_routing: 'low', credit_limit_change: 'high' });
  });

  it.each(wholeCatalog().map((a) => [a.name, a] as const))('every field of %s has a kind, and its summary fields are fields', (name, action) => {
    const shape = shapeOf(action.fields);
    for (const [field, schema] of Object.entries(shape)) expect([field, fieldMetaOf(schema)?.kind]).toEqual([field, expect.any(String)]);
    expect(fieldsOf(name).map((f) => f.name)).toEqual(Object.keys(shape));
    for (const field of action.summaryFields) expect(Object.keys(shape)).toContain(field);
  });

  it('keeps field kinds out of the JSON schema the model is given', () => {
    for (const action of ACTIONS) {
      const json = JSON.stringify(z.toJSONSchema(FIELDS_SCHEMA[action], { io: 'input' }));
      expect(json).not.toMatch(/"kind"|"identifies"|recordId|partyName|freeText/);
    }
  });
});

describe('catalog examples are executable', () => {
  it.each(examples.map((e) => [e.text, e] as const))('%s', async (text, example) => {
    // The fields are what the action's schema accepts, as it would store them.
    expect(FIELDS_SCHEMA[example.action].parse(example.fields)).toEqual(example.fields);
    expect(Proposal.parse({ action: example.action, fields: example.fields })).toEqual({ action: example.action, fields: example.fields });

    // Triage names the action, and the rules provider reads exactly these fields, sure enough to act on.
    expect(triageRequest({ text, requestedBy: requester }).action).toBe(example.action);
    const result = await new RulesProvider().propose({ text, tier: 'low' });
    expect(result.candidate).toEqual({ action: example.action, fields: example.fields });
    expect(result.confidence).toBeGreaterThanOrEqual(0.95);

    // Every value is written in the text.
    expect(findUngroundedFields({ action: example.action, fields: example.fields } as Proposal, text)).toEqual([]);
  });
});

/** A value of the field's kind that the text does not contain, or undefined when the kind offers none. */
function inventedValue(meta: FieldMeta, text: string): unknown {
  switch (meta.kind) {
    case 'money':
      return 987654.32;
    case 'currency':
      return 'CHF';
    case 'date':
      return '2031-12-30';
    case 'choice':
      return meta.values.find((v) => !text.toLowerCase().includes(v.toLowerCase()));
    case 'recordId':
      return 'Z-424242';
    case 'partyName':
      return 'Vandelay Industries';
    case 'freeText':
      return 'quantum teleportation bandwidth';
  }
}

describe('grounding by field kind', () => {
  const cases = examples.flatMap((example) =>
    fieldsOf(example.action).map((field) => [`${example.action}.${field.name} (${field.meta.kind}) in ${JSON.stringify(example.text)}`, example, field] as const),
  );

  it.each(cases)('an invented %s is ungrounded, and only that field', (_label, example, field) => {
    const value = inventedValue(field.meta, example.text);
    if (value === undefined) return; // a choice whose every value the text names
    const fields = { ...example.fields, [field.name]: value };
    expect(findUngroundedFields({ action: example.action, fields } as Proposal, example.text)).toEqual([field.name]);
  });
});

describe('defineAction', () => {
  const fields = () => z.strictObject({ customerId: recordId('customer'), amount: money(), note: freeText({ min: 1, max: 50 }) });
  const base = () => ({
    name: 'credit_note',
    title: 'credit note',
    description: 'A credit note for a customer.',
    riskClass: 'low' as const,
    fields: fields(),
    summaryFields: ['customerId', 'amount'] as ('customerId' | 'amount' | 'note')[],
    examples: [],
    policy: {},
    facts: z.object({}),
    receipt: z.object({ creditNoteId: z.string() }),
  });

  it('returns the definition it is given, its fields with their amounts checked together (issue 12)', () => {
    const definition = base();
    const { fields: checked, ...rest } = defineAction(definition);
    const { fields: given, ...declared } = definition;
    expect(rest).toEqual(declared);
    // The same field schemas, so each keeps its kind.
    for (const [name, schema] of Object.entries(given.shape)) expect(checked.shape[name as keyof typeof given.shape]).toBe(schema);
    expect(given.safeParse({ customerId: 'C-1', amount: 1.555, note: 'n' }).success).toBe(true);
    expect(checked.safeParse({ customerId: 'C-1', amount: 1.555, note: 'n' }).success).toBe(false);
  });

  it('refuses a field built without a kind constructor', () => {
    const definition = { ...base(), fields: z.strictObject({ customerId: recordId('customer'), plain: z.string() }), summaryFields: [] };
    expect(() => defineAction(definition)).toThrow(new ActionDefinitionError('credit_note.plain has no field kind: build it with a kind constructor'));
  });

  it('refuses a name that is not snake_case, an unknown risk class and a summary field that is not a field', () => {
    expect(() => defineAction({ ...base(), name: 'CreditNote' })).toThrow(ActionDefinitionError);
    expect(() => defineAction({ ...base(), riskClass: 'extreme' as never })).toThrow(/unknown risk class extreme/);
    expect(() => defineAction({ ...base(), summaryFields: ['amount', 'missing' as never] })).toThrow(/summary field missing is not a field/);
  });

  it("refuses a builtin seed record that is not a key of the system of record", () => {
    const builtin = (seed: { type: string; id: string; attributes: Record<string, unknown> }[]) => ({
      ...base(),
      builtin: { seed, facts: async () => ({}), effect: async () => ({ creditNoteId: 'CN-1' }) },
    });
    expect(() => defineAction(builtin([{ type: 'CREDIT_NOTE', id: 'CN-1', attributes: { amount: 5 } }]))).not.toThrow();
    expect(() => defineAction(builtin([{ type: 'credit', id: 'CN-1', attributes: {} }]))).toThrow(/needs an upper-case type/);
    expect(() => defineAction(builtin([{ type: 'CREDIT', id: 'CN 1', attributes: {} }]))).toThrow(/needs an upper-case type and an id/);
    expect(() => defineAction(builtin([{ type: 'CREDIT', id: 'CN-1', attributes: { pk: 'ORDER#O-5001' } }]))).toThrow(/pk and sk are its key/);
  });

  it('loads the seed records of every builtin after the shared ones; two actions may share a record only as declared alike', () => {
    const withSeed = (name: string, tier: string) =>
      defineAction({
        ...base(),
        name,
        builtin: { seed: [{ type: 'CUSTOMER', id: 'C-9001', attributes: { customerId: 'C-9001', tier } }], facts: async () => ({}), effect: async () => ({ creditNoteId: 'CN-1' }) },
      });
    const items = seedItems(catalogSeed([withSeed('credit_note', 'basic'), withSeed('debit_note', 'basic')]));
    expect(items.filter((item) => item.pk === 'CUSTOMER#C-9001')).toEqual([{ pk: 'CUSTOMER#C-9001', sk: 'META', customerId: 'C-9001', tier: 'basic' }]);
    expect(items.at(-1)).toEqual({ pk: 'CUSTOMER#C-9001', sk: 'META', customerId: 'C-9001', tier: 'basic' });
    expect(() => catalogSeed([withSeed('credit_note', 'basic'), withSeed('debit_note', 'premium')])).toThrow(
      new ActionDefinitionError('debit_note and credit_note seed CUSTOMER#C-9001 differently'),
    );
  });

  it('records a choice with its values and a record id with what it identifies', () => {
    expect(fieldMetaOf(choice(['low', 'high']))).toEqual({ kind: 'choice', values: ['low', 'high'] });
    expect(fieldMetaOf(recordId('order'))).toEqual({ kind: 'recordId', identifies: 'order' });
  });
});

describe('core text from the catalog', () => {
  it("lists the actions' titles when no action is recognised (unchanged wording)", () => {
    const result = triageRequest({ text: 'Can you check the status of my ticket?', requestedBy: requester });
    expect(result.reason).toContain(`no recognisable action (${orList(wholeCatalog().map((a) => a.title))})`);
    expect(result.reason).toMatch(/no recognisable action \(purchase order, tier upgrade, refund(, [a-z ]+)* or [a-z ]+\)/);
  });
});

describe('amounts at the edge: every money field, by the currency its action names (issue 12, finding 8)', () => {
  const moneyFields = wholeCatalog().flatMap((action) =>
    fieldsOf(action.name)
      .filter((field) => field.meta.kind === 'money')
      .map((field) => ({ action: action.name, field: field.name, currencyField: fieldsOf(action.name).find((f) => f.meta.kind === 'currency')?.name })),
  );
  /** The action's first example with the amount (and currency) replaced. */
  const fieldsWith = (action: CatalogActionName, field: string, amount: number, currencyField?: string, code?: string) => ({
    ...(wholeCatalog().find((a) => a.name === action)?.examples[0]?.fields as Record<string, unknown>),
    [field]: amount,
    ...(currencyField && code ? { [currencyField]: code } : {}),
  });
  const issuesOf = (action: CatalogActionName, fields: Record<string, unknown>) => {
    const parsed = FIELDS_SCHEMA[action].safeParse(fields);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
  };

  it('the catalog has money fields, with and without a currency field of their own', () => {
    expect(moneyFields.some((f) => f.currencyField !== undefined)).toBe(true);
    expect(moneyFields.some((f) => f.currencyField === undefined)).toBe(true);
  });

  it.each(moneyFields)('$action.$field: a magnitude no store holds (1e200, just over MAX_AMOUNT) is refused on the field', ({ action, field, currencyField }) => {
    expect(issuesOf(action, fieldsWith(action, field, 1e200, currencyField))).toEqual([field]);
    expect(issuesOf(action, fieldsWith(action, field, MAX_AMOUNT + 1, currencyField))).toEqual([field]);
    expect(issuesOf(action, fieldsWith(action, field, MAX_AMOUNT, currencyField))).not.toContain(field);
  });

  it('an amount over MAX_AMOUNT is refused with the limit written as en-US does', () => {
    const parsed = money().safeParse(MAX_AMOUNT + 1);
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => issue.message)).toEqual([`must be at most ${MAX_AMOUNT.toLocaleString('en-US')}`]);
  });

  it.each(moneyFields)('$action.$field: more decimals than the currency has are refused on the field ($4,999.999, $49,999.995, $1e-9)', ({ action, field, currencyField }) => {
    for (const amount of [4999.999, 49_999.995, 1e-9, 0.001]) expect({ amount, issues: issuesOf(action, fieldsWith(action, field, amount, currencyField)) }).toEqual({ amount, issues: [field] });
    for (const amount of [4999.99, 49_999.9, 0.01, 5000]) expect({ amount, issues: issuesOf(action, fieldsWith(action, field, amount, currencyField)) }).toEqual({ amount, issues: [] });
  });

  it.each(moneyFields.filter((f) => f.currencyField !== undefined))('$action.$field: decimals follow the currency named (JPY 0, KWD 3, an unlisted code 2)', ({ action, field, currencyField }) => {
    const issues = (amount: number, code: string) => issuesOf(action, fieldsWith(action, field, amount, currencyField, code));
    expect(issues(100.5, 'JPY')).toEqual([field]);
    expect(issues(100, 'JPY')).toEqual([]);
    expect(issues(1.234, 'KWD')).toEqual([]);
    expect(issues(1.2345, 'KWD')).toEqual([field]);
    expect(issues(12.34, 'XTS')).toEqual([]);
    expect(issues(12.345, 'XTS')).toEqual([field]);
  });

  it('the minor-units table is ISO 4217 where it differs from 2', () => {
    expect([minorUnits('USD'), minorUnits('EUR'), minorUnits('JPY'), minorUnits('KRW'), minorUnits('BHD'), minorUnits('CLF'), minorUnits('ZZZ')]).toEqual([2, 2, 0, 0, 3, 4, 2]);
    for (const [code, units] of Object.entries(MINOR_UNITS)) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect([0, 3, 4]).toContain(units);
    }
  });

  it('a test-only action gets the same check from defineAction, with no currency field (2 decimals)', () => {
    const tip = defineAction({
      name: 'tip_jar',
      title: 'tip',
      description: 'A test-only action with an amount and no currency field.',
      riskClass: 'low',
      fields: z.strictObject({ amount: money(), reason: freeText({ min: 3, max: 100 }) }),
      summaryFields: ['amount'],
      examples: [],
      facts: z.object({}),
      receipt: z.object({}),
      policy: {},
    });
    expect(tip.fields.safeParse({ amount: 1.5, reason: 'thanks' }).success).toBe(true);
    const refused = tip.fields.safeParse({ amount: 1.555, reason: 'thanks' });
    expect(refused.success ? [] : refused.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['amount', 'must have at most 2 decimals']]);
  });

  it("keeps what a team says of its fields object (a description, a title) through defineAction's amount check", () => {
    const fields = z.strictObject({ amount: money(), reason: freeText({ min: 3, max: 100 }) }).describe('A tip and why.').meta({ title: 'Tip' });
    const tip = defineAction({
      name: 'tip_jar',
      title: 'tip',
      description: 'A test-only action with an amount and no currency field.',
      riskClass: 'low',
      fields,
      summaryFields: ['amount'],
      examples: [],
      facts: z.object({}),
      receipt: z.object({}),
      policy: {},
    });
    expect(z.toJSONSchema(tip.fields)).toMatchObject({ description: 'A tip and why.', title: 'Tip' });
    expect(tip.fields.safeParse({ amount: 1.555, reason: 'thanks' }).success).toBe(false);
  });
});
