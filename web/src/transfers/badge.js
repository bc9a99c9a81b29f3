// The number of transfers waiting for the current user, shown as a badge in the navigation.
import { reactive } from 'vue';
import { get, adminRoles } from '../api.js';

export const inbox = reactive({ count: 0, overdue: 0 });

/* Counts the first page of the inbox (enough for a badge: "99+" above that). */
export async function refreshInbox() {
  if (!adminRoles().length) {
    inbox.count = 0;
    inbox.overdue = 0;
    return;
  }
  try {
    const page = await get('/transfers?box=inbox&limit=100');
    inbox.count = page.items.length;
    inbox.overdue = page.items.filter((x) => x.overdue).length;
  } catch (e) {
    /* A badge is a hint: a failed count leaves the last one. */
  }
}
