//! The dispute workbench commands: read a dispute with its evidence form, save the draft as
//! it is typed, attach a file picked with the OS file dialog, send the draft to Stripe, and
//! the owner's reusable evidence texts. Each is one call into the active store's profile
//! (the same as `fluxstore dispute draft|show|submit`).
//!
//! Invariants: every command names its mode and a dispute of another mode is not found; a
//! draft is written offline and never sent until `submit_dispute_evidence`; files are
//! checked and copied into the active store's data folder by the gateway before the draft
//! names them.
use std::path::PathBuf;

use fluxstore_gateway::profile::DraftEdit;
use fluxstore_mirror::evidence::{DISPUTE_TEXTS, EVIDENCE_FILE_TYPES, evidence_field};

use crate::dto::{
    DisputeArgs, DisputeTextArgs, DisputeTextValue, DisputeWorkbench, DraftTextArgs,
    EvidenceFileArgs, SubmitEvidenceArgs,
};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::{AppState, SAMPLE_DIR};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl AppState {
    /// The folder the active store's mirror lives in: evidence copies go under it.
    async fn active_data_dir(&self) -> PathBuf {
        if self.sample_open().await {
            self.data_dir.join(SAMPLE_DIR)
        } else {
            self.data_dir.clone()
        }
    }

    pub async fn dispute_workbench(&self, args: DisputeArgs) -> IpcResult<DisputeWorkbench> {
        let mode = args.mode;
        let id = args.dispute_id.trim().to_owned();
        let key = id.clone();
        self.active()
            .await
            .read(move |m| m.dispute_workbench(mode, &key, now()))
            .await?
            .ok_or_else(|| IpcError::not_found(&format!("The dispute {id}")))
    }

    async fn edit_draft(
        &self,
        mode_args: DisputeArgs,
        edit: DraftEdit,
    ) -> IpcResult<DisputeWorkbench> {
        // Only a dispute of the mode shown is edited.
        self.dispute_workbench(mode_args.clone()).await?;
        let dir = self.active_data_dir().await;
        self.active_profile()
            .await
            .edit_dispute_draft(&dir, &mode_args.dispute_id, vec![edit])
            .await?;
        self.dispute_workbench(mode_args).await
    }

    /// Save one text field of the draft (the UI calls this as the owner types).
    pub async fn save_dispute_draft(&self, args: DraftTextArgs) -> IpcResult<DisputeWorkbench> {
        let edit = match args.value {
            Some(value) => DraftEdit::Text {
                field: args.field,
                value,
            },
            None => DraftEdit::Reset { field: args.field },
        };
        let target = DisputeArgs {
            mode: args.mode,
            dispute_id: args.dispute_id,
        };
        self.edit_draft(target, edit).await
    }

    /// Ask the owner for a file with the OS file dialog and attach it to a file field of the
    /// draft (checked for Stripe's types and size, copied into the data folder). Closing the
    /// dialog changes nothing (`cancelled`).
    pub async fn attach_evidence_file(
        &self,
        args: EvidenceFileArgs,
    ) -> IpcResult<DisputeWorkbench> {
        // Only a dispute of the mode shown gets a file: asked before the dialog opens.
        self.dispute_workbench(DisputeArgs {
            mode: args.mode,
            dispute_id: args.dispute_id.clone(),
        })
        .await?;
        let label = evidence_field(args.field.trim())
            .map_or_else(|| args.field.clone(), |f| f.label.to_owned());
        let notify = self.notify.clone();
        let title = format!("Attach evidence: {label}");
        let picked = tokio::task::spawn_blocking(move || {
            let extensions: Vec<&str> = EVIDENCE_FILE_TYPES
                .iter()
                .flat_map(|(_, ext)| ext.iter().copied())
                .collect();
            notify.pick_file(&title, "PDF, JPEG or PNG", &extensions)
        })
        .await
        .map_err(|e| IpcError::internal("The file dialog could not be opened", &e))?
        .map_err(|e| IpcError::internal("The file dialog could not be opened", &e))?;
        let Some(path) = picked else {
            return Err(IpcError::new(
                ErrorCode::Cancelled,
                "No file was picked; the draft is unchanged.",
            ));
        };
        let target = DisputeArgs {
            mode: args.mode,
            dispute_id: args.dispute_id,
        };
        self.edit_draft(
            target,
            DraftEdit::File {
                field: args.field,
                path,
            },
        )
        .await
    }

    /// Remove a file field's attachment from the draft (its copy is deleted).
    pub async fn remove_evidence_file(
        &self,
        args: EvidenceFileArgs,
    ) -> IpcResult<DisputeWorkbench> {
        let target = DisputeArgs {
            mode: args.mode,
            dispute_id: args.dispute_id,
        };
        self.edit_draft(target, DraftEdit::RemoveFile { field: args.field })
            .await
    }

    /// Upload the draft's files and send its evidence to Stripe (`submit` false: saved at
    /// Stripe without submitting); returns the workbench as the mirror shows it after
    /// Stripe's answer.
    pub async fn submit_dispute_evidence(
        &self,
        args: SubmitEvidenceArgs,
    ) -> IpcResult<DisputeWorkbench> {
        let target = DisputeArgs {
            mode: args.mode,
            dispute_id: args.dispute_id,
        };
        // Only a dispute of the mode shown is sent.
        self.dispute_workbench(target.clone()).await?;
        if self.sample_open().await && args.mode.is_live() {
            return Err(crate::connection::sample_is_test_only());
        }
        let outcome = self
            .active_profile()
            .await
            .submit_dispute_evidence(&target.dispute_id, args.submit)
            .await;
        self.observe(&outcome);
        if let Some(notice) = outcome?.recorded.applied() {
            self.notify.event_applied(notice);
        }
        self.dispute_workbench(target).await
    }

    /// The owner's reusable evidence texts (refund policy, terms, delivery), in settings.
    pub async fn dispute_texts(&self) -> IpcResult<Vec<DisputeTextValue>> {
        self.active()
            .await
            .read(|m| {
                DISPUTE_TEXTS
                    .iter()
                    .map(|t| {
                        Ok(DisputeTextValue {
                            text: *t,
                            label: t.label().to_owned(),
                            field: t.evidence_field().to_owned(),
                            value: m.setting(t.setting_key())?.unwrap_or_default(),
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Write one reusable text (blank: forget it); returns them all.
    pub async fn set_dispute_text(
        &self,
        args: DisputeTextArgs,
    ) -> IpcResult<Vec<DisputeTextValue>> {
        let value = args.value.trim().to_owned();
        let key = args.text.setting_key();
        self.active()
            .await
            .write(move |m| m.set_setting(key, (!value.is_empty()).then_some(value.as_str())))
            .await?;
        self.dispute_texts().await
    }
}
