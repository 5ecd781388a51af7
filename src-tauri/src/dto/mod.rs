//! Every shape that crosses IPC, each deriving `ts_rs::TS` so the UI's TypeScript types are
//! generated from these (see `bindings`).
//!
//! Invariant: the mirror's read types cross as themselves (their TypeScript is derived in the
//! mirror crate behind its `ts` feature); only the shell's own shapes are declared here.
pub mod shell;

pub use fluxstore_gateway::profile::{
    HubFeedState, HubFeedStatus, HubSource, KeyHubChange, KeyHubStatus,
};
pub use fluxstore_gateway::{
    DisputeFact, Healed, LookupReport, OrderFacts, RefundFact, StripeSays,
};
pub use fluxstore_mirror::evidence::{DisputeText, EvidenceField, EvidenceKind, ReasonGuidance};
pub use fluxstore_mirror::facts::RejectionCode;
pub use fluxstore_mirror::{
    ApiCall, AppliedEvent, ChecklistFacts, CurrencyRevenue, Dispute, DisputeWorkbench, DraftFile,
    EvidenceValue, Invoice, LineItem, MetadataField, Mode, ModeFacts, Notice, NoticeKind,
    NoticeTarget, Order, OrderDetail, OrderMarker, OrderStatus, OtherActivity, Page, Rejection,
    RevenueSummary, Source, StoredEvent, Subscription, TimelineEntry,
};
pub use shell::*;
