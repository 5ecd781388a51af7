//! FluxStore Desktop's entry point; everything lives in the library so tests reach it.
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    fluxstore_desktop::run();
}
