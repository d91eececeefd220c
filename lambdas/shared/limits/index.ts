export { CumulativeLedger, LedgerContention, type LedgerOptions } from './ledger';
export {
  CumulativeDeclarationError,
  CumulativeFigure,
  cumulativeProblems,
  figureOf,
  LEDGER_TYPE,
  ledgerKey,
  REQUESTER,
  sharesFromFigures,
  sharesOf,
  type CumulativeShare,
  type ShareDeclaration,
  type ShareField,
} from './shares';
