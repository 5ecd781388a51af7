//! `fluxstore send-test-event`: sign a realistic sample event and post it, like
//! `stripe trigger`, to check a relay and its secret end to end.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use fluxstore_mirror::Mode;
use fluxstore_mirror::facts::event_types;
use fluxstore_relay::{SigningSecrets, sign_header, signature::unix_now};
use fluxstore_samples::{TEST_EVENT_TYPES, test_events};

use crate::read::ModeArg;

#[derive(Args)]
pub struct SendTestArgs {
    /// The relay's webhook URL, e.g. http://127.0.0.1:8787/api/webhooks/stripe
    #[arg(long)]
    url: String,
    /// File with the signing secret(s), in `fluxstore serve`'s format (`test whsec_…`,
    /// `live whsec_…`); the first secret of the event's mode signs it.
    #[arg(long)]
    secret_file: PathBuf,
    /// The mode of every bare `whsec_…` line, as for `fluxstore serve`.
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Event type to send (one of the webhook events FluxStore uses).
    #[arg(long = "type", default_value = event_types::CHECKOUT_SESSION_COMPLETED)]
    event_type: String,
    /// Send a live-mode event instead of a test-mode one.
    #[arg(long)]
    live: bool,
}

pub fn run(args: SendTestArgs) -> Result<ExitCode> {
    let (secrets, warnings) =
        SigningSecrets::from_file(&args.secret_file, args.mode.map(Mode::from))?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let mode = Mode::from_livemode(args.live);
    let Some(secret) = secrets.iter().find(|s| s.mode() == mode).cloned() else {
        bail!(
            "the secret file {} holds no {} mode signing secret; add a line `{} whsec_…` (the relay accepts a {} event only when a {} secret signed it)",
            args.secret_file.display(),
            mode.as_str(),
            mode.as_str(),
            mode.as_str(),
            mode.as_str()
        );
    };
    let now = unix_now();
    let Some(events) = test_events(&args.event_type, args.live, now) else {
        bail!(
            "unknown event type {:?}; choose one of: {}",
            args.event_type,
            TEST_EVENT_TYPES.join(", ")
        );
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("could not build the HTTP client")?;
    // A refund or a dispute is about an order: its checkout goes first, as Stripe sent it
    // when the customer paid, so the store knows the order the event is about.
    for event in events {
        let event_type = event["type"].as_str().unwrap_or("?").to_string();
        let body = serde_json::to_vec(&event).context("could not encode the event")?;
        let header = sign_header(&body, &secret, now);
        let id = event["id"].as_str().unwrap_or("?").to_string();
        let object = event["data"]["object"]["id"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        println!(
            "Sending {event_type} {id} ({} mode, object {object}, {} bytes) to {}",
            if args.live { "live" } else { "test" },
            body.len(),
            args.url
        );
        let (status, answer) = runtime.block_on(async {
            let resp = client
                .post(&args.url)
                .header("content-type", "application/json; charset=utf-8")
                .header("user-agent", "fluxstore-send-test-event")
                .header("Stripe-Signature", header)
                .body(body)
                .send()
                .await
                .with_context(|| format!("could not reach {}", args.url))?;
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            anyhow::Ok((status, text))
        })?;
        println!("HTTP {status}");
        println!("{}", answer.trim());
        if !status.is_success() {
            eprintln!(
                "The relay did not accept the event (HTTP {}).",
                status.as_u16()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
