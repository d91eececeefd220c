import { AwsSolutionsChecks } from 'cdk-nag';
import { synthWarden } from './synth';
test('scratch', () => {
  const { stack } = synthWarden({ removalPolicy: 'destroy', auth: { issuer: 'https://idp.example.com', audience: ['x'] }, modelProvider: 'rules' });
  const report = new AwsSolutionsChecks().validateScope(stack);
  console.log(JSON.stringify(report.violations.map((v) => ({ rule: v.ruleName, d: v.description.slice(0, 100), at: v.violatingResources.map((r) => r.resourceLogicalId + ' ' + JSON.stringify(r.locations).slice(0, 200)) })), null, 1));
});
