//! Dispute evidence through the store profile: the draft (offline) and its submission
//! (online), the same for the window and the command line.
use std::path::Path;

use fluxstore_mirror::{DisputeDraft, DraftChange, MirrorError};

use super::{Profile, ProfileError};
use crate::GatewayError;
use crate::dispute::{SubmitOutcome, copy_evidence_file, save_draft};

/// One change to a draft as the owner gives it: a text, or a file to attach by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftEdit {
    Text {
        field: String,
        value: String,
    },
    Reset {
        field: String,
    },
    File {
        field: String,
        path: std::path::PathBuf,
    },
    RemoveFile {
        field: String,
    },
}

impl Profile {
    /// Apply `edits` to the draft of dispute `id`: files are checked and copied into
    /// `data_dir` first, then every change is stored in one transaction. Works offline.
    pub async fn edit_dispute_draft(
        &self,
        data_dir: &Path,
        id: &str,
        edits: Vec<DraftEdit>,
    ) -> Result<DisputeDraft, ProfileError> {
        let id = id.trim().to_owned();
        let mut changes = Vec::with_capacity(edits.len());
        for e in edits {
            changes.push(match e {
                DraftEdit::Text { field, value } => DraftChange::Text { field, value },
                DraftEdit::Reset { field } => DraftChange::Reset { field },
                DraftEdit::RemoveFile { field } => DraftChange::RemoveFile { field },
                DraftEdit::File { field, path } => {
                    DraftChange::File(copy_evidence_file(data_dir, &id, &field, &path)?)
                }
            });
        }
        let copies: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                DraftChange::File(f) => Some(f.stored_path.clone()),
                _ => None,
            })
            .collect();
        let saved = self
            .write(move |m| save_draft(m, &id, &changes))
            .await
            .map_err(|e| match e {
                // The owner's input, not a failing database: said as it is.
                ProfileError::Mirror(MirrorError::Invalid(m)) => ProfileError::Invalid(m),
                e => e,
            });
        if saved.is_err() {
            // Nothing was stored: the copies made for it go too.
            for c in copies {
                let _ = std::fs::remove_file(c);
            }
        }
        saved
    }

    /// Send the draft of dispute `id` with the credential of the dispute's own mode
    /// (`submit` false: saved at Stripe without submitting).
    pub async fn submit_dispute_evidence(
        &self,
        id: &str,
        submit: bool,
    ) -> Result<SubmitOutcome, ProfileError> {
        let key = id.trim().to_owned();
        let found = self.read(move |m| m.dispute(&key)).await?;
        let (dispute, _) = found.ok_or_else(|| {
            ProfileError::Gateway(GatewayError::NotAFluxStoreObject { id: id.to_owned() })
        })?;
        let client = self.client(dispute.mode).await?;
        Ok(client.submit_dispute_evidence(id, submit).await?)
    }
}
