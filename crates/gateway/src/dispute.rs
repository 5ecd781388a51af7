//! Dispute evidence: attaching files to a draft (checked and copied into the app's data
//! folder), and sending a draft to Stripe — files to the Files API first, then
//! `POST /v1/disputes/{id}` with `evidence[...]` and `submit`.
//!
//! Invariants:
//! - Nothing is sent for a dispute Stripe no longer takes evidence for (closed, under review,
//!   already submitted, or past its due date, as the mirror knows it): the refusal comes
//!   before any request.
//! - One submission at a time per dispute in this process (an in-flight guard), and the
//!   `Idempotency-Key` is derived from the dispute, the draft's revision, the submit flag and
//!   the submissions Stripe counted: a double click or a retry in another process sends the
//!   same key, so Stripe acts once. The second of two rapid submits waits for the first, then
//!   finds the dispute submitted and is refused without a request.
//! - A file is uploaded once: its Files API id is kept on the draft (for that exact copy).
//! - Stripe's answer is recorded in the mirror as a synthetic `charge.dispute.updated`
//!   (source `api`), so the dispute shows its new state at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use fluxstore_mirror::evidence::{
    EVIDENCE_FILE_MAX_BYTES, EVIDENCE_FILE_TYPES, EvidenceKind, evidence_field, evidence_file_mime,
    utc_text as date_utc,
};
use fluxstore_mirror::{DisputeDraft, DraftChange, DraftFile, IngestOutcome, Mirror, Source};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::{Call, STRIPE_VERSION, StripeClient, Upload, unix_now};
use crate::error::GatewayError;
use crate::form::Form;

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmitOutcome {
    pub dispute_id: String,
    /// True: submitted to the bank (`submit=true`); false: saved at Stripe only.
    pub submitted: bool,
    /// Stripe's dispute status after the call.
    pub status: String,
    pub has_evidence: Option<bool>,
    pub submission_count: Option<i64>,
    /// Evidence fields sent (text and file).
    pub fields: Vec<String>,
    /// Files uploaded by this call: (field, Stripe's `file_…` id).
    pub uploaded: Vec<(String, String)>,
    pub idempotency_key: String,
    pub recorded: IngestOutcome,
}

/// The idempotency key of one submission of a draft.
pub fn submission_key(dispute_id: &str, revision: i64, submit: bool, submissions: i64) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "dispute-evidence\n{dispute_id}\n{revision}\n{submit}\n{submissions}"
    ));
    format!("fluxstore-evidence-{}", &hex::encode(h.finalize())[..40])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn human_size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Check a file for an evidence field and copy it into `data_dir/evidence/{dispute}/`;
/// returns the attachment to store on the draft. Refuses, in the owner's words, a field that
/// takes no file, an unreadable file, one over Stripe's 5 MB, or one that is not a PDF, JPEG
/// or PNG (read from its content). The original is never changed.
pub fn copy_evidence_file(
    data_dir: &Path,
    dispute_id: &str,
    field: &str,
    src: &Path,
) -> Result<DraftFile, GatewayError> {
    match evidence_field(field) {
        Some(f) if f.kind == EvidenceKind::File => {}
        _ => {
            return Err(GatewayError::invalid(format!(
                "\"{field}\" does not take a file. Files go to: receipt, customer_communication, refund_policy, cancellation_policy, service_documentation, uncategorized_file."
            )));
        }
    }
    if !dispute_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(GatewayError::BadId(dispute_id.to_owned()));
    }
    let name = src
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("evidence")
        .to_owned();
    let meta = std::fs::metadata(src).map_err(|e| {
        GatewayError::invalid(format!(
            "The file {name} could not be read ({e}). Pick it again."
        ))
    })?;
    if !meta.is_file() {
        return Err(GatewayError::invalid(format!(
            "{name} is not a file. Pick a PDF, JPEG or PNG file."
        )));
    }
    if meta.len() > EVIDENCE_FILE_MAX_BYTES {
        return Err(GatewayError::invalid(format!(
            "{name} is {}; Stripe takes evidence files of at most {}. Make it smaller (e.g. save it as a PDF at a lower quality) and attach it again.",
            human_size(meta.len()),
            human_size(EVIDENCE_FILE_MAX_BYTES)
        )));
    }
    let bytes = std::fs::read(src).map_err(|e| {
        GatewayError::invalid(format!(
            "The file {name} could not be read ({e}). Pick it again."
        ))
    })?;
    let mime = evidence_file_mime(&bytes).ok_or_else(|| {
        GatewayError::invalid(format!(
            "{name} is not a PDF, JPEG or PNG file, the only kinds Stripe takes as evidence. Save or export it as a PDF and attach it again."
        ))
    })?;
    let ext = EVIDENCE_FILE_TYPES
        .iter()
        .find(|(m, _)| *m == mime)
        .map_or("bin", |(_, exts)| exts[0]);
    let sha = sha256_hex(&bytes);
    let dir = data_dir.join("evidence").join(dispute_id);
    fluxstore_mirror::create_private_dir(&dir).map_err(|e| {
        GatewayError::invalid(format!(
            "The app's data folder could not hold a copy of {name} ({e})."
        ))
    })?;
    let dest: PathBuf = dir.join(format!("{field}-{}.{ext}", &sha[..16]));
    std::fs::write(&dest, &bytes).map_err(|e| {
        GatewayError::invalid(format!(
            "A copy of {name} could not be written to the app's data folder ({e})."
        ))
    })?;
    Ok(DraftFile {
        field: field.to_owned(),
        file_name: name,
        stored_path: dest.to_string_lossy().into_owned(),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        mime: mime.to_owned(),
        sha256: sha,
        stripe_file_id: None,
    })
}

