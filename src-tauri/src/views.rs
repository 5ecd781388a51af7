//! Read commands over the active store's mirror, and the refund (the one write a view makes).
//!
//! Invariant: every query names its mode; test and live rows never share a list or count.
//! Rows cross IPC as the mirror's own types, unconverted.
use fluxstore_gateway::profile::RefundTarget;
use fluxstore_mirror::OrderQuery;

use crate::dto::{
    ApiCall, ChecklistFacts, Dispute, Invoice, LimitArgs, ListEventsArgs, ListOrdersArgs, ModeArgs,
    Order, OrderDetail, OrderDetailArgs, Page, RefundArgs, Rejection, RevenueSummary,
    RevenueSummaryArgs, StoredEvent, Subscription, non_blank,
};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

/// Largest page or list a view may ask for (bounds the work one call can cause).
pub const MAX_LIMIT: u32 = 500;

fn limit(n: u32) -> u32 {
    n.clamp(1, MAX_LIMIT)
}

impl AppState {
    pub async fn list_orders(&self, args: ListOrdersArgs) -> IpcResult<Page<Order>> {
        let mode = args.mode;
        let query = OrderQuery {
            after: non_blank(args.after),
            limit: limit(args.limit),
            ..args.filters.query(mode)
        };
        self.active()
            .await
            .read(move |m| m.orders(mode, &query))
            .await
    }

    pub async fn order_detail(&self, args: OrderDetailArgs) -> IpcResult<OrderDetail> {
        let mode = args.mode;
        let id = args.session_id.trim().to_owned();
        let lookup = id.clone();
        self.active()
            .await
            .read(move |m| m.order_detail(mode, &lookup))
            .await?
            .ok_or_else(|| IpcError::not_found(&format!("The order {id}")))
    }

    /// Refund an order (all that remains, or `amount` minor units), then return it as the
    /// mirror now shows it. The preconditions are the profile's (the same as the CLI's).
    pub async fn refund_order(&self, args: RefundArgs) -> IpcResult<OrderDetail> {
        if self.sample_open().await && args.mode.is_live() {
            return Err(crate::connection::sample_is_test_only());
        }
        let outcome = self
            .active_profile()
            .await
            .refund(
                args.mode,
                RefundTarget::Order(args.session_id.clone()),
                args.amount,
                args.reason,
            )
            .await;
        self.observe(&outcome);
        if let Some(notice) = outcome?.recorded.applied() {
            self.notify.event_applied(notice);
        }
        self.order_detail(OrderDetailArgs {
            mode: args.mode,
            session_id: args.session_id,
        })
        .await
    }

    /// The revenue summary per currency (the mirror's rules; offline).
    pub async fn revenue_summary(&self, args: RevenueSummaryArgs) -> IpcResult<RevenueSummary> {
        if let (Some(from), Some(to)) = (args.from, args.to)
            && to < from
        {
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                "The period ends before it starts; pick an end date after the start date.",
            ));
        }
        let RevenueSummaryArgs { mode, from, to } = args;
        self.active()
            .await
            .read(move |m| m.revenue_summary(mode, from, to))
            .await
    }

    pub async fn list_disputes(&self, args: ModeArgs) -> IpcResult<Vec<Dispute>> {
        let mode = args.mode;
        self.active().await.read(move |m| m.disputes(mode)).await
    }

    pub async fn list_subscriptions(&self, args: ModeArgs) -> IpcResult<Vec<Subscription>> {
        let mode = args.mode;
        self.active()
            .await
            .read(move |m| m.subscriptions(mode))
            .await
    }

    pub async fn list_invoices(&self, args: ModeArgs) -> IpcResult<Vec<Invoice>> {
        let mode = args.mode;
        self.active().await.read(move |m| m.invoices(mode)).await
    }

    pub async fn list_events(&self, args: ListEventsArgs) -> IpcResult<Vec<StoredEvent>> {
        let (mode, n) = (args.mode, limit(args.limit));
        self.active()
            .await
            .read(move |m| m.events(Some(mode), n))
            .await
    }

    pub async fn list_rejections(&self, args: LimitArgs) -> IpcResult<Vec<Rejection>> {
        let n = limit(args.limit);
        self.active().await.read(move |m| m.rejections(n)).await
    }

    pub async fn list_api_calls(&self, args: LimitArgs) -> IpcResult<Vec<ApiCall>> {
        let n = limit(args.limit);
        self.active().await.read(move |m| m.api_calls(n)).await
    }

    /// The checklist's facts, paid orders counted from when each mode was connected.
    pub async fn checklist_facts(&self) -> IpcResult<ChecklistFacts> {
        Ok(self.active_profile().await.checklist_facts().await?)
    }
}
