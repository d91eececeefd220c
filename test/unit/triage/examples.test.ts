import { wholeCatalog, orList } from '../../../lambdas/shared/catalog/registry';
import { DETECTION, exampleClassifier, leaveOneOutAccuracy, readActions, triageRequest } from '../../../lambdas/shared/triage';
import { parkingPermit } from '../../fixtures/actions/parking_permit/action';

/*
 * Action detection learned from the catalog's examples. The parking permit (a test-only catalog
 * folder) has examples and no cues: the classifier knows it from its examples alone.
 */
const withParking = [...wholeCatalog(), parkingPermit];
const requestedBy = { sub: 'u-ex', roles: ['employee'] };

describe('the examples classifier', () => {
  it('reads an action that has no cue phrases from its examples alone, in words none of them use', () => {
    const text = 'Could E-7001 have a permit for the north car park? Broken ankle';
    expect(parkingPermit.cues).toBeUndefined();
    const { ranked, margin } = exampleClassifier(withParking).read(text);
    expect(ranked[0]?.action).toBe('parking_permit');
    expect(margin).toBeGreaterThanOrEqual(DETECTION.minMargin);
    expect(readActions(text, withParking)).toMatchObject({ actions: [], learned: { action: 'parking_permit' } });
    // The shipped catalog has no such action: its examples have no opinion.
    expect(readActions(text).learned).toBeUndefined();
  });

  it('reads each example right when built from all the others: leave-one-out accuracy at or above the measured floor', () => {
    // Measured: 22/22 over the shipped catalog, 29/29 with the parking permit. The floor leaves
    // room for actions added beside these; below it the examples no longer tell actions apart.
    const FLOOR = 0.9;
    for (const catalog of [wholeCatalog(), withParking]) {
      const { correct, total } = leaveOneOutAccuracy(catalog);
      expect(total).toBe(catalog.reduce((n, action) => n + action.examples.length, 0));
      expect(correct / total).toBeGreaterThanOrEqual(FLOOR);
    }
  });

  it('reads typos and inflections close to the words they stand for (character n-grams)', () => {
    const { ranked } = exampleClassifier(wholeCatalog()).read('custommer C-1002 got the wrong colur on ordr O-5001, plz refudn them $58');
    expect(ranked[0]?.action).toBe('refund');
  });

  it('has no opinion on a text unlike every example', () => {
    expect(readActions('Tell me a joke about accountants').learned).toBeUndefined();
    expect(exampleClassifier(wholeCatalog()).read('').ranked.every((r) => r.similarity === 0)).toBe(true);
  });

  it('never reads an action with no examples', () => {
    const { ranked } = exampleClassifier([...wholeCatalog(), { name: 'empty', examples: [] }]).read('Refund $120 on order O-5001');
    expect(ranked.map((r) => r.action)).not.toContain('empty');
  });
});

describe('triage with the cues and the examples together', () => {
  it('keeps the cued action when the examples agree', () => {
    const text = 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged';
    expect(readActions(text)).toMatchObject({ actions: ['refund'], learned: { action: 'refund' }, disagree: false });
    expect(triageRequest({ text, requestedBy })).toMatchObject({ route: 'generative', action: 'refund', signals: [] });
  });

  it('sends the request to a human, with the cued action, when the examples read it as another action', () => {
    // "tier" is a tier upgrade's cue; everything else reads like a refund.
    const text = 'Please give C-1002 back $45.50 on O-5001 for the wrong tier colour delivered';
    expect(readActions(text)).toMatchObject({ actions: ['tier_upgrade'], learned: { action: 'refund' }, disagree: true });
    const triage = triageRequest({ text, requestedBy });
    expect(triage).toMatchObject({ route: 'human', action: 'tier_upgrade', signals: ['needs_human_triage'] });
    expect(triage.reason).toMatch(/name a tier upgrade, but it reads like a refund's examples \(similarity 0\.\d\d, 0\.\d\d ahead of the next\)/);
  });

  it('never names an action from the examples alone: the human is told which one it reads like', () => {
    const text = 'Bump C-1001 to standard - they are on basic today and just onboarded 60 more agents';
    expect(readActions(text)).toMatchObject({ actions: [], learned: { action: 'tier_upgrade' } });
    const triage = triageRequest({ text, requestedBy });
    expect(triage).toMatchObject({ route: 'human', signals: ['needs_human_triage'] });
    expect(triage.action).toBeUndefined();
    expect(triage.reason).toContain(`no recognisable action (${orList(wholeCatalog().map((a) => a.title))}), though it reads like a tier upgrade's examples`);
  });

  it('never breaks a tie between two cued actions: a text that names two asks for two', () => {
    const text = 'Refund $25 on order O-5001 for customer C-1002 and upgrade C-1001 from basic to standard from 2027-02-01';
    expect(readActions(text).actions).toEqual(['tier_upgrade', 'refund']);
    expect(triageRequest({ text, requestedBy })).toMatchObject({ route: 'human', signals: ['needs_human_triage'] });
  });

  it('leaves an information request alone, whatever it reads like', () => {
    expect(readActions('Give me a summary of refunds issued this quarter')).toEqual({ actions: [], disagree: false });
  });

  it('lets a client-named action stand against the examples, as before', () => {
    const text = 'Please give C-1002 back $45.50 on O-5001 for the wrong tier colour delivered';
    expect(triageRequest({ text, requestedBy, submitted: { action: 'tier_upgrade' } })).toMatchObject({ route: 'generative', action: 'tier_upgrade', signals: [] });
  });
});
