// The one-time codes of the last bulk run, kept in memory only: they are shown once, printed from
// here, and gone on reload (the server keeps their hashes only).
import { reactive } from 'vue';

export const lastRun = reactive({ org: null, items: [], expiresAt: null });

export function keepRun(doc) {
  lastRun.org = doc.org;
  lastRun.items = doc.items;
  lastRun.expiresAt = doc.expires_at;
}

/* The activation link of a sheet: the login page with login and code in the fragment, which
 * browsers never send to the server (no secret in a query string or a log). */
export function activationLink(item) {
  const frag = new URLSearchParams({ login: item.login, code: item.code }).toString();
  return `${window.location.origin}/login#${frag}`;
}
