//! Local fakes of what lives outside this machine (Stripe's API, Stripe's Connect
//! endpoints), as small HTTP servers on 127.0.0.1 that speak the documented wire format.

pub mod connect_fake;
pub mod stripe_fake;
