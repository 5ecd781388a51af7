//! Stripe's Files API (`POST /v1/files`, multipart, `purpose=dispute_evidence`) and dispute
//! updates (`POST /v1/disputes/{id}` with `evidence[...]` and `submit`), validated the way
//! Stripe documents them: the purpose's file types (PDF, JPEG, PNG, read from the content)
//! and size limit (5 MB), Stripe's evidence field names, file fields naming an uploaded
//! file, the shared text limit, and only a dispute that still takes evidence is updated.
//!
//! Shared by the sample store's stand-in and the tests' Stripe fake: one implementation of
//! the wire format, checked against Stripe's API spec.

use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, Request, StatusCode};
use fluxstore_mirror::evidence::{
    EVIDENCE_FILE_MAX_BYTES, EVIDENCE_TEXT_MAX_CHARS, EvidenceKind, accepts_evidence,
    evidence_field, evidence_file_mime, evidence_max_chars, is_stripe_evidence_field,
};
use serde_json::{Value, json};

use crate::wire::{Reply, ok};
use crate::{ApiError, Ledger, Params, new_id, now};

/// Files the Files API accepted: (livemode, file object).
pub type Files = Vec<(bool, Value)>;

/// The file part of a multipart upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Read a multipart body: its text parts as form-encoded parameters (for the recorded
/// request, idempotency and validation alike) and its `file` part.
pub async fn read_multipart(
    headers: &HeaderMap,
    body: axum::body::Bytes,
    limit: usize,
) -> Result<(String, Option<Upload>), ApiError> {
    use tower::{Layer, ServiceExt};
    let mut req = Request::new(axum::body::Body::from(body));
    *req.headers_mut() = headers.clone();
    let bad = || ApiError::invalid("Invalid request: the multipart body could not be read.", "");
    // The body is read again here, under the router's own limit (not axum's 2 MB default),
    // so a file over Stripe's 5 MB is refused as Stripe refuses it.
    let read = axum::extract::DefaultBodyLimit::max(limit).layer(tower::service_fn(
        |req: Request<axum::body::Body>| async move {
            Ok::<_, std::convert::Infallible>(Multipart::from_request(req, &()).await)
        },
    ));
    let mut form = match read.oneshot(req).await {
        Ok(form) => form.map_err(|_| bad())?,
        Err(never) => match never {},
    };
    let mut pairs = Vec::new();
    let mut upload = None;
    while let Some(field) = form.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|_| bad())?.to_vec();
            upload = Some(Upload { file_name, bytes });
        } else {
            let text = field.text().await.map_err(|_| bad())?;
            pairs.push((name, text));
        }
    }
    let raw = serde_urlencoded::to_string(&pairs).map_err(|_| bad())?;
    Ok((raw, upload))
}

/// `POST /v1/files`.
pub fn create_file(
    files: &mut Files,
    livemode: bool,
    p: &Params,
    upload: Option<&Upload>,
) -> Result<Reply, ApiError> {
    p.only(&["purpose", "file_link_data", "expand"])?;
    let purpose = p.required("purpose")?;
    if purpose != "dispute_evidence" {
        // The app only ever uploads evidence; other purposes are outside this fake.
        return Err(ApiError::invalid(
            format!("Invalid purpose: {purpose}. This test server only takes dispute_evidence."),
            "purpose",
        ));
    }
    let Some(upload) = upload else {
        return Err(ApiError::invalid("Missing required param: file.", "file"));
    };
    let size = upload.bytes.len() as u64;
    if size > EVIDENCE_FILE_MAX_BYTES {
        return Err(ApiError::invalid(
            format!(
                "File size ({size} bytes) exceeds the maximum allowed for purpose 'dispute_evidence' ({EVIDENCE_FILE_MAX_BYTES} bytes)."
            ),
            "file",
        ));
    }
    let Some(mime) = evidence_file_mime(&upload.bytes) else {
        return Err(ApiError::invalid(
            "The file type is not supported for purpose 'dispute_evidence'. Supported types: PDF, JPEG, PNG.",
            "file",
        ));
    };
    let kind = match mime {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    };
    let id = new_id("file_");
    let created = now();
    let file = json!({
        "id": id, "object": "file", "created": created,
        "expires_at": created + 9 * 30 * 86_400,
        "filename": upload.file_name.clone().unwrap_or_else(|| format!("{id}.{kind}")),
        "links": {"object": "list", "data": [], "has_more": false, "url": format!("/v1/file_links?file={id}")},
        "purpose": "dispute_evidence", "size": size, "title": null, "type": kind,
        "url": format!("https://files.stripe.com/v1/files/{id}/contents"),
    });
    files.push((livemode, file.clone()));
    ok(file)
}

