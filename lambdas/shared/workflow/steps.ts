/**
 * The work of each Step Functions task, over the ports. The Lambda handlers parse their event,
 * call one of these and return the result as the next state. Every step appends its audit
 * entry before it returns: if the audit write fails, the step fails (fail-closed).
 *
 * Each step is a module of its own, which its handler imports directly: this file only gathers
 * them for the tests, which read several.
 */
export { parseState } from './state';
export { triageStep } from './triage-step';
export { inferenceStep } from './inference-step';
export { validationStep } from './validation-step';
export { executionStep } from './execution-step';
export { failureCode, FinalOutput, finalizeStep, shieldRecord, terminalStatus } from './finalize-step';
