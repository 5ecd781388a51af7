//! TypeScript declarations for the UI, generated from the Rust types with ts-rs, and the
//! domain facts (`facts.ts`) generated from the mirror's `facts` module.
//!
//! Invariant: `ui/src/lib/backend/generated/` is exactly what [`write_all`] produces; the
//! test `generated_bindings_are_current` regenerates into a temporary folder and fails when
//! the committed files differ. Regenerate with
//! `FLUXSTORE_WRITE_BINDINGS=1 cargo test -p fluxstore-desktop generated_bindings`.
use std::collections::BTreeSet;
use std::path::Path;

use fluxstore_mirror::facts::{
    CHARGEBACK_DISPUTE_STATUSES, DASHBOARD_ORIGIN, DASHBOARD_PAGES, DISPUTE_WON_STATUS,
    EXTRA_WEBHOOK_EVENTS, MINOR_UNIT_EXCEPTIONS, ORDER_SESSION_WAIT_SECS,
    RENEWING_SUBSCRIPTION_STATUSES, WEBHOOK_EVENTS, WEBHOOK_PATH, WebhookEvent,
};
use ts_rs::TS;

use crate::dto::*;
use crate::error::{ErrorCode, IpcError};

/// Where the committed declarations live, relative to this crate.
pub const COMMITTED_DIR: &str = "../ui/src/lib/backend/generated";

const HEADER: &str =
    "// Generated from the Rust shell (src-tauri) by ts-rs. Do not edit by hand.\n";

const FACTS_HEADER: &str = "// Generated from the mirror's facts (crates/mirror/src/facts.rs) by the shell's bindings. Do not edit by hand.\n";

/// The generated module of domain facts (values, not only types).
const FACTS: &str = "facts";

/// Every type the UI sees. Dependencies (e.g. `Mode`) come along automatically.
macro_rules! export_types {
    ($dir:expr; $($t:ty),* $(,)?) => {
        $( <$t as TS>::export_all_to($dir).map_err(|e| e.to_string())?; )*
    };
}

/// Write every declaration, `commands.ts` and `index.ts` into `dir`.
pub fn write_all(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    export_types!(dir;
        ErrorCode, IpcError, Mode, Source, Order, OrderStatus, Page<Order>, TimelineEntry, Dispute,
        OrderDetail, Subscription, Invoice, StoredEvent, Rejection, RejectionCode, ModeFacts,
        ChecklistFacts, ApiCall, ConnectionMethod, SecretShown, SecretInfo, ModeConnection,
        RelayStatus, ConnectionStatus, ProfileStatus, ConnectService, ConnectServiceSource,
        AccountRequirements, AccountStatus, WebhookEndpointCreated, ConnectStarted, RefundReason,
        ChooseMethodArgs, SaveKeysArgs, SaveWebhookSecretArgs, CreateWebhookArgs, ModeArgs,
        AccountStatusArgs, ConnectServiceArgs, OrderFilters, ListOrdersArgs, OrderDetailArgs, RefundArgs,
        ListEventsArgs, LimitArgs, OpenUrlArgs, AppliedEvent, SyncProgress, OnlineChanged,
        SignInEnded, WebhookCheck, OpenDashboardArgs, LineItem, MetadataField, OrderMarker,
        OrderMarkerArgs, OtherActivity, LookupReport, StripeSays, OrderFacts, DisputeFact,
        RefundFact, Healed, StartupStatus, DisputeArgs, DraftTextArgs, EvidenceFileArgs, SubmitEvidenceArgs,
        DisputeTextValue, DisputeTextArgs, DisputeWorkbench, EvidenceValue, DraftFile, DisputeText,
        EvidenceField, EvidenceKind, ReasonGuidance,
        RevenueSummary, CurrencyRevenue, RevenueSummaryArgs, Notice,
        NoticeKind, NoticeTarget, ExportList, ExportCsvArgs, ExportDone, NoticePreference,
        Preferences, SetPreferencesArgs,
        HubFeedStatus, HubFeedState, HubSource, HubArgs, KeyHubStatus, KeyHubChange, KeyHubArgs,
    );
    std::fs::write(dir.join(format!("{FACTS}.ts")), facts_ts()).map_err(|e| e.to_string())?;
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|f| f.strip_suffix(".ts").map(str::to_owned))
        .filter(|f| f != "index" && f != "commands" && f != FACTS)
        .collect();
    files.sort();
    let declared: BTreeSet<String> = files.iter().cloned().collect();
    std::fs::write(dir.join("commands.ts"), commands_ts(&declared)).map_err(|e| e.to_string())?;
    let mut index = String::from(HEADER);
    for f in &files {
        index.push_str(&format!("export type * from './{f}';\n"));
    }
    index.push_str("export type * from './commands';\n");
    index.push_str("export { EVENT_NAMES, COMMAND_NAMES } from './commands';\n");
    index.push_str(&format!("export * from './{FACTS}';\n"));
    std::fs::write(dir.join("index.ts"), index).map_err(|e| e.to_string())
}

