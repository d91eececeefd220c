import { readFileSync } from 'node:fs';
import { wholeCatalog } from '../../../lambdas/shared/catalog/registry';
import { shippedPolicies, compilePolicy, type LoadedActionPolicy } from '../../../lambdas/shared/policy/policies';
import { ACTIONS_DOC, renderActionsDoc } from '../../../scripts/actions-doc';

describe('docs/actions.md', () => {
  it('is what `npm run docs` generates from the catalog (run it and commit the file when this fails)', () => {
    expect(readFileSync(ACTIONS_DOC, 'utf8')).toBe(renderActionsDoc());
  });

  it('shows every action with its policy version, reason codes, fields and examples', () => {
    const doc = renderActionsDoc();
    for (const action of wholeCatalog()) {
      const policy = shippedPolicies()[action.name] as LoadedActionPolicy;
      expect(doc).toContain(`## \`${action.name}\``);
      expect(doc).toContain(`\`${policy.id}@${policy.version}\``);
      for (const code of compilePolicy(policy).reasons) expect(doc).toContain(`\`${code}\``);
      for (const field of Object.keys(action.fields.shape)) expect(doc).toContain(`| \`${field}\` |`);
      for (const example of action.examples) expect(doc).toContain(example.text.replace(/\|/g, '\\|'));
    }
  });

  it('states a field’s constraints from the API schema', () => {
    expect(renderActionsDoc()).toMatch(/\| `currency` \| currency \| string, pattern `\^\[A-Z\]\{3\}\$`, default `"USD"` \| no \|/);
  });
});
