//! FluxStore Desktop: the Tauri shell around the mirror, the in-process relay and the gateway.
//!
//! The shell is thin: a command validates its argument, calls one crate function through
//! [`state::AppState`], and maps the error to `{code, message}`. Business rules live in the
//! crates. Command bodies are plain async methods so tests drive them without a window.
pub mod bindings;
pub mod commands;
pub mod connect;
pub mod connection;
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
pub mod views;

use std::sync::Arc;

use tauri::Manager;

use crate::notify::TauriNotify;
use crate::options::Options;
use crate::state::AppState;

/// Build and run the app until its last window closes.
pub fn run() {
    let options = Options::from_args(std::env::args().skip(1));
    let app = tauri::Builder::default()
        // First, so a second launch only focuses the running window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
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
            let state = tauri::async_runtime::block_on(AppState::open(&data_dir, notify, keyring))
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            tracing::info!(data_dir = %data_dir.display(), "FluxStore Desktop started");
            if options.sample_store {
                tauri::async_runtime::block_on(state.open_sample_store())
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            }
            let feed_state = state.clone();
            tauri::async_runtime::spawn(async move {
                feed_state.start_feed().await;
            });
            app.manage(state);
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("the FluxStore window could not start");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(state) = handle.try_state::<Arc<AppState>>()
        {
            // Let in-flight deliveries commit before the process ends.
            tauri::async_runtime::block_on(state.shutdown());
        }
    });
}
