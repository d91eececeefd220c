/** What an action folder imports to declare itself. Core code reads actions through `./registry`. */
export {
  ActionDefinitionError,
  RISK_CLASSES,
  defineAction,
  type ActionCues,
  type ActionDefinition,
  type ActionDryRun,
  type ActionExample,
  type BuiltinConnector,
  type BuiltinEffectInput,
  type RiskClass,
  type SeedRecord,
} from './define';
export { recordKey, requestHash } from './records';
export {
  Amount,
  IsoDate,
  MAX_AMOUNT,
  MINOR_UNITS,
  choice,
  currency,
  date,
  fieldMetaOf,
  freeText,
  minorUnits,
  money,
  partyName,
  recordId,
  type FieldKind,
  type FieldMeta,
  type FreeTextSays,
  type PartyNameOptions,
} from './kinds';
