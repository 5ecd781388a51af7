/**
 * The in-memory backend's dispute workbench, with the mirror's semantics: the draft is the
 * owner's work (its own record, never an event), every change moves its revision on, and the
 * values the owner has not typed are pre-filled on read from the order (marked, with where
 * they came from).
 *
 * Invariant: the evidence fields, file rules, reusable texts and reason guidance come from the
 * generated facts (declared once in Rust); the texts of pre-filled values follow the mirror's.
 */
import { maxChars } from '../disputes';
import { minorUnitExponent } from '../money';
import {
  DISPUTE_TEXTS,
  EVIDENCE_FIELDS,
  EVIDENCE_FILE_MAX_BYTES,
  EVIDENCE_FILE_TYPES,
  EVIDENCE_TEXT_MAX_CHARS,
  GENERAL_GUIDANCE,
  REASON_GUIDANCE,
} from './generated/facts';
import { ownOrders } from './memory-orders';
import type { MemoryDraft, StoreData } from './memory-seed';
import { fail, orderDetail } from './memory-views';
import type {
  DisputeText,
  DisputeTextValue,
  DisputeWorkbench,
  DraftFile,
  EvidenceKind,
  EvidenceValue,
  Mode,
  Order,
  OrderDetail,
  OrderStatus,
} from './types';

/** A file as the OS file dialog hands it over (the outside world of the memory backend). */
export interface PickedFile {
  name: string;
  size: number;
  /** The type read from its content; null when it is not a PDF, JPEG or PNG. */
  mime: string | null;
}

/** The settings key of a reusable text (the mirror's `DisputeText::setting_key`). */
export const textKey = (t: DisputeText) => `dispute_text.${t}`;

