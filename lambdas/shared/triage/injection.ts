import { INJECTION_SIGNALS, type InjectionSignal } from '../schemas/workflow';
import { looksLikeToken } from '../shield/pii';
import { INVISIBLE_CHARACTERS, skeleton, spacedOutWords } from '../shield/unicode';

/**
 * The injection checks: what the gateway runs on every submitted request (its text and its
 * fields' strings), and triage again on the state. Apart from the rest of triage so that the
 * gateway loads only these, not the catalog's cues, the example classifier or the value readers.
 */

/** The pattern-based injection families; hidden characters and encoded payloads have their own data below. */
export type PatternFamily = Exclude<InjectionSignal, 'hidden_characters' | 'encoded_payload'>;

/** Authority a request text might claim or ask the model to assume. */
const AUTHORITY =
  '(?:cfo|ceo|cto|coo|cio|vp|admin(?:istrator)?|approver|root|superuser|sysadmin|auditor|director|manager|supervisor|' +
  '(?:finance|procurement|account|support)[-\\s]+(?:director|manager|lead))';

/**
 * Signs that the text tries to instruct the model or restate limits and approvals, by family.
 * Policy never reads these; they only route the request to a human. Tune these lists, not the
 * code: each pattern should name an intent, never a business word a requester needs.
 */
