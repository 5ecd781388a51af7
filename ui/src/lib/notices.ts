/**
 * Notices the shell raised (a new dispute, a dispute due soon, a failed renewal, the first
 * live order): where each leads in the app. The shell decides them and shows the OS
 * notification; the window lists the recent ones with a link to the item, because a click on
 * a desktop notification is not reported back to the app.
 */
import { routeHref } from './app.svelte';
import type { NoticeKind, NoticeTarget } from './backend/types';

export function noticeHref(target: NoticeTarget): string {
  switch (target.view) {
    case 'dispute':
      return routeHref('disputes', target.id);
    case 'order':
      return routeHref('orders', target.session_id);
    case 'subscription':
      return routeHref('subscriptions');
  }
}

/** What each kind of notice is, in the owner's words (the preferences list). */
export const NOTICE_LABELS: Record<NoticeKind, string> = {
  new_dispute: 'A new dispute',
  dispute_due_soon: 'A dispute due within 72 hours without submitted evidence',
  renewal_failed: 'A failed subscription renewal',
  first_live_order: 'The first live order',
};
