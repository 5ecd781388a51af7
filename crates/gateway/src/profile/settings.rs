//! Every setting the store profile keeps in the mirror, named once.
//!
//! Invariants: a setting's name is spelled only in [`Setting::key`]; values are non-secret
//! facts (which method, which account, why a connection ended) — never a key or token (the
//! mirror refuses secret-looking values anyway); names written by earlier builds are moved to
//! their current name once, when a profile opens ([`migrate_legacy`]).
use fluxstore_mirror::{Mirror, MirrorError, Mode};

/// A setting of the store profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The way the owner chose to connect in onboarding: `connect` or `keys`.
    Method,
    /// The mode a command acts in when none is named (the CLI's default).
    ActiveMode,
    /// The Connect service address the owner set (unset: the environment, else FluxStore's).
    ConnectService,
    /// The port the owner's relay listened on last time, so a forwarding URL keeps working.
    RelayPort,
    /// The FluxStore hub address the owner set for the live feed (unset: the environment's,
    /// else the Connect service a mode's token came from; see [`super::hub`]).
    HubUrl,
    /// The publishable key of a mode (public: it ships in checkout pages).
    PublishableKey(Mode),
    /// `secret` or `restricted`: which kind of API key a mode holds.
    KeyKind(Mode),
    /// The Stripe account (`acct_…`) a mode acts for, by key or by Connect.
    AccountId(Mode),
    /// `connected` or `disconnected`: a mode's Connect connection.
    ConnectState(Mode),
    /// Why a mode's Connect connection ended, in the owner's words.
    ConnectReason(Mode),
    /// The scope Stripe granted a mode's Connect connection.
    ConnectScope(Mode),
    /// When a mode was connected through Connect (unix seconds).
    ConnectedAt(Mode),
    /// The Connect service a mode's token came from (revoked through the same service).
    ConnectServiceUsed(Mode),
    /// When a mode became connected, by API key or by Connect (unix seconds): the checklist
    /// counts only orders created since (the history the first sync pulls proves nothing).
    ConnectedSince(Mode),
    /// Where a mode's hub feed resumes: the hub's address and the cursor of the last doorbell
    /// whose event is stored (JSON). Moves only after that event is committed.
    HubCursor(Mode),
    /// A key-mode store registered at the FluxStore hub for live updates (the owner turned
    /// them on): the hub, the store's public id and the webhook endpoint created for it
    /// (JSON; never the store key or the feed token, which only the keyring holds).
    HubStore(Mode),
}

impl Setting {
    /// The setting's name in the mirror.
    pub fn key(self) -> String {
        let per_mode = |mode: Mode, what: &str| format!("profile.{}.{what}", mode.as_str());
        match self {
            Setting::Method => "profile.method".to_owned(),
            Setting::ActiveMode => "profile.active_mode".to_owned(),
            Setting::ConnectService => "profile.connect_service".to_owned(),
            Setting::RelayPort => "profile.relay_port".to_owned(),
            Setting::HubUrl => "profile.hub_url".to_owned(),
            Setting::PublishableKey(m) => per_mode(m, "publishable_key"),
            Setting::KeyKind(m) => per_mode(m, "key_kind"),
            Setting::AccountId(m) => per_mode(m, "account_id"),
            Setting::ConnectState(m) => per_mode(m, "connect.state"),
            Setting::ConnectReason(m) => per_mode(m, "connect.reason"),
            Setting::ConnectScope(m) => per_mode(m, "connect.scope"),
            Setting::ConnectedAt(m) => per_mode(m, "connect.connected_at"),
            Setting::ConnectServiceUsed(m) => per_mode(m, "connect.service_url"),
            Setting::ConnectedSince(m) => per_mode(m, "connected_since"),
            Setting::HubCursor(m) => per_mode(m, "hub.cursor"),
            Setting::HubStore(m) => per_mode(m, "hub.store"),
        }
    }

    /// Every per-mode setting of `mode` (forgotten together when a mode is disconnected).
    pub fn of_mode(mode: Mode) -> [Setting; 11] {
        [
            Setting::PublishableKey(mode),
            Setting::KeyKind(mode),
            Setting::AccountId(mode),
            Setting::ConnectState(mode),
            Setting::ConnectReason(mode),
            Setting::ConnectScope(mode),
            Setting::ConnectedAt(mode),
            Setting::ConnectServiceUsed(mode),
            Setting::ConnectedSince(mode),
            Setting::HubCursor(mode),
            Setting::HubStore(mode),
        ]
    }

    /// Record now as the time `mode` became connected, unless it already is on record (a
    /// key saved again, a token renewed: the mode did not become connected again).
    pub fn mark_connected_since(m: &mut Mirror, mode: Mode, now: i64) -> Result<(), MirrorError> {
        if Setting::ConnectedSince(mode).get(m)?.is_none() {
            Setting::ConnectedSince(mode).set(m, Some(&now.to_string()))?;
        }
        Ok(())
    }