/// Apply changes to a draft, and delete the copies of files the changes replaced.
pub fn save_draft(
    mirror: &mut Mirror,
    dispute_id: &str,
    changes: &[DraftChange],
) -> Result<DisputeDraft, fluxstore_mirror::MirrorError> {
    let (draft, replaced) = mirror.save_dispute_draft(dispute_id, changes, unix_now())?;
    for f in replaced {
        if let Err(e) = std::fs::remove_file(&f.stored_path) {
            tracing::warn!(error = %e, "a replaced evidence copy could not be deleted");
        }
    }
    Ok(draft)
}

/// One lock per dispute id, held for the whole of a submission in this process.
static IN_FLIGHT: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn dispute_lock(id: &str) -> Arc<tokio::sync::Mutex<()>> {
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(id.to_owned())
        .or_default()
        .clone()
}

impl StripeClient {
    /// Send the draft of dispute `id`: upload its files, then `POST /v1/disputes/{id}` with
    /// the evidence and `submit` (`false` saves it at Stripe without submitting).
    pub async fn submit_dispute_evidence(
        &self,
        id: &str,
        submit: bool,
    ) -> Result<SubmitOutcome, GatewayError> {
        let id = id.trim();
        self.guard_dispute(id)?;
        let lock = dispute_lock(id);
        let _held = lock.lock().await;

        // Read after the lock: a submission that just finished has changed the dispute.
        let now = unix_now();
        let bench = self
            .lock_mirror()
            .dispute_workbench(self.mode(), id, now)?
            .ok_or_else(|| GatewayError::NotAFluxStoreObject { id: id.to_owned() })?;
        if !bench.accepts_evidence {
            let d = &bench.dispute;
            let why = match d.due_by {
                Some(due) if due <= now || bench.past_due == Some(true) => format!(
                    "its deadline passed on {}, and Stripe no longer takes evidence for it",
                    date_utc(due)
                ),
                _ if bench.submission_count.unwrap_or(0) > 0 => format!(
                    "its evidence was already submitted (Stripe's status: {})",
                    d.status
                ),
                _ => format!(
                    "Stripe no longer takes evidence for it (its status is {})",
                    d.status
                ),
            };
            return Err(GatewayError::invalid(format!(
                "Nothing was sent for dispute {id}: {why}."
            )));
        }
        let texts = bench.text_evidence();
        if texts.is_empty() && bench.files.is_empty() {
            return Err(GatewayError::invalid(format!(
                "The evidence for dispute {id} is empty: nothing was sent. Fill in at least one field or attach a document, then send it again."
            )));
        }

        // Files first: each copy once, its id kept on the draft.
        let mut uploaded = Vec::new();
        let mut file_ids = Vec::new();
        for f in &bench.files {
            if let Some(fid) = &f.stripe_file_id {
                file_ids.push((f.field.clone(), fid.clone()));
                continue;
            }
            let fid = self.upload_evidence_file(id, f).await?;
            self.lock_mirror()
                .set_draft_file_uploaded(id, &f.field, &f.sha256, &fid)?;
            uploaded.push((f.field.clone(), fid.clone()));
            file_ids.push((f.field.clone(), fid));
        }

        let mut body = Form::new();
        let mut fields = Vec::new();
        for (field, value) in texts.iter().chain(file_ids.iter()) {
            body.push_nested("evidence", field, value);
            fields.push(field.clone());
        }
        body.push("submit", submit);
        let key = submission_key(
            id,
            bench.draft_revision.unwrap_or(0),
            submit,
            bench.submission_count.unwrap_or(0),
        );
        let answer = self
            .send(Call::post(format!("/v1/disputes/{id}"), body, Some(key.clone())).object(id))
            .await
            .map_err(|e| in_owner_words(e, id))?;
        if answer.get("id").and_then(Value::as_str) != Some(id) {
            return Err(GatewayError::UnexpectedResponse(
                "Stripe's answer names another dispute".to_owned(),
            ));
        }
        // Snapshots of one second are ordered by their ids: Stripe's count of submissions,
        // then the draft's revision, then the flag, so a submission made in the same second
        // as a staging wins over it.
        let after = answer["evidence_details"]["submission_count"]
            .as_i64()
            .unwrap_or(0);
        let event = json!({
            "id": format!(
                "evt_fluxstore_api_{id}_{after:06}_{:010}_{}_{}",
                bench.draft_revision.unwrap_or(0),
                u8::from(submit),
                &key[key.len() - 12..]
            ),
            "object": "event",
            "type": "charge.dispute.updated",
            "api_version": STRIPE_VERSION,
            "created": now,
            "livemode": self.mode().is_live(),
            "account": self.config().stripe_account,
            "pending_webhooks": 0,
            "request": {"id": null, "idempotency_key": key},
            "data": {"object": answer},
        });
        let raw = serde_json::to_vec(&event)
            .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
        let recorded = self.lock_mirror().ingest(&raw, Source::Api)?;
        let details = &answer["evidence_details"];
        Ok(SubmitOutcome {
            dispute_id: id.to_owned(),
            submitted: submit,
            status: answer["status"].as_str().unwrap_or("unknown").to_owned(),
            has_evidence: details["has_evidence"].as_bool(),
            submission_count: details["submission_count"].as_i64(),
            fields,
            uploaded,
            idempotency_key: key,
            recorded,
        })
    }

