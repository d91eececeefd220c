export { CumulativeLedger } from './ledger';
export {
  CumulativeFigure,
  cumulativeProblems,
  figureOf,
  LEDGER_TYPE,
  ledgerKey,
  sharesOf,
  type CumulativeShare,
  type ShareDeclaration,
  type ShareField,
} from './shares';