    /// When `mode` became connected, if on record.
    pub fn connected_since(m: &Mirror, mode: Mode) -> Result<Option<i64>, MirrorError> {
        Ok(Setting::ConnectedSince(mode)
            .get(m)?
            .and_then(|s| s.parse().ok()))
    }

    pub fn get(self, m: &Mirror) -> Result<Option<String>, MirrorError> {
        m.setting(&self.key())
    }

    pub fn set(self, m: &mut Mirror, value: Option<&str>) -> Result<(), MirrorError> {
        m.set_setting(&self.key(), value)
    }
}

/// Move settings written by earlier builds to their current names (idempotent; a current
/// value wins over a legacy one). `store` is the profile's keyring account name.
pub fn migrate_legacy(m: &mut Mirror, store: &str) -> Result<(), MirrorError> {
    let mut moves: Vec<(String, Setting)> = vec![
        ("shell.connection_method".into(), Setting::Method),
        (format!("gateway.active_mode.{store}"), Setting::ActiveMode),
        ("shell.relay_port".into(), Setting::RelayPort),
    ];
    for mode in [Mode::Test, Mode::Live] {
        let w = mode.as_str();
        moves.push((
            format!("shell.publishable_key.{w}"),
            Setting::PublishableKey(mode),
        ));
        moves.push((
            format!("gateway.publishable_key.{store}.{w}"),
            Setting::PublishableKey(mode),
        ));
        moves.push((format!("shell.api_key_kind.{w}"), Setting::KeyKind(mode)));
    }
    for (old, new) in moves {
        if let Some(value) = m.setting(&old)? {
            if new.get(m)?.is_none() {
                new.set(m, Some(&value))?;
            }
            m.set_setting(&old, None)?;
        }
    }
    // The cached account status JSON is replaced by the mirror's `accounts` projection.
    for w in ["test", "live"] {
        m.set_setting(&format!("shell.account_status.{w}"), None)?;
    }
    // One global Connect connection becomes the connection of the mode it was made in.
    if let Some(mode) = m.setting("connect.mode")? {
        let mode = if mode == "live" {
            Mode::Live
        } else {
            Mode::Test
        };
        for (old, new) in [
            ("connect.account_id", Setting::AccountId(mode)),
            ("connect.status", Setting::ConnectState(mode)),
            ("connect.disconnected_reason", Setting::ConnectReason(mode)),
            ("connect.scope", Setting::ConnectScope(mode)),
            ("connect.connected_at", Setting::ConnectedAt(mode)),
            ("connect.service_url", Setting::ConnectServiceUsed(mode)),
            ("connect.publishable_key", Setting::PublishableKey(mode)),
        ] {
            if let Some(value) = m.setting(old)? {
                if new.get(m)?.is_none() {
                    new.set(m, Some(&value))?;
                }
                m.set_setting(old, None)?;
            }
        }
        m.set_setting("connect.mode", None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_its_own_name() {
        let mut all = vec![
            Setting::Method,
            Setting::ActiveMode,
            Setting::ConnectService,
            Setting::RelayPort,
            Setting::HubUrl,
        ];
        all.extend(Setting::of_mode(Mode::Test));
        all.extend(Setting::of_mode(Mode::Live));
        let names: std::collections::HashSet<String> = all.iter().map(|s| s.key()).collect();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn legacy_names_move_once_and_current_values_win() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.db")).unwrap();
        m.set_setting("shell.connection_method", Some("connect"))
            .unwrap();
        m.set_setting("shell.publishable_key.test", Some("pk_test_old"))
            .unwrap();
        m.set_setting("connect.mode", Some("live")).unwrap();
        m.set_setting("connect.account_id", Some("acct_1")).unwrap();
        m.set_setting("connect.status", Some("connected")).unwrap();
        Setting::Method.set(&mut m, Some("keys")).unwrap();
        migrate_legacy(&mut m, "default").unwrap();
        migrate_legacy(&mut m, "default").unwrap();
        assert_eq!(Setting::Method.get(&m).unwrap().as_deref(), Some("keys"));
        assert_eq!(
            Setting::PublishableKey(Mode::Test)
                .get(&m)
                .unwrap()
                .as_deref(),
            Some("pk_test_old")
        );
        assert_eq!(
            Setting::AccountId(Mode::Live).get(&m).unwrap().as_deref(),
            Some("acct_1")
        );
        assert_eq!(
            Setting::ConnectState(Mode::Live)
                .get(&m)
                .unwrap()
                .as_deref(),
            Some("connected")
        );
        assert_eq!(m.setting("connect.status").unwrap(), None);
        assert_eq!(m.setting("shell.connection_method").unwrap(), None);
    }
}
