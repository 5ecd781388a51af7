//! The desktop's own commands: CSV exports through the save dialog, and the preferences for
//! notices and the tray.
//!
//! Invariant: the file's content is the mirror's export format (`fluxstore_mirror::export`,
//! the same as `fluxstore … --csv`); the shell only asks where and writes it. The webview never
//! names a path: the owner picks it in the OS dialog.
use fluxstore_mirror::export::{disputes_csv, orders_csv, subscriptions_csv};

use crate::dto::{
    ExportCsvArgs, ExportDone, ExportList, NoticeKind, NoticePreference, Preferences,
    SetPreferencesArgs,
};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

/// The mirror setting behind [`Preferences::keep_in_tray`] (`on` / `off`; unset: on).
pub const KEEP_IN_TRAY_SETTING: &str = "desktop.keep_in_tray";
/// The most orders one export writes.
pub const MAX_EXPORT_ROWS: usize = 1_000_000;

impl AppState {
    pub async fn export_csv(&self, args: ExportCsvArgs) -> IpcResult<ExportDone> {
        let mode = args.mode;
        let list = args.list;
        let (bytes, rows) = self
            .active()
            .await
            .read(move |m| {
                let mut out = Vec::new();
                let rows = match list {
                    ExportList::Orders => {
                        let q = args.filters.query(mode);
                        let orders = m.orders_matching(mode, &q, MAX_EXPORT_ROWS)?;
                        orders_csv(&mut out, &orders)
                            .map_err(fluxstore_mirror::MirrorError::from_io)?;
                        orders.len()
                    }
                    ExportList::Disputes => {
                        let disputes = m.disputes(mode)?;
                        disputes_csv(&mut out, &disputes)
                            .map_err(fluxstore_mirror::MirrorError::from_io)?;
                        disputes.len()
                    }
                    ExportList::Subscriptions => {
                        let subs = m.subscriptions(mode)?;
                        let invoices = m.invoices(mode)?;
                        subscriptions_csv(&mut out, &subs, &invoices)
                            .map_err(fluxstore_mirror::MirrorError::from_io)?;
                        subs.len()
                    }
                };
                Ok((out, rows))
            })
            .await?;
        let name = format!(
            "fluxstore-{}-{}-{}.csv",
            match list {
                ExportList::Orders => "orders",
                ExportList::Disputes => "disputes",
                ExportList::Subscriptions => "subscriptions",
            },
            mode.as_str(),
            crate::time::date_words(crate::alerts::unix_now())
        );
        let notify = self.notify.clone();
        let chosen = tokio::task::spawn_blocking(move || notify.choose_save_path(&name))
            .await
            .map_err(|e| IpcError::internal("The save dialog stopped unexpectedly", &e))?;
        let Some(path) = chosen else {
            return Ok(ExportDone {
                path: None,
                rows: 0,
            });
        };
        let target = path.clone();
        tokio::task::spawn_blocking(move || std::fs::write(&target, bytes))
            .await
            .map_err(|e| IpcError::internal("Saving the file stopped unexpectedly", &e))?
            .map_err(|e| {
                IpcError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "The file could not be saved at {} ({e}). Pick a folder you can write to and export again.",
                        path.display()
                    ),
                )
            })?;
        Ok(ExportDone {
            path: Some(path.display().to_string()),
            rows: rows as u32,
        })
    }

    pub async fn preferences(&self) -> IpcResult<Preferences> {
        let on = self.real.read(|m| m.notice_kinds_on()).await?;
        let keep = self.real.read(|m| m.setting(KEEP_IN_TRAY_SETTING)).await?;
        Ok(Preferences {
            notices: NoticeKind::ALL
                .into_iter()
                .map(|kind| NoticePreference {
                    kind,
                    on: on.contains(&kind),
                })
                .collect(),
            keep_in_tray: keep.as_deref() != Some("off"),
            tray_available: self.tray_available(),
        })
    }

    pub async fn set_preferences(&self, args: SetPreferencesArgs) -> IpcResult<Preferences> {
        let SetPreferencesArgs {
            notices,
            keep_in_tray,
        } = args;
        self.real
            .write(move |m| {
                for p in notices {
                    m.set_notice_kind_on(p.kind, p.on)?;
                }
                if let Some(keep) = keep_in_tray {
                    m.set_setting(KEEP_IN_TRAY_SETTING, Some(if keep { "on" } else { "off" }))?;
                }
                Ok(())
            })
            .await?;
        // A kind turned back on may have news waiting.
        self.alerts.poke();
        self.refresh_tray_choice().await;
        self.preferences().await
    }

    /// Read the tray preference into [`AppState::keep_in_tray_now`] (at start and after a change).
    pub async fn refresh_tray_choice(&self) {
        let keep = self
            .preferences()
            .await
            .map(|p| p.keep_in_tray)
            .unwrap_or(true);
        self.set_keep_in_tray(keep);
    }
}