export const INJECTION_PATTERNS: Record<PatternFamily, readonly RegExp[]> = {
  instruction_override: [
    // "Disregard the vendor rules": one word may name which rules.
    /\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|of\s+)*(?:previous|prior|above|earlier|preceding|system|existing|original|current)?\s*(?:[a-z]+[-\s]+)?(?:instructions?|prompts?|rules|guidelines|policies|policy|context|directives?|constraints?)\b/i,
    /\b(?:ignore|disregard)\s+(?:all\s+|everything\s+|anything\s+|what\s+(?:was\s+)?(?:said|written)\s+)?(?:above|before|previously|earlier)\b/i,
    /\bforget\s+(?:everything|all\s+(?:that|of\s+that|previous|prior))\b/i,
    /\b(?:new|updated|real|revised|actual|secret|hidden)\s+(?:instructions?|rules|system\s+prompt|directives?)\b/i,
    /\bfrom\s+now\s+on,?\s+(?:you|the\s+(?:model|assistant|ai))\b/i,
    /\b(?:developer|admin|god|dan|debug|maintenance|unrestricted|sudo)\s+mode\b/i,
    /\bjailbreak/i,
    /\b(?:reveal|print|show|repeat|output|leak)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+)?(?:prompt|instructions)\b/i,
  ],
  role_play: [
    /\byou\s+are\s+now\b/i,
    /\bpretend\s+(?:to\s+be|you\s+are|you're|that\s+you)\b/i,
    new RegExp(
      `\\b(?:act|acting|behave|respond|answer|speak)\\s+(?:as|like)\\s+(?:if\\s+you\\s+(?:are|were)\\s+)?(?:the\\s+|a\\s+|an\\s+|my\\s+|our\\s+)?(?:${AUTHORITY}|system|developer|(?:ai|assistant|model|bot|llm|chatbot)\\b)`,
      'i',
    ),
    /\brole[-\s]?play/i,
    /\b(?:impersonate|simulate\s+being)\b/i,
    new RegExp(`\\byou\\s+(?:are|will\\s+be|must\\s+be)\\s+(?:the\\s+|a\\s+|an\\s+|my\\s+)?${AUTHORITY}\\b`, 'i'),
    // Authority comes from verified roles, never from the text: claiming it is restating approval.
    new RegExp(`\\b(?:i\\s+am|i'm)\\s+(?:the\\s+|a\\s+|an\\s+|your\\s+)?${AUTHORITY}\\b`, 'i'),
  ],
  role_marker: [
    // A chat role label opening the text, a line or a sentence: "System: …", "### Assistant:".
    /(?:^|[\n\r]|[.!?;,:>)\]]\s)\s*(?:#{1,6}\s*)?(?:system|assistant|developer)\s*(?:prompt|message|instructions?)?\s*:/i,
    /<\s*\/?\s*\|?\s*(?:system|assistant|im_start|im_end|endoftext)\b/i,
    /\|\s*im_(?:start|end)\s*\|/i,
    /\[\s*\/?\s*(?:INST|SYS|SYSTEM)\s*\]/i,
    /<<\s*\/?\s*SYS\s*>>/i,
    // Markup that pretends to end the request or open a policy: "</request><policy>".
    /<\s*\/?\s*(?:request|policy|policies|rules?|instructions?|context|config|user|human|tool|function)\b[^>]{0,40}>/i,
  ],
  policy_restatement: [
    /\bauto[-\s]?approv/i,
    /\b(?:pre-?approved|already\s+(?:been\s+)?approved|approved\s+already)\b/i,
    // "approved by the CFO" restates an approval; "to be approved by" asks for one.
    new RegExp(`(?<!\\b(?:be|being|get|gets|getting)\\s+)\\bapproved\\s+by\\s+(?:the\\s+|my\\s+|our\\s+)?(?:${AUTHORITY}|finance|management|board|legal|procurement)\\b`, 'i'),
    /\b(?:limit|threshold|cap|ceiling|budget)s?\s+(?:is|are|has\s+been|have\s+been|was|were)\s+(?:now\s+|been\s+)?(?:now|raised|increased|lifted|removed|changed|updated|set\s+to|waived|doubled|higher)\b/i,
    /\b(?:new|updated|raised|increased|higher)\s+(?:approval|autonomous|spending|purchas(?:e|ing)|signing)\s+(?:limit|threshold)s?\b/i,
    /\b(?:approval|autonomous|spending|purchas(?:e|ing)|signing)\s+(?:limit|threshold)s?\s+(?:is|are|of|=)\s*(?:now\s+)?(?:\$|usd\s*)?\d/i,
    /\bno\s+(?:approvals?|approvers?|reviews?|sign[-\s]?offs?|humans?|checks?)\s+(?:is\s+|are\s+)?(?:needed|required|necessary)\b/i,
    /\b(?:needs?|requires?|required|needed|wants?)\s+no\s+(?:approvals?|approvers?|reviews?|reviewers?|sign[-\s]?offs?|humans?|checks?)\b/i,
    /\b(?:approvals?|reviews?|sign[-\s]?offs?)\s+(?:is|are)\s+(?:not|no\s+longer)\s+(?:needed|required|necessary)\b/i,
    /\b(?:without|skip|skipping|bypass|bypassing|circumvent|avoid)\s+(?:any\s+|the\s+|an?\s+)?(?:approvals?|approvers?|reviews?|policy|policies|validation|checks?|sign[-\s]?offs?)\b/i,
    /\b(?:do\s+not|don't|dont|doesn't|does\s+not|need\s+not|needn't)\s+(?:ask\s+for|route\s+(?:it\s+)?to|send\s+(?:it\s+)?to|require|need|go\s+to)\s+(?:an?\s+|any\s+)?(?:approvals?|approvers?|humans?|reviews?|sign[-\s]?offs?)\b/i,
    /\bexempt\s+from\s+(?:the\s+|any\s+)?(?:approvals?|reviews?|policy|policies|limits?)\b/i,
    /\b(?:treat|consider|count|record|process|classify|mark)\s+(?:this|it)\s+as\s+(?:approved|pre-?approved|validated|under\s+the\s+limit|below\s+the\s+limit)\b/i,
    /\b(?:real|actual|true|correct)\s+(?:amount|total|price|value)\s+(?:is|was|should\s+be)\b/i,
    /\b(?:amount|total)\s+(?:should\s+be\s+)?(?:read|treated|recorded|entered)\s+as\b/i,
    /\b(?:vendor|supplier)\s+(?:is|has\s+been)\s+(?:already\s+)?(?:validated|approved|whitelisted|allow-?listed|verified|trusted)\b/i,
    // Claims about what policy now says: "per the updated 2027 policy", "processed automatically".
    /\b(?:updated|new|revised|latest|amended|current)\s+(?:\d{4}\s+)?(?:refund\s+|approval\s+|procurement\s+|upgrade\s+)?(?:policy|policies|rules|guidelines)\b/i,
    /\b(?:processed|approved|handled|executed|paid|actioned)\s+automatically\b/i,
    new RegExp(`\\bwithout\\s+(?:a|an|the|any)\\s+(?:${AUTHORITY}|support\\s+lead|approver|human|reviewer)\\b`, 'i'),
  ],
};

/**
 * Words worth hiding by spelling them out letter by letter ("i g n o r e a l l p r e v i o u s"),
 * by the family they signal. Read only inside such a run, where the words run together; a run
 * that contains one is a signal whatever else it says.
 */
export const SPACED_OUT_WORDS: Partial<Record<PatternFamily, readonly string[]>> = {
  instruction_override: ['ignore', 'disregard', 'forget', 'override', 'bypass', 'instruction', 'prompt', 'jailbreak'],
  role_play: ['pretend', 'youarenow', 'roleplay', 'impersonate'],
  policy_restatement: ['approv', 'limit', 'threshold', 'policy', 'exempt', 'noreview'],
};

