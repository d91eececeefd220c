import { RulesProvider } from '../../../lambdas/shared/models/rules';
import { Proposal } from '../../../lambdas/shared/schemas/actions';
import { findUngroundedFields } from '../../../lambdas/shared/validation';

/**
 * The rules provider and the grounding check read amounts, currencies and dates with the same
 * recognisers, so a complete rules proposal is always grounded in the text it came from.
 */
async function rulesProposal(text: string): Promise<Proposal> {
  const result = await new RulesProvider().propose({ text, tier: 'low' });
  const parsed = Proposal.safeParse(result.candidate);
  if (!parsed.success) throw new Error(`no complete proposal from ${JSON.stringify(text)}`);
  return parsed.data;
}

describe('rules extraction and grounding agree', () => {
  it.each([
    'Create a PO for Initech for $7,850 of toner cartridges',
    'Create a PO for Initech for US$ 7,850 of toner cartridges',
    'Create a PO for Initech for 900usd of toner cartridges',
    'Create a PO for Initech for 7.85k of toner cartridges',
    'Create a PO for Initech for €2k of toner cartridges',
    'Create a PO for Initech for EUR 1,250.50 of toner cartridges',
    'Create a PO for Initech for £49,000 of toner cartridges',
    'Create a PO for Initech for 49,000 pounds of toner cartridges',
    'Create a PO for Initech for C$900 of toner cartridges',
    'Create a PO for Initech for ¥120,000 of toner cartridges',
    'Create a PO for Initech for SEK 7850 of toner cartridges',
    'Create a PO for Initech for $1.2 million of toner cartridges',
    'Create a PO for Initech for ＄９００ of toner cartridges',
    'Create a PO for GLOBEX   corporation for $300 of paper',
    'Upgrade customer C-1001 from basic to standard from 2027/01/01, they outgrew their plan',
    'Upgrade customer C-1001 from basic to standard from 2027-1-1, they outgrew their plan',
    'Upgrade customer C-1001 from basic to standard from 1st of January, 2027, they outgrew their plan',
    'Upgrade customer C-1001 from basic to standard from jan. 1 2027, they outgrew their plan',
    'Refund $120 on order O-5001 for customer C-1002, item arrived damaged',
    'Refund 120 dollars on order O-5001 for customer C-1002, item arrived damaged',
  ])('%j', async (text) => {
    expect(findUngroundedFields(await rulesProposal(text), text)).toEqual([]);
  });

  it('the currency the rules read is the one grounding sees ("C$" is CAD, not USD)', async () => {
    const text = 'Create a PO for Initech for C$900 of toner cartridges';
    const proposal = await rulesProposal(text);
    expect(proposal.fields).toMatchObject({ amount: 900, currency: 'CAD' });
    expect(findUngroundedFields({ ...proposal, fields: { ...proposal.fields, currency: 'USD' } } as Proposal, text)).toEqual(['currency']);
  });
});
