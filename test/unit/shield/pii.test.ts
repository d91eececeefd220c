import { ibanValid, looksOpaque, luhnValid, placeholderType, redactPii, scrubPii } from '../../../lambdas/shared/shield/pii';

// The shape of an approval token (32 random bytes, base64url) and of a local task token.
const APPROVAL_TOKEN = 'Zk3_q9XbT2mN8vLpR4sW6yA1cE5gH7jK0oQ-uIdF2eB';

// A syntactically real JWT (HS256, {"sub":"alice"}); the signature is made up.
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImF1ZGl0b3IiXX0.c2lnbmF0dXJlLW5vdC1yZWFs';

describe('scrubPii: each type', () => {
  it.each([
    ['email', 'jane.doe+po@example.co.uk', '[EMAIL_1]'],
    ['phone', '+1 (555) 123-4567', '[PHONE_1]'],
    ['phone', '555-123-4567', '[PHONE_1]'],
    ['phone', '(555) 123-4567', '[PHONE_1]'],
    ['phone', '555.123.4567', '[PHONE_1]'],
    ['phone', '+44 20 7946 0958', '[PHONE_1]'],
    ['phone', '+4915112345678', '[PHONE_1]'],
    ['ssn', '123-45-6789', '[SSN_1]'],
    ['card', '4111 1111 1111 1111', '[CARD_1]'],
    ['card', '4111-1111-1111-1111', '[CARD_1]'],
    ['card', '4111111111111111', '[CARD_1]'],
    ['card', '3782 822463 10005', '[CARD_1]'],
    ['iban', 'DE89 3704 0044 0532 0130 00', '[IBAN_1]'],
    ['iban', 'GB82WEST12345698765432', '[IBAN_1]'],
    ['ipv4', '192.168.10.24', '[IP_1]'],
    ['ipv6', '2001:db8:85a3::8a2e:370:7334', '[IP_1]'],
    ['ipv6', 'fe80::1ff:fe23:4567:890a%eth0', '[IP_1]'],
    ['ipv6', '::ffff:192.0.2.128', '[IP_1]'],
    ['ipv6', '2001:0db8:0000:0000:0000:ff00:0042:8329', '[IP_1]'],
    ['aws_access_key', 'AKIAIOSFODNN7EXAMPLE', '[AWS_KEY_1]'],
    ['aws_secret_key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '[AWS_SECRET_1]'],
    ['jwt', JWT, '[JWT_1]'],
    ['token', APPROVAL_TOKEN, '[TOKEN_1]'],
    ['token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', '[TOKEN_1]'],
    ['token', '3f786850e387550fdab836ed7e6dc881de23001b', '[TOKEN_1]'],
    ['token', 'AQCEAAAAKgAAAAMAAAAAAAAAAbWkv+Yh1cJ7xq0/pQ2nZ3uE8f9Lr4sT6vW1yX0=', '[TOKEN_1]'],
  ])('%s: %s', (type, value, placeholder) => {
    const result = scrubPii(`Contact: ${value}. Thanks`);
    expect(result.text).toBe(`Contact: ${placeholder}. Thanks`);
    expect(result.findings).toEqual([{ type, count: 1 }]);
    expect(result.replacements).toEqual({ [placeholder]: value });
  });

  it.each([
    ['password=hunter22', 'password=[SECRET_1]', 'hunter22'],
    ['DB_PASSWORD: "correct horse battery"', 'DB_PASSWORD: "[SECRET_1]"', 'correct horse battery'],
    ['api_key: sk-live-1234abcd', 'api_key: [SECRET_1]', 'sk-live-1234abcd'],
    ['{"apiKey":"zq-7781-xx"}', '{"apiKey":"[SECRET_1]"}', 'zq-7781-xx'],
    ["client_secret='s3cr3t!'", "client_secret='[SECRET_1]'", 's3cr3t!'],
    ['github_token => abcd1234', 'github_token => [SECRET_1]', 'abcd1234'],
    ['Authorization: Bearer abcdefghijklmnop1234567890', 'Authorization: Bearer [SECRET_1]', 'abcdefghijklmnop1234567890'],
  ])('secret: %s keeps its key and loses its value', (text, expected, original) => {
    const result = scrubPii(`creds ${text} end`);
    expect(result.text).toBe(`creds ${expected} end`);
    expect(result.findings).toEqual([{ type: 'secret', count: 1 }]);
    expect(result.replacements).toEqual({ '[SECRET_1]': original });
  });

  it('numbers IPv4 and IPv6 addresses as one series (IPv6 is detected first)', () => {
    const result = scrubPii('from 10.0.0.12 and 2001:db8::1, again 10.0.0.12');
    expect(result.text).toBe('from [IP_2] and [IP_1], again [IP_2]');
    expect(result.findings).toEqual([
      { type: 'ipv6', count: 1 },
      { type: 'ipv4', count: 2 },
    ]);
  });

  it('numbers placeholders per type and reuses one for the same value', () => {
    const result = scrubPii('Mail a@example.com, then b@example.com, then A@example.com again; call 555-123-4567 or 555.123.4567.');
    expect(result.text).toBe('Mail [EMAIL_1], then [EMAIL_2], then [EMAIL_1] again; call [PHONE_1] or [PHONE_1].');
    expect(result.findings).toEqual([
      { type: 'email', count: 3 },
      { type: 'phone', count: 2 },
    ]);
    expect(result.replacements).toEqual({
      '[EMAIL_1]': 'a@example.com',
      '[EMAIL_2]': 'b@example.com',
      '[PHONE_1]': '555-123-4567',
    });
  });

  it('does not reuse a placeholder number already in the text', () => {
    const result = scrubPii('[EMAIL_1] forwarded this from bob@example.com');
    expect(result.text).toBe('[EMAIL_1] forwarded this from [EMAIL_2]');
    expect(result.replacements).toEqual({ '[EMAIL_2]': 'bob@example.com' });
  });

  it('is idempotent', () => {
    const once = scrubPii(
      `card 4111 1111 1111 1111, ssn 123-45-6789, key AKIAIOSFODNN7EXAMPLE, password=hunter22, ip 2001:db8::1, ${APPROVAL_TOKEN}`,
    ).text;
    expect(scrubPii(once)).toEqual({ text: once, findings: [], replacements: {} });
  });
});

describe('scrubPii: things that are not PII', () => {
  it.each([
    'Create a PO for Alpha Tech Systems for $7,850 of workstations',
    'Create a purchase order for Globex Corporation for $1,200 of office chairs',
    'Upgrade customer C-1001 from basic to standard from 2027-01-01, they outgrew their plan',
    'Refund $120 on order O-5001 for customer C-1002, item arrived damaged',
    'Create a PO for Initech for $7,850.00 or 7.85k or USD 900 or $12.5k or $1,000,000',
    'Effective 2027-01-01 through 2027-12-31, from 1 Jan 2027 to January 1, 2028',
    'Orders O-5001, O-5002 and customers C-1001, C-1002, C-1003 at 10:30',
    'Version 1.2.3 of the firmware, 3.5 inch drives, quantity 12, 2 x 1,200',
    'Meeting at 10:30:45 on 2027-01-01T10:30:00.000Z, ratio 16:9, MAC 00:1A:2B:3C:4D:5E',
    'Item dell-latitude-5440-laptops-for-the-sales-team-2027 and SKU ALPHA-TECH-WORKSTATION-PRO-2027-EDITION',
    'Order O-5001 for customer C-1002 ($450.00), order O-5002 for C-1003 ($2,400.00), PO-1A2B3C4D5E',
    'Upgrade C-1001 from basic to standard from 2027-01-01; the token of appreciation is a password: no',
    'A run of one class: 12345678901234567890123456789012345678901234567890 or abcdefghijklmnopqrstuvwxyzabcdefghij',
    'Customer 550e8400-e29b-41d4-a716-446655440000 is keyed by a UUID',
  ])('leaves %j unchanged', (text) => {
    expect(scrubPii(text)).toEqual({ text, findings: [], replacements: {} });
  });

  it.each([
    ['a 16-digit number failing Luhn', '4111 1111 1111 1112'],
    ['a 13-digit order number failing Luhn', '1234567890123'],
    ['an IBAN with a wrong check digit', 'DE00 3704 0044 0532 0130 00'],
    ['an SSN with a never-issued area', '000-12-3456'],
    ['an SSN in the 9xx range', '900-12-3456'],
    ['an out-of-range IPv4', '999.1.1.1'],
    ['a short number', '555-1234'],
    ['a 19-digit number failing Luhn', '1234567890123456789'],
    ['card-like grouping failing Luhn', '5500-0000-0000-0005'],
    ['a time, not an IPv6 address', '23:59:59'],
    ['an IPv6-like run that is not an address', '1:2:3:4:5:6:7:8:9'],
    ['an opaque run one character short of a token', 'aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0u'],
    ['a secret key named without a value', 'password:'],
    ['a secret value of three characters', 'token = abc'],
  ])('leaves %s alone', (_label, value) => {
    expect(scrubPii(`ref ${value} end`).text).toBe(`ref ${value} end`);
  });

  it('tells machine-made runs from words joined by separators', () => {
    expect(looksOpaque(APPROVAL_TOKEN)).toBe(true);
    expect(looksOpaque('550e8400-e29b-41d4-a716-446655440000')).toBe(true);
    expect(looksOpaque('dell-latitude-5440-laptops-for-the-sales-team')).toBe(false);
    expect(looksOpaque('Alpha-Tech-Systems-Workstations-Order-2027')).toBe(false);
    expect(looksOpaque('abcdefghijklmnopqrstuvwxyzabcdefghij')).toBe(false);
  });

  it('names the type behind a placeholder', () => {
    expect(placeholderType('[EMAIL_3]')).toBe('email');
    expect(placeholderType('[AWS_SECRET_1]')).toBe('aws_secret_key');
    expect(placeholderType('[NOT_A_TYPE_1]')).toBeUndefined();
    expect(placeholderType('EMAIL_1')).toBeUndefined();
  });

  it('checks Luhn and IBAN checksums', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('DE88 3704 0044 0532 0130 00')).toBe(false);
  });

  it('keeps amounts and ids next to PII intact', () => {
    const result = scrubPii('Refund $120 on order O-5001 for customer C-1002 (jane@example.com, 555-123-4567), card 4111111111111111');
    expect(result.text).toBe('Refund $120 on order O-5001 for customer C-1002 ([EMAIL_1], [PHONE_1]), card [CARD_1]');
  });
});

