//! The tray (menu bar) icon: closing the window can keep the app running there, so the relay
//! keeps receiving and notices still arrive.
//!
//! Invariant: the app keeps running without a window only where the owner can get it back.
//! A tray icon needs a tray host: macOS and Windows always have one; on Linux it is a
//! StatusNotifierItem host on the session bus (GNOME needs its AppIndicator extension), and a
//! bare X server (a CI display) has none. Without one no icon is made, closing the window
//! quits as before, and the preference says the tray is not available.
use std::sync::Arc;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;

const OPEN_ID: &str = "open";
const QUIT_ID: &str = "quit";

/// Whether this desktop can show a tray icon.
pub fn tray_host_present() -> bool {
    #[cfg(target_os = "linux")]
    {
        linux_tray_host()
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// The session bus has a StatusNotifierWatcher (KDE, most desktops, GNOME with the
/// AppIndicator extension).
#[cfg(target_os = "linux")]
fn linux_tray_host() -> bool {
    use std::time::Duration;
    let Ok(bus) = dbus::blocking::Connection::new_session() else {
        return false;
    };
    let proxy = bus.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        Duration::from_secs(2),
    );
    let owned: Result<(bool,), dbus::Error> = proxy.method_call(
        "org.freedesktop.DBus",
        "NameHasOwner",
        ("org.kde.StatusNotifierWatcher",),
    );
    owned.map(|(yes,)| yes).unwrap_or(false)
}

/// Bring the main window back (from the tray, a second launch).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Make the tray icon when the desktop has a tray host; returns whether one was made. A
/// failure is logged, never fatal.
pub fn install<R: Runtime>(app: &AppHandle<R>, state: &Arc<AppState>) -> bool {
    if !tray_host_present() {
        tracing::info!("no tray host on this desktop; closing the window quits the app");
        return false;
    }
    let made = (|| -> tauri::Result<()> {
        let open = MenuItem::with_id(app, OPEN_ID, "Open FluxStore", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, QUIT_ID, "Quit FluxStore", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&open, &quit])?;
        let mut tray = TrayIconBuilder::with_id("main")
            .tooltip("FluxStore Desktop")
            .menu(&menu)
            .on_menu_event(|app, event| match event.id.as_ref() {
                OPEN_ID => show_main(app),
                QUIT_ID => app.exit(0),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        tray.build(app)?;
        Ok(())
    })();
    match made {
        Ok(()) => {
            state.set_tray_available(true);
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "the tray icon could not be made; closing the window quits the app");
            false
        }
    }
}