/// A TypeScript string literal (JSON's spelling is valid TypeScript).
fn lit(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn events_ts(name: &str, doc: &str, events: &[WebhookEvent]) -> String {
    let mut out = format!("\n/** {doc} */\nexport const {name} = [\n");
    for e in events {
        out.push_str(&format!(
            "  {{ type: {}, purpose: {} }},\n",
            lit(e.event_type),
            lit(e.purpose)
        ));
    }
    out.push_str("] as const;\n");
    out
}

/// `facts.ts`: the mirror's domain facts as values the UI can list, look up and check against.
fn facts_ts() -> String {
    let mut out = String::from(FACTS_HEADER);
    out.push_str(&format!(
        "import type {{ {o} }} from './{o}';\nimport type {{ {r} }} from './{r}';\nimport type {{ {e} }} from './{e}';\nimport type {{ {g} }} from './{g}';\nimport type {{ {t} }} from './{t}';\nimport type {{ {n} }} from './{n}';\n",
        o = OrderStatus::ident(),
        r = RejectionCode::ident(),
        e = EvidenceField::ident(),
        g = ReasonGuidance::ident(),
        t = DisputeText::ident(),
        n = NoticeKind::ident(),
    ));
    out.push_str(&events_ts(
        "WEBHOOK_EVENTS",
        "The 12 webhook events of the product page (R8), in the page's order.",
        &WEBHOOK_EVENTS,
    ));
    out.push_str(&events_ts(
        "EXTRA_WEBHOOK_EVENTS",
        "Also subscribed by the endpoint FluxStore creates itself.",
        &EXTRA_WEBHOOK_EVENTS,
    ));
    out.push_str("\n/** Every rejection code, in the order the UI explains them. */\nexport const REJECTION_CODES = [\n");
    for c in RejectionCode::ALL {
        out.push_str(&format!("  {},\n", lit(c.as_str())));
    }
    out.push_str("] as const satisfies readonly RejectionCode[];\n");
    out.push_str("\n/** What each rejection code means to the store owner, and what to do about it. */\nexport const REJECTION_ADVICE: Readonly<Record<RejectionCode, { reason: string; fix: string }>> = {\n");
    for c in RejectionCode::ALL {
        out.push_str(&format!(
            "  {}: {{\n    reason: {},\n    fix: {},\n  }},\n",
            c.as_str(),
            lit(c.reason()),
            lit(c.fix())
        ));
    }
    out.push_str("};\n");
    out.push_str(&format!(
        "\n/** Refused deliveries are counted per code in buckets of this many seconds (one row each). */\nexport const REJECTION_BUCKET_SECS = {};\n",
        fluxstore_mirror::REJECTION_BUCKET_SECS
    ));
    out.push_str("\n/**\n * Stripe's currencies whose minor unit is not a hundredth (upper-case ISO code → exponent);\n * every other currency has two decimals in Stripe's API.\n */\nexport const MINOR_UNIT_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({\n");
    for (code, exp) in MINOR_UNIT_EXCEPTIONS {
        out.push_str(&format!("  {}: {exp},\n", code.to_ascii_uppercase()));
    }
    out.push_str("});\n");
    out.push_str("\n/** Subscription statuses that will try to renew, so a disconnect breaks them (R14). */\nexport const RENEWING_SUBSCRIPTION_STATUSES: readonly string[] = [");
    let renewing: Vec<String> = RENEWING_SUBSCRIPTION_STATUSES
        .iter()
        .map(|s| lit(s))
        .collect();
    out.push_str(&renewing.join(", "));
    out.push_str("];\n");
    out.push_str("\n/** Dispute statuses of a chargeback (money taken when opened); the revenue summary counts only these. */\nexport const CHARGEBACK_DISPUTE_STATUSES: readonly string[] = [");
    let chargeback: Vec<String> = CHARGEBACK_DISPUTE_STATUSES.iter().map(|s| lit(s)).collect();
    out.push_str(&chargeback.join(", "));
    out.push_str("];\n");
    out.push_str(&format!(
        "\n/** The dispute status whose amount came back to the balance. */\nexport const DISPUTE_WON_STATUS = {};\n",
        lit(DISPUTE_WON_STATUS)
    ));
    out.push_str("\n/** Every notice kind, in the order the preferences list them. */\nexport const NOTICE_KINDS = [\n");
    for k in NoticeKind::ALL {
        out.push_str(&format!("  {},\n", lit(k.as_str())));
    }
    out.push_str(&format!(
        "] as const satisfies readonly {}[];\n",
        NoticeKind::ident()
    ));
    out.push_str("\n/** Every order status, in the order the UI offers them as filters. */\nexport const ORDER_STATUSES = [\n");
    for s in OrderStatus::ALL {
        out.push_str(&format!("  {},\n", lit(s.as_str())));
    }
    out.push_str("] as const satisfies readonly OrderStatus[];\n");
    out.push_str(&format!(
        "\n/** The path Stripe posts webhooks to on the relay. */\nexport const WEBHOOK_PATH = {};\n",
        lit(WEBHOOK_PATH)
    ));
    out.push_str(&format!(
        "\n/** A key-mode store's webhook address at the FluxStore hub: this path, then its store key. */\nexport const STORE_WEBHOOK_PREFIX = {};\n",
        lit(fluxstore_gateway::profile::hub::STORE_WEBHOOK_PREFIX)
    ));
    out.push_str(&format!(
        "\n/** The Stripe Dashboard (the shell's `open_dashboard` builds its links; `/test` in test mode). */\nexport const DASHBOARD_ORIGIN = {};\n",
        lit(DASHBOARD_ORIGIN)
    ));
    out.push_str("\n/** Stripe id prefix → the Dashboard page of that kind of object. */\nexport const DASHBOARD_PAGES: ReadonlyArray<readonly [string, string]> = [\n");
    for (prefix, page) in DASHBOARD_PAGES {
        out.push_str(&format!("  [{}, {}],\n", lit(prefix), lit(page)));
    }
    out.push_str("];\n");
    out.push_str(&evidence_ts());
    out.push_str(&format!(
        "\n/** How long (seconds) a payment seen without its Checkout Session waits for it before it counts as other activity. */\nexport const ORDER_SESSION_WAIT_SECS = {ORDER_SESSION_WAIT_SECS};\n"
    ));
    out
}

/// The dispute evidence facts: the form's fields, the Files API's rules, the reusable texts
/// and the plain-words guidance per reason (the mirror's `evidence` module).
fn evidence_ts() -> String {
    use fluxstore_mirror::evidence::{
        DISPUTE_TEXTS, EVIDENCE_FIELDS, EVIDENCE_FILE_MAX_BYTES, EVIDENCE_FILE_TYPES,
        EVIDENCE_LONG_TEXT_FIELDS, EVIDENCE_LONG_TEXT_MAX_CHARS, EVIDENCE_SHORT_TEXT_MAX_CHARS,
        EVIDENCE_TEXT_MAX_CHARS, GENERAL_GUIDANCE, REASONS,
    };
    let list = |items: &[&str]| items.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ");
    let guidance = |g: &ReasonGuidance| {
        format!(
            "{{ code: {}, words: {}, advice: {}, key_fields: [{}] }}",
            lit(g.code),
            lit(g.words),
            lit(g.advice),
            list(g.key_fields)
        )
    };
    let mut out = String::from(
        "\n/** The dispute evidence form: Stripe's evidence fields that fit digital goods, in the form's order. */\nexport const EVIDENCE_FIELDS: readonly EvidenceField[] = [\n",
    );
    for f in EVIDENCE_FIELDS {
        let kind = match f.kind {
            EvidenceKind::Text => "text",
            EvidenceKind::File => "file",
        };
        out.push_str(&format!(
            "  {{ name: {}, kind: {}, label: {} }},\n",
            lit(f.name),
            lit(kind),
            lit(f.label)
        ));
    }
    out.push_str("];\n");
    out.push_str(&format!(
        "\n/** Largest evidence file Stripe's Files API takes (bytes). */\nexport const EVIDENCE_FILE_MAX_BYTES = {EVIDENCE_FILE_MAX_BYTES};\n"
    ));
    out.push_str("\n/** Evidence file types Stripe takes: [MIME type, file extensions]. */\nexport const EVIDENCE_FILE_TYPES: ReadonlyArray<readonly [string, readonly string[]]> = [\n");
    for (mime, ext) in EVIDENCE_FILE_TYPES {
        out.push_str(&format!("  [{}, [{}]],\n", lit(mime), list(ext)));
    }
    out.push_str("];\n");
    out.push_str(&format!(
        "\n/** Stripe's limit on all text evidence of one dispute together (characters). */\nexport const EVIDENCE_TEXT_MAX_CHARS = {EVIDENCE_TEXT_MAX_CHARS};\n"
    ));
    out.push_str(&format!(
        "\n/** Stripe's free-text evidence fields (up to EVIDENCE_LONG_TEXT_MAX_CHARS each); every other field takes up to EVIDENCE_SHORT_TEXT_MAX_CHARS. */\nexport const EVIDENCE_LONG_TEXT_FIELDS: readonly string[] = [{}];\nexport const EVIDENCE_LONG_TEXT_MAX_CHARS = {EVIDENCE_LONG_TEXT_MAX_CHARS};\nexport const EVIDENCE_SHORT_TEXT_MAX_CHARS = {EVIDENCE_SHORT_TEXT_MAX_CHARS};\n",
        list(&EVIDENCE_LONG_TEXT_FIELDS)
    ));
    out.push_str("\n/** The owner's reusable evidence texts (kept in settings) and the field each pre-fills. */\nexport const DISPUTE_TEXTS: ReadonlyArray<{ text: DisputeText; label: string; field: string }> = [\n");
    for t in DISPUTE_TEXTS {
        let text = serde_json::to_value(t).unwrap_or_default();
        out.push_str(&format!(
            "  {{ text: {text}, label: {}, field: {} }},\n",
            lit(t.label()),
            lit(t.evidence_field())
        ));
    }
    out.push_str("];\n");
    out.push_str("\n/** Stripe's dispute reasons in plain words, with what helps to answer each. */\nexport const REASON_GUIDANCE: readonly ReasonGuidance[] = [\n");
    for g in &REASONS {
        out.push_str(&format!("  {},\n", guidance(g)));
    }
    out.push_str("];\n");
    out.push_str(&format!(
        "\n/** The guidance for a reason this build does not know. */\nexport const GENERAL_GUIDANCE: ReasonGuidance = {};\n",
        guidance(&GENERAL_GUIDANCE)
    ));
    out
}

/// The command map (name → [argument, result]) and the event map, from the Rust declarations.
fn commands_ts(declared: &BTreeSet<String>) -> String {
    let table = crate::commands::table();
    let events = [
        (crate::notify::EVENT_APPLIED, AppliedEvent::ident()),
        (crate::notify::SYNC_PROGRESS, SyncProgress::ident()),
        (crate::notify::ONLINE_CHANGED, OnlineChanged::ident()),
        (crate::notify::ACCOUNT_CHANGED, ConnectionStatus::ident()),
        (crate::notify::SIGN_IN_ENDED, SignInEnded::ident()),
        (crate::notify::NOTICE_SHOWN, Notice::ident()),
        (crate::notify::HUB_FEED_CHANGED, HubFeedStatus::ident()),
    ];
    let mut used = BTreeSet::new();
    let mut note = |ts: &str| {
        for word in ts.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            if declared.contains(word) {
                used.insert(word.to_owned());
            }
        }
    };
    for (_, a, r) in &table {
        note(a);
        note(r);
    }
    for (_, t) in &events {
        note(t);
    }
    let mut out = String::from(HEADER);
    for t in &used {
        out.push_str(&format!("import type {{ {t} }} from './{t}';\n"));
    }
    out.push_str(
        "\n/** Command name → [argument (sent as `{ args }`), result]. `void`: no argument. */\n",
    );
    out.push_str("export interface Commands {\n");
    for (name, a, r) in &table {
        let r = if r == "null" {
            "null".to_owned()
        } else {
            r.clone()
        };
        out.push_str(&format!("  {name}: [{a}, {r}];\n"));
    }
    out.push_str("}\n\nexport const COMMAND_NAMES = [\n");
    for (name, _, _) in &table {
        out.push_str(&format!("  '{name}',\n"));
    }
    out.push_str("] as const;\n\n/** Shell → UI events and their payloads. */\nexport interface BackendEvents {\n");
    for (name, t) in &events {
        out.push_str(&format!("  {name}: {t};\n"));
    }
    out.push_str("}\n\nexport const EVENT_NAMES = [\n");
    for (name, _) in &events {
        out.push_str(&format!("  '{name}',\n"));
    }
    out.push_str("] as const;\n");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        (name, std::fs::read_to_string(e.path()).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn generated_bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(super::COMMITTED_DIR);
        if std::env::var_os("FLUXSTORE_WRITE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            super::write_all(&committed).expect("write the bindings");
        }
        let fresh = tempfile::tempdir().expect("temp dir");
        super::write_all(fresh.path()).expect("generate the bindings");
        let want = read_dir(fresh.path());
        let have = read_dir(&committed);
        assert!(
            want.len() > 40,
            "every IPC type is generated ({} files)",
            want.len()
        );
        let stale: Vec<&String> = want
            .iter()
            .filter(|(name, text)| have.get(*name) != Some(*text))
            .map(|(name, _)| name)
            .chain(have.keys().filter(|name| !want.contains_key(*name)))
            .collect();
        assert!(
            stale.is_empty(),
            "ui/src/lib/backend/generated is stale ({stale:?}); regenerate with \
             FLUXSTORE_WRITE_BINDINGS=1 cargo test -p fluxstore-desktop generated_bindings"
        );
    }

    #[test]
    fn every_command_is_in_the_generated_map() {
        let dir = tempfile::tempdir().expect("temp dir");
        super::write_all(dir.path()).expect("generate");
        let commands =
            std::fs::read_to_string(dir.path().join("commands.ts")).expect("commands.ts");
        for (name, args, result) in crate::commands::table() {
            assert!(
                commands.contains(&format!("  {name}: [{args}, {result}];")),
                "{name} missing"
            );
        }
        assert!(commands.contains("list_orders: [ListOrdersArgs, Page<Order>];"));
        assert!(commands.contains("import type { Page } from './Page';"));
        assert!(commands.contains("event_applied: AppliedEvent;"));
    }

    #[test]
    fn every_fact_reaches_the_ui() {
        use fluxstore_mirror::facts::{
            MINOR_UNIT_EXCEPTIONS, RENEWING_SUBSCRIPTION_STATUSES, subscribed_event_types,
        };

        use crate::dto::{OrderStatus, RejectionCode};

        let dir = tempfile::tempdir().expect("temp dir");
        super::write_all(dir.path()).expect("generate");
        let facts = std::fs::read_to_string(dir.path().join("facts.ts")).expect("facts.ts");
        for t in subscribed_event_types() {
            assert!(facts.contains(&format!("type: \"{t}\"")), "{t}");
        }
        for c in RejectionCode::ALL {
            assert!(facts.contains(&format!("  {c}: {{\n    reason: ")), "{c}");
            assert!(facts.contains(&format!("  \"{c}\",\n")), "{c} listed");
        }
        for (code, exp) in MINOR_UNIT_EXCEPTIONS {
            assert!(facts.contains(&format!("  {}: {exp},\n", code.to_ascii_uppercase())));
        }
        for s in RENEWING_SUBSCRIPTION_STATUSES
            .iter()
            .chain(fluxstore_mirror::facts::CHARGEBACK_DISPUTE_STATUSES.iter())
        {
            assert!(facts.contains(&format!("\"{s}\"")));
        }
        for s in OrderStatus::ALL {
            assert!(facts.contains(&format!("  \"{s}\",\n")), "{s}");
        }
        let index = std::fs::read_to_string(dir.path().join("index.ts")).expect("index.ts");
        assert!(index.contains("export * from './facts';"));
        assert!(!index.contains("export type * from './facts';"));
    }
}
