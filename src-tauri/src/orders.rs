//! The order commands beyond reading: fetch an order's line items, "Look it up on Stripe's
//! side", the count of other activity, and the owner's order marker. Each is one call into
//! the store profile (the same as the command line's).
use crate::dto::{
    LookupReport, ModeArgs, OrderDetail, OrderDetailArgs, OrderMarker, OrderMarkerArgs,
    OtherActivity,
};
use crate::error::IpcResult;
use crate::state::AppState;

impl AppState {
    /// Fetch the order's line items from Stripe, keep them in the mirror, and return the
    /// order as the mirror now shows it.
    pub async fn fetch_line_items(&self, args: OrderDetailArgs) -> IpcResult<OrderDetail> {
        if self.sample_open().await && args.mode.is_live() {
            return Err(crate::connection::sample_is_test_only());
        }
        let outcome = self
            .active_profile()
            .await
            .fetch_line_items(args.mode, &args.session_id)
            .await;
        self.observe(&outcome);
        outcome?;
        self.order_detail(args).await
    }

    /// What Stripe says about the order next to what the mirror says, healing the mirror
    /// when they differ. Views re-read the order afterwards.
    pub async fn lookup_order(&self, args: OrderDetailArgs) -> IpcResult<LookupReport> {
        if self.sample_open().await && args.mode.is_live() {
            return Err(crate::connection::sample_is_test_only());
        }
        let outcome = self
            .active_profile()
            .await
            .lookup_order(args.mode, &args.session_id)
            .await;
        self.observe(&outcome);
        Ok(outcome?)
    }

    /// Payments of the mode that are not orders: a count only.
    pub async fn other_activity(&self, args: ModeArgs) -> IpcResult<OtherActivity> {
        let mode = args.mode;
        self.active()
            .await
            .read(move |m| m.other_activity(mode))
            .await
    }

    pub async fn order_marker(&self) -> IpcResult<Option<OrderMarker>> {
        Ok(self.active_profile().await.order_marker().await?)
    }

    pub async fn set_order_marker(&self, args: OrderMarkerArgs) -> IpcResult<Option<OrderMarker>> {
        Ok(self
            .active_profile()
            .await
            .set_order_marker(args.marker)
            .await?)
    }
}