    async fn upload_evidence_file(&self, id: &str, f: &DraftFile) -> Result<String, GatewayError> {
        let bytes = std::fs::read(&f.stored_path).map_err(|e| {
            GatewayError::invalid(format!(
                "The copy of {} kept for dispute {id} could not be read ({e}). Attach the file again.",
                f.file_name
            ))
        })?;
        if sha256_hex(&bytes) != f.sha256 {
            return Err(GatewayError::invalid(format!(
                "The copy of {} kept for dispute {id} has changed since it was attached. Attach the file again.",
                f.file_name
            )));
        }
        let mut body = Form::new();
        body.push("purpose", "dispute_evidence");
        let key = format!("fluxstore-file-{}", &f.sha256[..40]);
        let upload = Upload {
            file_name: f.file_name.clone(),
            mime: f.mime.clone(),
            bytes: Arc::new(bytes),
        };
        let file = self
            .send(Call::upload("/v1/files", body, upload, key).object(id))
            .await
            .map_err(|e| match e {
                GatewayError::InvalidRequest { message, .. } => GatewayError::invalid(format!(
                    "Stripe did not take the file {} for \"{}\": {message} Attach a PDF, JPEG or PNG of at most 5 MB instead.",
                    f.file_name, f.field
                )),
                other => other,
            })?;
        file.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| GatewayError::UnexpectedResponse("the file has no id".to_owned()))
    }
}

/// Stripe's refusals of a dispute update, said for the owner.
fn in_owner_words(e: GatewayError, id: &str) -> GatewayError {
    match e {
        GatewayError::InvalidRequest { message, param, .. } => {
            let text = match param.as_deref() {
                Some(p) if p.starts_with("evidence[") => {
                    let field = p.trim_start_matches("evidence[").trim_end_matches(']');
                    format!(
                        "Stripe did not accept the evidence field \"{field}\" of dispute {id}: {message} Change or clear that field and send again."
                    )
                }
                _ => format!(
                    "Stripe did not take the evidence for dispute {id}: {message} Your draft is kept; nothing was submitted."
                ),
            };
            GatewayError::invalid(text)
        }
        GatewayError::NotFound { .. } => GatewayError::invalid(format!(
            "Stripe has no dispute {id} (or no file it names) in this account and mode. Sync with Stripe and check the dispute id."
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_moves_on_with_the_draft_the_flag_and_each_submission() {
        let k = submission_key("dp_1", 3, true, 0);
        assert_eq!(k, submission_key("dp_1", 3, true, 0));
        assert_ne!(k, submission_key("dp_1", 4, true, 0));
        assert_ne!(k, submission_key("dp_1", 3, false, 0));
        assert_ne!(k, submission_key("dp_1", 3, true, 1));
        assert_ne!(k, submission_key("dp_2", 3, true, 0));
    }
}