/** Zero-width, bidi-control, soft-hyphen, filler, variation-selector and tag characters: text a reviewer cannot see. */
export const HIDDEN_CHARACTERS = INVISIBLE_CHARACTERS;

/**
 * Encoded payloads: instructions a reviewer cannot read but a model can decode. `accept` keeps
 * ordinary words and numbers out (a run must look machine-made).
 */
export const ENCODED_PAYLOAD_PATTERNS: readonly { kind: string; pattern: RegExp; accept?: (match: string) => boolean }[] = [
  { kind: 'data URL', pattern: /\bdata:[a-z-]+\/[\w.+-]+(?:;[\w.+-]+(?:=[\w.+-]+)?)*,/i },
  { kind: 'base64', pattern: /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])/g, accept: looksLikeToken },
  { kind: 'hex', pattern: /(?<![0-9A-Za-z])(?:0x)?[0-9A-Fa-f]{32,}(?![0-9A-Za-z])/g, accept: (m) => /[A-Fa-f]/.test(m) && /\d/.test(m) },
  { kind: 'escaped bytes', pattern: /(?:\\x[0-9A-Fa-f]{2}){4,}|(?:\\u[0-9A-Fa-f]{4}){4,}/ },
  { kind: 'percent-encoding', pattern: /(?:%[0-9A-Fa-f]{2}[^\s%]{0,3}){6,}/ },
  { kind: 'HTML entities', pattern: /(?:&#x?[0-9A-Fa-f]{1,6};){4,}/i },
];

interface InjectionFinding {
  signal: InjectionSignal;
  /** For the triage reason: the matched phrase, or the kind of payload (never the payload). */
  label: string;
}

export const SIGNAL_LABELS: Record<InjectionSignal, string> = {
  instruction_override: 'instruction override',
  role_play: 'role play',
  role_marker: 'chat role marker',
  policy_restatement: 'restated limit or approval',
  hidden_characters: 'hidden characters',
  encoded_payload: 'encoded payload',
};

function findInjection(text: string): InjectionFinding[] {
  const found: InjectionFinding[] = [];
  if (HIDDEN_CHARACTERS.test(text)) found.push({ signal: 'hidden_characters', label: SIGNAL_LABELS.hidden_characters });
  // The patterns read the text as written and as a reader sees it ("ıgnore", "ignóre", "i g n o r e").
  const folded = skeleton(text);
  for (const [family, patterns] of Object.entries(INJECTION_PATTERNS) as [PatternFamily, readonly RegExp[]][]) {
    for (const re of patterns) {
      const m = re.exec(text) ?? (folded === text ? null : re.exec(folded));
      if (m) found.push({ signal: family, label: `${SIGNAL_LABELS[family]} "${m[0].trim().slice(0, 40)}"` });
    }
  }
  const spelled = spacedOutWords(text);
  for (const [family, words] of Object.entries(SPACED_OUT_WORDS) as [PatternFamily, readonly string[]][]) {
    const run = spelled.find((letters) => words.some((word) => letters.includes(word)));
    if (run !== undefined && !found.some((f) => f.signal === family)) found.push({ signal: family, label: `${SIGNAL_LABELS[family]} spelled out "${run.slice(0, 40)}"` });
  }
  for (const { kind, pattern, accept } of ENCODED_PAYLOAD_PATTERNS) {
    const matches = pattern.global ? [...text.matchAll(pattern)].map((m) => m[0]) : [pattern.exec(text)?.[0]];
    if (matches.some((m) => m !== undefined && (!accept || accept(m)))) {
      found.push({ signal: 'encoded_payload', label: `${SIGNAL_LABELS.encoded_payload} (${kind})` });
    }
  }
  return found;
}

/** Which injection checks the text trips, as short labels for the triage reason. */
export function detectInjection(text: string): string[] {
  return findInjection(text).map((f) => f.label);
}

/** The injection families the text trips, each once, in INJECTION_SIGNALS order. */
export function injectionSignals(text: string): InjectionSignal[] {
  const found = new Set(findInjection(text).map((f) => f.signal));
  return INJECTION_SIGNALS.filter((s) => found.has(s));
}

/** The strings of submitted fields (keys too): a structured request can smuggle text there. */
export function fieldStrings(fields: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8) return out;
  if (typeof fields === 'string') out.push(fields);
  else if (Array.isArray(fields)) for (const v of fields) fieldStrings(v, out, depth + 1);
  else if (fields !== null && typeof fields === 'object') {
    for (const [k, v] of Object.entries(fields)) {
      out.push(k);
      fieldStrings(v, out, depth + 1);
    }
  }
  return out;
}
