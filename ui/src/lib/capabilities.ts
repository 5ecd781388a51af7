/** What FluxStore can and can't do with the owner's Stripe account (from the Stripe Setup page, R5). */
export const CAN = [
  'Create checkout sessions and process payments through your account.',
  'Refund payments.',
  'Look up charges, customers and payments — in practice only those that belong to a FluxStore order; every call is in the Activity log.',
  'See whether your account can accept payments and receive payouts.',
];

export const CANNOT = [
  'Log into your Stripe dashboard. Your Stripe login and two-factor are entirely yours.',
  'Change your identity, business or verification details.',
  'Change your password, two-factor or team members.',
  'Change your bank account or payout schedule.',
  'Take a fee from your transactions.',
];

export const SECRET_LABELS: Record<string, string> = {
  secret_key: 'Secret key',
  restricted_key: 'Restricted key',
  webhook_secret: 'Webhook signing secret',
  connect_token: 'Stripe Connect access token',
};
