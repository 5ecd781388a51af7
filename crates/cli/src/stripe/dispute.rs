//! `fluxstore dispute draft|show|submit`: the evidence draft of a dispute, kept in the
//! mirror and typed offline, and its submission to Stripe (files through the Files API,
//! which follows `--api-base`).
use std::path::{Path, PathBuf};

use fluxstore_gateway::ProfileError;
use fluxstore_gateway::profile::DraftEdit;
use fluxstore_mirror::evidence::{EVIDENCE_FIELDS, EvidenceKind, utc_text as utc};
use fluxstore_mirror::{DisputeWorkbench, Mode};
use serde_json::json;

use super::{Common, Done, common_profile};

#[derive(Debug, clap::Subcommand)]
pub enum DisputeCommand {
    /// Write the local evidence draft (offline; nothing is sent).
    Draft {
        /// The dispute (dp_… or du_…).
        dispute: String,
        /// A text field, by Stripe's evidence field name (repeat for several). An empty
        /// VALUE clears a pre-filled value.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
        /// A file field and the file to attach (PDF, JPEG or PNG, at most 5 MB); a copy is
        /// kept in the app's data folder.
        #[arg(long = "file", value_name = "FIELD=PATH")]
        file: Vec<String>,
        /// The mirror database (default: the desktop app's).
        #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
        db: Option<PathBuf>,
    },
    /// Print the dispute, its draft and what was pre-filled.
    Show {
        dispute: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The mirror database (default: the desktop app's).
        #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
        db: Option<PathBuf>,
    },
    /// Upload the draft's files and send its evidence to Stripe (submitted to the bank,
    /// or with --stage-only saved at Stripe without submitting).
    Submit {
        dispute: String,
        /// Save the evidence at Stripe without submitting it (submit=false).
        #[arg(long)]
        stage_only: bool,
        #[command(flatten)]
        common: Common,
    },
}

impl DisputeCommand {
    pub fn json(&self) -> bool {
        match self {
            DisputeCommand::Draft { .. } => false,
            DisputeCommand::Show { json, .. } => *json,
            DisputeCommand::Submit { common, .. } => common.json,
        }
    }
}

fn split(pair: &str, flag: &str) -> Result<(String, String), ProfileError> {
    pair.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| {
            ProfileError::Invalid(format!(
                "{flag} takes FIELD=VALUE (e.g. {flag} customer_name=\"Sam Buyer\"); got \"{pair}\"."
            ))
        })
}

fn local_common(db: Option<PathBuf>, json: bool) -> Common {
    Common {
        json,
        db,
        key_file: None,
        api_base: None,
        store: fluxstore_gateway::profile::DEFAULT_STORE.to_owned(),
        mode: None,
    }
}

/// The folder the mirror lives in: attachments are copied next to it.
fn data_dir(db: &Option<PathBuf>) -> Result<PathBuf, ProfileError> {
    let path =
        crate::paths::db_path(db.clone()).map_err(|e| ProfileError::Invalid(format!("{e:#}")))?;
    Ok(path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf))
}

pub async fn run(cmd: DisputeCommand) -> Done {
    match cmd {
        DisputeCommand::Draft {
            dispute,
            set,
            file,
            db,
        } => {
            let mut edits = Vec::new();
            for s in &set {
                let (field, value) = split(s, "--set")?;
                edits.push(DraftEdit::Text { field, value });
            }
            for f in &file {
                let (field, path) = split(f, "--file")?;
                edits.push(DraftEdit::File {
                    field,
                    path: PathBuf::from(path),
                });
            }
            if edits.is_empty() {
                return Err(ProfileError::Invalid(
                    "Nothing to write: give --set FIELD=VALUE or --file FIELD=PATH.".to_owned(),
                ));
            }
            let dir = data_dir(&db)?;
            let profile = common_profile(&local_common(db, false))?;
            let draft = profile.edit_dispute_draft(&dir, &dispute, edits).await?;
            let text = format!(
                "draft of {} saved (revision {}): {} text field(s), {} file(s); nothing was sent\n",
                draft.dispute_id,
                draft.revision,
                draft.fields.len(),
                draft.files.len()
            );
            Ok((json!(draft), text))
        }
        DisputeCommand::Show { dispute, json, db } => {
            let profile = common_profile(&local_common(db, json))?;
            let id = dispute.trim().to_owned();
            let now = unix_now();
            let bench = profile
                .read(move |m| {
                    let Some((d, _)) = m.dispute(&id)? else {
                        return Ok(None);
                    };
                    m.dispute_workbench(d.mode, &id, now)
                })
                .await?
                .ok_or_else(|| {
                    ProfileError::Invalid(format!(
                        "There is no dispute {} in this store's records. Check the id, or sync with Stripe first.",
                        dispute.trim()
                    ))
                })?;
            let text = show_text(&bench);
            Ok((json!(bench), text))
        }
        DisputeCommand::Submit {
            dispute,
            stage_only,
            common,
        } => {
            let profile = common_profile(&common)?;
            let out = profile
                .submit_dispute_evidence(&dispute, !stage_only)
                .await?;
            let what = if out.submitted {
                "submitted to the bank"
            } else {
                "saved at Stripe, not submitted"
            };
            let text = format!(
                "evidence for {} {what}: {} field(s), {} file(s) uploaded; Stripe's status {}\n",
                out.dispute_id,
                out.fields.len(),
                out.uploaded.len(),
                out.status
            );
            Ok((json!(out), text))
        }
    }
}

/// Unix seconds now.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn show_text(b: &DisputeWorkbench) -> String {
    let d = &b.dispute;
    let mode = if d.mode == Mode::Live { "live" } else { "test" };
    let mut out = format!(
        "dispute {} ({mode}): {} — {}\n",
        d.id,
        crate::money::format(d.amount, &d.currency),
        b.guidance.words
    );
    out.push_str(&format!("status: {}", d.status));
    if let Some(due) = d.due_by {
        out.push_str(&format!(", evidence due {}", utc(due)));
    }
    out.push_str(&format!(
        "; {}\n",
        if b.accepts_evidence {
            "Stripe takes evidence"
        } else {
            "Stripe no longer takes evidence"
        }
    ));
    out.push_str(&format!(
        "evidence at Stripe: {}, submissions: {}\n",
        match b.has_evidence {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        },
        b.submission_count
            .map_or("unknown".to_owned(), |n| n.to_string())
    ));
    if let Some(o) = &b.order {
        out.push_str(&format!("order: {}\n", o.order.session_id));
    }
    out.push_str(&format!("what helps: {}\n\n", b.guidance.advice));
    for v in &b.values {
        let mark = if v.prefilled {
            format!(
                " (pre-filled from {})",
                v.source.as_deref().unwrap_or("the mirror")
            )
        } else {
            String::new()
        };
        if v.value.is_empty() {
            out.push_str(&format!("{}: (empty)\n", v.field));
        } else {
            out.push_str(&format!("{}{mark}:\n", v.field));
            for line in v.value.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    for f in EVIDENCE_FIELDS
        .iter()
        .filter(|f| f.kind == EvidenceKind::File)
    {
        match b.files.iter().find(|x| x.field == f.name) {
            Some(x) => out.push_str(&format!(
                "{}: {} ({}, {} bytes){}\n",
                f.name,
                x.file_name,
                x.mime,
                x.size,
                if x.stripe_file_id.is_some() {
                    ", uploaded"
                } else {
                    ""
                }
            )),
            None => out.push_str(&format!("{}: (no file)\n", f.name)),
        }
    }
    out
}