/// `POST /v1/disputes/{id}`.
pub fn update_dispute(
    ledger: &mut Ledger,
    files: &Files,
    livemode: bool,
    id: &str,
    p: &Params,
) -> Result<Reply, ApiError> {
    p.only(&[
        "evidence",
        "submit",
        "metadata",
        "expand",
        "intended_submission_method",
    ])?;
    let mut dispute = ledger
        .object(id)
        .filter(|d| d["object"] == "dispute" && d["livemode"] == livemode)
        .cloned()
        .ok_or_else(|| ApiError::missing(id, "dispute", "dispute"))?;
    // Stripe's spec: `submit` defaults to true (evidence is submitted unless it says false).
    let submit = p.bool("submit")?.unwrap_or(true);
    let evidence = p.hashes.get("evidence").cloned().unwrap_or_default();
    let mut text_chars = 0;
    for (field, value) in &evidence {
        if !is_stripe_evidence_field(field) {
            return Err(ApiError::invalid(
                format!("Received unknown parameter: evidence[{field}]"),
                &format!("evidence[{field}]"),
            ));
        }
        let max = evidence_max_chars(field);
        let n = value.chars().count();
        if n > max {
            return Err(ApiError::invalid(
                format!("Invalid string: {n} characters; must be at most {max} characters"),
                &format!("evidence[{field}]"),
            ));
        }
        let is_file = evidence_field(field).is_some_and(|f| f.kind == EvidenceKind::File);
        if is_file && !value.is_empty() {
            let known = files
                .iter()
                .any(|(live, f)| *live == livemode && f["id"] == value.as_str());
            if !known {
                // A parameter naming a missing object: 400 with `resource_missing`, as Stripe
                // answers (404 is for the object in the path).
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    format!("No such file upload: '{value}'"),
                )
                .param(&format!("evidence[{field}]"))
                .code("resource_missing"));
            }
        } else {
            text_chars += value.chars().count();
        }
    }
    if text_chars > EVIDENCE_TEXT_MAX_CHARS {
        return Err(ApiError::invalid(
            format!(
                "The text evidence is {text_chars} characters long; the limit for all text fields together is {EVIDENCE_TEXT_MAX_CHARS}."
            ),
            "evidence",
        ));
    }
    let status = dispute["status"].as_str().unwrap_or("").to_owned();
    if !accepts_evidence(&status) {
        let message = if dispute["evidence_details"]["submission_count"].as_i64() > Some(0) {
            format!(
                "This dispute's evidence has already been submitted (status {status}); it can no longer be updated."
            )
        } else {
            format!("This dispute can no longer be updated (status {status}).")
        };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            message,
        ));
    }
    let due_by = dispute["evidence_details"]["due_by"]
        .as_i64()
        .unwrap_or(i64::MAX);
    if due_by <= now() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The deadline to respond to this dispute has passed; evidence can no longer be submitted.",
        ));
    }
    if !dispute["evidence"].is_object() {
        dispute["evidence"] = json!({});
    }
    for (field, value) in &evidence {
        dispute["evidence"][field] = if value.is_empty() {
            Value::Null
        } else {
            json!(value)
        };
    }
    if let Some(m) = p.hashes.get("metadata") {
        dispute["metadata"] = json!(m);
    }
    dispute["evidence_details"]["has_evidence"] = json!(true);
    if submit {
        dispute["status"] = json!(if status.starts_with("warning_") {
            "warning_under_review"
        } else {
            "under_review"
        });
        let n = dispute["evidence_details"]["submission_count"]
            .as_i64()
            .unwrap_or(0);
        dispute["evidence_details"]["submission_count"] = json!(n + 1);
    }
    ledger.put_object(dispute.clone());
    ledger.push_event("charge.dispute.updated", &dispute, now(), livemode);
    ok(dispute)
}
