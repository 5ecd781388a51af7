//! FluxStore Desktop: the Tauri shell around the mirror, the in-process relay and the gateway.
//!
//! The shell is thin: a command validates its argument, calls one crate function through
//! [`state::AppState`], and maps the error to `{code, message}`. Business rules live in the
//! crates. Command bodies are plain async methods so tests drive them without a window.
pub mod alerts;
pub mod bindings;
pub mod boot;
pub mod commands;
pub mod connect;
pub mod connection;
pub mod desktop;
pub mod disputes;
pub mod dto;
pub mod error;
pub mod live;
pub mod notify;
pub mod options;
pub mod orders;
pub mod sample;
pub mod sample_stripe;
pub mod state;
pub mod store;
pub mod time;
pub mod tray;
pub mod views;

use std::sync::Arc;

use tauri::Manager;

use crate::boot::Boot;
use crate::notify::TauriNotify;
use crate::options::Options;

/// Build and run the app until its last window closes.
pub fn run() {
    let options = Options::from_args(std::env::args().skip(1));
    let app = tauri::Builder::default()
        // First, so a second launch only focuses the running window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // Also from the tray, where a closed window keeps the app running.
            tray::show_main(app);
        }))
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(tauri_plugin_log::log::LevelFilter::Info)
                .targets([
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::LogDir { file_name: None }),
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::Stderr),
                ])
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // The file dialogs (the evidence picker, the CSV save dialog): opened by the shell's
        // own commands only; the webview is granted none of the plugin's commands.
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            let data_dir = match &options.data_dir {
                Some(dir) => dir.clone(),
                None => app.path().app_data_dir()?,
            };
            let notify = Arc::new(TauriNotify(app.handle().clone()));
            let keyring = match fluxstore_gateway::SecretStore::new() {
                Ok(k) => Some(k),
                Err(e) => {
                    tracing::warn!(error = %e, "no keyring on this platform; secrets cannot be kept");
                    None
                }
            };
            let sample_store = options.sample_store;
            // Opens at once when the mirror is up to date; while an upgrade re-derives the
            // orders the window says so, and the commands wait for the store.
            let handle = app.handle().clone();
            let boot = Boot::open(&data_dir, notify, keyring, move |state| async move {
                if sample_store {
                    state.open_sample_store().await?;
                }
                let feed_state = state.clone();
                tauri::async_runtime::spawn(async move {
                    feed_state.start_feed().await;
                });
                tray::install(&handle, &state);
                state.refresh_tray_choice().await;
                // Notices: once at start (due dates pass while the app is closed), then on
                // every ingest and every few minutes.
                let alerts = state.alerts.clone();
                tauri::async_runtime::spawn(async move {
                    loop {
                        if let Err(e) = alerts.look().await {
                            tracing::warn!(error = %e.message, "notices could not be decided");
                        }
                        tokio::time::sleep(alerts::LOOK_EVERY).await;
                    }
                });
                Ok(())
            })
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            tracing::info!(data_dir = %data_dir.display(), "FluxStore Desktop started");
            app.manage(boot);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && let Some(boot) = window.app_handle().try_state::<Boot>()
                && let Some(state) = boot.state_now()
                && state.keep_in_tray_now()
            {
                // The relay and the notices keep working; the tray brings the window back.
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("the FluxStore window could not start");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(state) = handle.try_state::<Boot>().and_then(|b| b.state_now())
        {
            // Let in-flight deliveries commit before the process ends.
            tauri::async_runtime::block_on(state.shutdown());
        }
    });
}