/** `2026-05-01 14:03 UTC`: a time as evidence shows it. */
export function utcText(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** The mirror's money text: `25.00 USD`, `2,500 JPY`, `5.120 KWD`. */
export function moneyText(amount: number, currency: string): string {
  const exp = minorUnitExponent(currency);
  const abs = Math.abs(amount);
  const unit = 10 ** exp;
  const whole = String(Math.floor(abs / unit)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = exp === 0 ? '' : '.' + String(abs % unit).padStart(exp, '0');
  return `${amount < 0 ? '-' : ''}${whole}${frac} ${currency.toUpperCase()}`;
}

export function reasonGuidance(code: string | null) {
  return REASON_GUIDANCE.find((g) => g.code === code) ?? GENERAL_GUIDANCE;
}

/** Stripe still takes evidence in these statuses (warning inquiries included). */
export function acceptsEvidenceStatus(status: string): boolean {
  return status === 'needs_response' || status === 'warning_needs_response';
}

function dispute(d: StoreData, mode: Mode, id: string) {
  const x = d.disputes.find((x) => x.id === id.trim() && x.mode === mode);
  if (!x) fail('not_found', `The dispute ${id.trim()} is not in this mode's mirror. Check the test/live switch.`);
  return x;
}

const OUTCOME: Record<OrderStatus, string> = {
  paid: 'paid, not disputed',
  refunded: 'refunded',
  partially_refunded: 'partly refunded',
  disputed: 'disputed',
  dispute_won: 'disputed, won',
  dispute_lost: 'disputed, lost',
  failed: 'payment failed',
  pending: 'not paid yet',
};

function prefill(d: StoreData, detail: OrderDetail | null, others: Order[]): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  const texts = new Map<string, string>();
  for (const t of DISPUTE_TEXTS) {
    const v = d.settings[textKey(t.text)];
    if (v && v.trim()) texts.set(t.field, v);
  }
  const refund = texts.get('refund_policy_disclosure');
  if (refund) out.set('refund_policy_disclosure', [refund, 'your refund policy (settings)']);
  const terms = texts.get('cancellation_policy_disclosure');
  if (terms) out.set('cancellation_policy_disclosure', [terms, 'your terms of sale (settings)']);
  const delivery = texts.get('access_activity_log');
  if (!detail) {
    if (delivery) out.set('access_activity_log', [delivery, 'your delivery explanation (settings)']);
    return out;
  }
  const o = detail.order;
  if (o.customer_name) out.set('customer_name', [o.customer_name, "the order's buyer"]);
  if (o.customer_email) out.set('customer_email_address', [o.customer_email, "the order's buyer"]);
  out.set('service_date', [utcText(o.created).slice(0, 10), "the order's date"]);
  const product: string[] = [];
  for (const li of detail.line_items ?? [])
    product.push(`${li.quantity ?? 1} × ${li.description ?? 'item'} (${moneyText(li.amount_total, li.currency)})`);
  if (product.length === 0 && o.amount !== null && o.currency !== null)
    product.push(`Order ${o.session_id} of ${moneyText(o.amount, o.currency)}`);
  for (const m of detail.metadata) product.push(`${m.key}: ${m.value}`);
  if (product.length) out.set('product_description', [product.join('\n'), "the order's items and details"]);
  const log: string[] = [];
  if (delivery) log.push(delivery);
  log.push(`Purchased ${utcText(o.created)} (order ${o.session_id}).`);
  for (const m of detail.metadata) log.push(`${m.key}: ${m.value}`);
  out.set('access_activity_log', [log.join('\n'), delivery ? 'your delivery explanation (settings) and the order' : 'the order']);
  const other: string[] = [];
  if (others.length) {
    other.push(`The same customer (${o.customer_email ?? ''}) placed ${others.length} other order(s):`);
    for (const x of others) {
      const amount = x.amount !== null && x.currency !== null ? moneyText(x.amount, x.currency) : '';
      other.push(`- ${utcText(x.created)} ${x.session_id} ${amount}: ${OUTCOME[x.status]}`);
    }
  }
  const risk: string[] = [];
  if (o.card_brand && o.card_last4) risk.push(`paid with ${o.card_brand} card ending ${o.card_last4}`);
  if (o.customer_country) risk.push(`billing country ${o.customer_country}`);
  if (o.risk_level) risk.push(`Stripe Radar risk level ${o.risk_level}`);
  if (risk.length) other.push(`Payment: ${risk.join(', ')}.`);
  if (other.length) out.set('uncategorized_text', [other.join('\n'), "the customer's other orders and the payment's risk data"]);
  return out;
}

export function workbench(d: StoreData, mode: Mode, id: string, now: number): DisputeWorkbench {
  const x = dispute(d, mode, id);
  const own = x.order_session_id ? ownOrders(d).find((o) => o.order.mode === mode && o.order.session_id === x.order_session_id) : undefined;
  const order = own ? orderDetail(d, mode, own.order.session_id) : null;
  const email = order?.order.customer_email?.toLowerCase() ?? null;
  const others = email
    ? ownOrders(d)
        .map((r) => r.order)
        .filter((o) => o.mode === mode && o.customer_email?.toLowerCase() === email && o.session_id !== order?.order.session_id)
        .sort((a, b) => b.created - a.created || (a.session_id < b.session_id ? 1 : -1))
        .slice(0, 20)
    : [];
  const draft = d.drafts[x.id];
  const pre = prefill(d, order, others);
  const values: EvidenceValue[] = EVIDENCE_FIELDS.filter((f) => f.kind === 'text').map((f) => {
    const typed = draft?.fields[f.name];
    if (typed !== undefined) return { field: f.name, value: typed, prefilled: false, source: null };
    const p = pre.get(f.name);
    return p ? { field: f.name, value: p[0], prefilled: true, source: p[1] } : { field: f.name, value: '', prefilled: false, source: null };
  });
  const ev = d.evidence[x.id] ?? { has_evidence: null, submission_count: null, past_due: null };
  const open = acceptsEvidenceStatus(x.status) && (x.due_by === null || x.due_by > now);
  return {
    dispute: x,
    has_evidence: ev.has_evidence,
    submission_count: ev.submission_count,
    past_due: ev.past_due,
    accepts_evidence: open && ev.past_due !== true,
    guidance: reasonGuidance(x.reason),
    order,
    other_orders: others,
    values,
    files: draft?.files ?? [],
    draft_revision: draft?.revision ?? null,
    draft_updated_at: draft?.updated_at ?? null,
  };
}

function checkField(field: string, kind: EvidenceKind): void {
  const f = EVIDENCE_FIELDS.find((f) => f.name === field);
  if (f && f.kind === kind) return;
  if (f && kind === 'text') fail('invalid_input', `"${field}" takes a file, not text: attach one with --file ${field}=PATH.`);
  if (f) fail('invalid_input', `"${field}" takes text, not a file: set it with --set ${field}=TEXT.`);
  const names = EVIDENCE_FIELDS.filter((f) => f.kind === kind).map((f) => f.name);
  fail('invalid_input', `"${field}" is not an evidence field this app sends. Fields: ${names.join(', ')}.`);
}

/** Apply one change to the draft (created on the first), as the mirror's `save`. */
function save(d: StoreData, id: string, now: number, change: (draft: MemoryDraft) => void): void {
  const old = d.drafts[id];
  const next: MemoryDraft = old
    ? { ...structuredClone(old), revision: old.revision + 1, updated_at: now }
    : { fields: {}, files: [], revision: 1, updated_at: now };
  change(next);
  const total = Object.values(next.fields).reduce((n, v) => n + [...v].length, 0);
  if (total > EVIDENCE_TEXT_MAX_CHARS)
    fail('invalid_input', `The evidence texts add up to ${total} characters; Stripe takes at most ${EVIDENCE_TEXT_MAX_CHARS} in all. Shorten some of them.`);
  d.drafts[id] = next;
}

export function saveText(d: StoreData, mode: Mode, id: string, field: string, value: string | null, now: number): void {
  const x = dispute(d, mode, id);
  checkField(field, 'text');
  const n = value === null ? 0 : [...value].length;
  if (n > maxChars(field))
    fail('invalid_input', `"${field}" is ${n} characters long; Stripe takes at most ${maxChars(field)} in that field. Shorten it.`);
  save(d, x.id, now, (draft) => {
    if (value === null) delete draft.fields[field];
    else draft.fields[field] = value;
  });
}

const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/** Attach a picked file to a file field, checked as the gateway checks it. */
export function attachFile(d: StoreData, mode: Mode, id: string, field: string, file: PickedFile, now: number, seq: number): void {
  const x = dispute(d, mode, id);
  const f = EVIDENCE_FIELDS.find((f) => f.name === field);
  if (!f || f.kind !== 'file')
    fail(
      'invalid_input',
      `"${field}" does not take a file. Files go to: ${EVIDENCE_FIELDS.filter((f) => f.kind === 'file').map((f) => f.name).join(', ')}.`,
    );
  if (file.size > EVIDENCE_FILE_MAX_BYTES)
    fail(
      'invalid_input',
      `${file.name} is ${mb(file.size)}; Stripe takes evidence files of at most ${mb(EVIDENCE_FILE_MAX_BYTES)}. Make it smaller (e.g. save it as a PDF at a lower quality) and attach it again.`,
    );
  const type = EVIDENCE_FILE_TYPES.find(([m]) => m === file.mime);
  if (!type)
    fail(
      'invalid_input',
      `${file.name} is not a PDF, JPEG or PNG file, the only kinds Stripe takes as evidence. Save or export it as a PDF and attach it again.`,
    );
  const sha = seq.toString(16).padStart(64, '0');
  const copy: DraftFile = {
    field,
    file_name: file.name,
    stored_path: `evidence/${x.id}/${field}-${sha.slice(0, 16)}.${type[1][0]}`,
    size: file.size,
    mime: type[0],
    sha256: sha,
    stripe_file_id: null,
  };
  save(d, x.id, now, (draft) => {
    draft.files = [...draft.files.filter((f) => f.field !== field), copy].sort((a, b) => (a.field < b.field ? -1 : 1));
  });
}

export function removeFile(d: StoreData, mode: Mode, id: string, field: string, now: number): void {
  const x = dispute(d, mode, id);
  checkField(field, 'file');
  save(d, x.id, now, (draft) => {
    draft.files = draft.files.filter((f) => f.field !== field);
  });
}

export function disputeTexts(d: StoreData): DisputeTextValue[] {
  return DISPUTE_TEXTS.map((t) => ({ text: t.text, label: t.label, field: t.field, value: d.settings[textKey(t.text)] ?? '' }));
}

export function setDisputeText(d: StoreData, text: DisputeText, value: string): DisputeTextValue[] {
  const v = value.trim();
  if (v) d.settings[textKey(text)] = v;
  else delete d.settings[textKey(text)];
  return disputeTexts(d);
}
