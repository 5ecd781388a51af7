//! TypeScript declarations for the UI, generated from the Rust types with ts-rs.
//!
//! Invariant: `ui/src/lib/backend/generated/` is exactly what [`write_all`] produces; the
//! test `generated_bindings_are_current` regenerates into a temporary folder and fails when
//! the committed files differ. Regenerate with
//! `FLUXSTORE_WRITE_BINDINGS=1 cargo test -p fluxstore-desktop generated_bindings`.
use std::collections::BTreeSet;
use std::path::Path;

use ts_rs::TS;

use crate::dto::*;
use crate::error::{ErrorCode, IpcError};

/// Where the committed declarations live, relative to this crate.
pub const COMMITTED_DIR: &str = "../ui/src/lib/backend/generated";

const HEADER: &str =
    "// Generated from the Rust shell (src-tauri) by ts-rs. Do not edit by hand.\n";

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
        ErrorCode, IpcError, Mode, Source, Order, Page<Order>, TimelineEntry, Dispute, OrderDetail,
        Subscription, Invoice, StoredEvent, Rejection, ModeFacts, ChecklistFacts, ApiCall,
        ConnectionMethod, SecretKind, SecretInfo, ModeConnection, RelayStatus, ConnectionStatus,
        Requirements, AccountStatus, WebhookEndpointCreated, ConnectStarted, RefundReason,
        ChooseMethodArgs, SaveKeysArgs, SaveWebhookSecretArgs, CreateWebhookArgs, ModeArgs,
        AccountStatusArgs, ListOrdersArgs, OrderDetailArgs, RefundArgs, ListEventsArgs, LimitArgs,
        OpenUrlArgs, EventApplied, SyncProgress, OnlineChanged,
    );
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|f| f.strip_suffix(".ts").map(str::to_owned))
        .filter(|f| f != "index" && f != "commands")
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
    std::fs::write(dir.join("index.ts"), index).map_err(|e| e.to_string())
}

/// The command map (name → [argument, result]) and the event map, from the Rust declarations.
fn commands_ts(declared: &BTreeSet<String>) -> String {
    let table = crate::commands::table();
    let events = [
        (crate::notify::EVENT_APPLIED, EventApplied::ident()),
        (crate::notify::SYNC_PROGRESS, SyncProgress::ident()),
        (crate::notify::ONLINE_CHANGED, OnlineChanged::ident()),
        (crate::notify::ACCOUNT_CHANGED, ConnectionStatus::ident()),
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
    }
}