describe('scrubPii: hostile input', () => {
  it('stays fast on long adversarial text', () => {
    const inputs = [
      `${'a'.repeat(4000)}@`,
      `a@${'a.'.repeat(2000)}`,
      `+1${' 1'.repeat(2000)}`,
      '1'.repeat(4000),
      `${'1.'.repeat(2000)}`,
      `${'A1B2 '.repeat(800)}`,
      `${'aB1'.repeat(1330)}=`,
      `${'a:'.repeat(2000)}`,
      `password=${'x'.repeat(3990)}`,
      `${'%41'.repeat(1300)}`,
    ];
    const started = Date.now();
    for (const text of inputs) scrubPii(text);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('redactPii', () => {
  it('scrubs every string in a JSON value, keys included, with one numbering', () => {
    const value = {
      candidate: { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'call me on 555-123-4567' } },
      contacts: ['jane@example.com', { email: 'JANE@example.com', ip: '10.0.0.12' }],
      'bob@example.com': true,
      confidence: 0.97,
      nothing: null,
    };
    const before = structuredClone(value);

    expect(redactPii(value)).toEqual({
      candidate: { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'call me on [PHONE_1]' } },
      contacts: ['[EMAIL_1]', { email: '[EMAIL_1]', ip: '[IP_1]' }],
      '[EMAIL_2]': true,
      confidence: 0.97,
      nothing: null,
    });
    expect(value).toEqual(before);
  });

  it('passes scalars through and scrubs a bare string', () => {
    expect(redactPii(42)).toBe(42);
    expect(redactPii(null)).toBeNull();
    expect(redactPii(undefined)).toBeUndefined();
    expect(redactPii('token AKIAIOSFODNN7EXAMPLE')).toBe('token [AWS_KEY_1]');
  });

  it('does not collide with placeholders already in the value', () => {
    expect(redactPii({ text: 'from [EMAIL_1]', cc: 'ann@example.com' })).toEqual({ text: 'from [EMAIL_1]', cc: '[EMAIL_2]' });
  });

  it('refuses a cyclic value instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic.self = cyclic;
    expect(() => redactPii(cyclic)).toThrow(TypeError);
  });
});
