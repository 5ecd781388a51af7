/**
 * Dispute facts for the views, read from the generated facts (declared once in Rust): a
 * reason in the owner's words, and the evidence form's fields.
 */
import {
  EVIDENCE_FIELDS,
  EVIDENCE_LONG_TEXT_FIELDS,
  EVIDENCE_LONG_TEXT_MAX_CHARS,
  EVIDENCE_SHORT_TEXT_MAX_CHARS,
  GENERAL_GUIDANCE,
  REASON_GUIDANCE,
} from './backend/generated/facts';
import type { EvidenceField, ReasonGuidance } from './backend/types';

/** The guidance for Stripe's reason code (a reason this build does not know gets the general one). */
export function guidanceFor(code: string | null): ReasonGuidance {
  return REASON_GUIDANCE.find((g) => g.code === code) ?? GENERAL_GUIDANCE;
}

/** "The customer says they did not receive what they bought", not `product_not_received`. */
export function reasonWords(code: string | null): string {
  return guidanceFor(code).words;
}

export function evidenceField(name: string): EvidenceField | undefined {
  return EVIDENCE_FIELDS.find((f) => f.name === name);
}

export const TEXT_FIELDS = EVIDENCE_FIELDS.filter((f) => f.kind === 'text');
export const FILE_FIELDS = EVIDENCE_FIELDS.filter((f) => f.kind === 'file');

/** The most characters Stripe takes in evidence field `name`. */
export function maxChars(name: string): number {
  return EVIDENCE_LONG_TEXT_FIELDS.includes(name) ? EVIDENCE_LONG_TEXT_MAX_CHARS : EVIDENCE_SHORT_TEXT_MAX_CHARS;
}
