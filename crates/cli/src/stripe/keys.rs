//! `fluxstore keys set|status`.
use std::io::BufRead;

use fluxstore_gateway::keys::{KeyShape, shape_of};
use fluxstore_gateway::keystore::{KeyringError, SecretKind, SecretSlot};
use fluxstore_gateway::{ManualKeys, ProfileError};
use fluxstore_mirror::Mode;
use serde_json::json;

use super::input::read_value;
use super::{Common, Done, common_profile, mode_of};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Read keys (one per line: pk_…, sk_… or rk_…, whsec_…) from stdin or a prompt,
    /// validate them, check them with Stripe, and store the secrets in the OS keyring.
    Set(Common),
    /// Which secrets exist and where (never their values).
    Status(Common),
}

pub async fn set(c: &Common, input: &mut (dyn BufRead + Send), interactive: bool) -> Done {
    let (mut pk, mut sk, mut wh) = (None, None, None);
    if interactive {
        pk = read_value(input, true, "Publishable key (pk_…, optional)")?;
        sk = read_value(
            input,
            true,
            "Secret key (sk_…) or restricted key (rk_…, recommended)",
        )?;
        wh = read_value(input, true, "Webhook signing secret (whsec_…, optional)")?;
    } else {
        // Scripts: one value per line in any order, recognised by its prefix.
        for n in 1..=16 {
            let Some(line) = read_value(input, false, "")? else {
                break;
            };
            if line.is_empty() {
                continue;
            }
            let slot = match shape_of(&line) {
                KeyShape::Publishable(_) => &mut pk,
                KeyShape::Secret(_) | KeyShape::Restricted(_) => &mut sk,
                KeyShape::WebhookSecret => &mut wh,
                KeyShape::Unknown => {
                    return Err(ProfileError::Invalid(format!(
                        "Line {n} of the input is not a Stripe key (expected pk_…, sk_…, rk_… or whsec_…)."
                    )));
                }
            };
            *slot = Some(line);
        }
    }
    let keys = ManualKeys::parse(pk.as_deref(), sk.as_deref().unwrap_or(""), wh.as_deref())?;
    let mode = keys.mode();
    if let Some(m) = &c.mode
        && m != mode.as_str()
    {
        return Err(ProfileError::Invalid(format!(
            "These are {} mode keys, but --mode {m} was given.",
            mode.as_str()
        )));
    }
    let profile = common_profile(c)?;
    let saved = profile.save_keys(keys).await?;
    let kind = if saved.restricted {
        "restricted key"
    } else {
        "secret key"
    };
    let mut text = format!(
        "{} mode keys saved for store \"{}\": {kind}{} in {}\n",
        mode.as_str(),
        c.store,
        if saved.webhook_secret {
            " and webhook signing secret"
        } else {
            ""
        },
        saved.stored_in
    );
    if !saved.verified {
        text.push_str("Stripe could not be reached, so the key was kept on its format alone; it is checked at the next call.\n");
    }
    let v = json!({"store": c.store, "mode": mode, "restricted": saved.restricted,
                   "webhook_secret": saved.webhook_secret, "publishable_key": saved.publishable_key,
                   "verified": saved.verified, "stored_in": saved.stored_in});
    Ok((v, text))
}

pub async fn status(c: &Common) -> Done {
    let profile = common_profile(c)?;
    let keyring = profile.keyring().ok().cloned();
    let store = c.store.clone();
    let mirror = profile.mirror().clone();
    // Keyring look-ups block (D-Bus); one blocking task asks for every slot.
    let (rows, keyring_error) = tokio::task::spawn_blocking(move || {
        let m = mirror.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows = Vec::new();
        let mut keyring_error: Option<KeyringError> = None;
        for mode in [Mode::Test, Mode::Live] {
            for kind in SecretKind::ALL {
                let slot = SecretSlot::new(&store, mode, kind);
                let recorded = m.setting(&slot.presence_setting())?;
                let present = match &keyring {
                    Some(k) if keyring_error.is_none() => match k.exists(&slot) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            keyring_error = Some(e);
                            None
                        }
                    },
                    _ => None,
                };
                rows.push(
                    json!({"mode": mode, "kind": kind.as_str(), "present": present,
                                 "recorded_in": recorded}),
                );
            }
        }
        Ok::<_, ProfileError>((rows, keyring_error))
    })
    .await
    .map_err(|_| ProfileError::Interrupted)??;
    let backend = profile.keyring().ok().map(|k| k.backend());
    let err = keyring_error
        .as_ref()
        .map(|e| json!({"code": e.code(), "message": e.to_string()}));
    let mut text = format!(
        "store \"{}\", secrets kept in {}\n",
        c.store,
        backend.unwrap_or("no supported keyring")
    );
    for r in &rows {
        let state = match r["present"].as_bool() {
            Some(true) => "present",
            Some(false) => "missing",
            None => "unknown (keyring unreachable)",
        };
        text.push_str(&format!(
            "{:<5} {:<22} {state}\n",
            r["mode"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or("")
        ));
    }
    if let Some(e) = &keyring_error {
        text.push_str(&format!("warning: {e}\n"));
    }
    let mode = mode_of(c, &profile).await?;
    Ok((
        json!({"store": c.store, "backend": backend, "active_mode": mode, "secrets": rows, "keyring_error": err}),
        text,
    ))
}
