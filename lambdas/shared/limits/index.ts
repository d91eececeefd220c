export { CumulativeLedger } from './ledger';
export {
  CumulativeDeclarationError,
  CumulativeFigure,
  cumulativeProblems,
  figureOf,
  LEDGER_TYPE,
  ledgerKey,
  REQUESTER,
  sharesOf,
  type CumulativeShare,
  type ShareDeclaration,
  type ShareField,
} from './shares';
