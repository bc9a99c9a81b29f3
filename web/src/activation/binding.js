// Parent binding codes issued per class, kept in memory only like the activation codes: shown
// once, printed from here, gone on reload (the server keeps their hashes only).
import { reactive } from 'vue';
import { api, get } from '../api.js';

export const bindRun = reactive({ org: null, sheets: [], expiresAt: null });

/* Every child of a node, following the cursor pages. */
async function allChildren(id) {
  const out = [];
  let after = null;
  for (let i = 0; i < 100; i++) {
    const page = await get(`/orgs/${id}/children?limit=500${after != null ? `&after=${after}` : ''}`);
    out.push(...(page.items || []));
    if (page.next == null) break;
    after = page.next;
  }
  return out;
}

/* The classes under a school, grade or class, in tree order. */
export async function classesUnder(org) {
  if (org.kind === 'class') return [org];
  const kids = await allChildren(org.id);
  const out = [];
  for (const k of kids) {
    if (k.kind === 'class') out.push(k);
    else if (k.kind === 'grade') out.push(...(await classesUnder(k)));
  }
  return out;
}

/* Issues the codes of every class under org, one request (one transaction) per class. */
export async function issueBindingSheets(org) {
  const classes = await classesUnder(org);
  const sheets = [];
  let expiresAt = null;
  try {
    for (const c of classes) {
      const doc = await api('POST', `/orgs/${c.id}/binding-codes`);
      sheets.push({ classId: doc.class.id, className: doc.class.name, items: doc.items });
      expiresAt = doc.expires_at;
    }
  } finally {
    /* Codes already issued replaced the old ones: keep them printable even if a later class
     * failed. */
    bindRun.org = org;
    bindRun.sheets = sheets;
    bindRun.expiresAt = expiresAt;
  }
  return { classes: sheets.length, students: sheets.reduce((n, s) => n + s.items.length, 0) };
}

/* The parent registration page: no secret in it, the code is typed from the sheet. */
export const parentRegisterLink = () => `${window.location.origin}/parent-register`;
