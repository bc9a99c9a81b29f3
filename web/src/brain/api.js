// The brain's API calls (docs/internals/brain.md): dashboard, indicators, alerts, the map's
// districts and schools, data elements. Thin wrappers over ../api.js.
import { api, get } from '../api.js';

const qs = (params) => Object.entries(params)
  .filter(([, v]) => v !== undefined && v !== null && v !== '')
  .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

export const getDashboard = (org) => get(`/dashboard?${qs({ org })}`);
export const getIndicators = () => get('/indicators');
export const createIndicator = (body) => api('POST', '/indicators', body);
/* params: org, period, by (children | day | week | month). */
export const getIndicator = (code, params) => get(`/indicators/${encodeURIComponent(code)}?${qs(params)}`);
/* The chart's table as Excel: the same parameters as the JSON it was drawn from. */
export const indicatorXlsxHref = (code, params) => `/api/v1/indicators/${encodeURIComponent(code)}.xlsx?${qs(params)}`;
export const getAlerts = (org, state = 'open') => get(`/alerts?${qs({ org, state })}`);
export const getDistricts = () => get('/geo/districts');
export const getOrg = (id) => get(`/orgs/${id}`);
export const getStats = (id) => get(`/orgs/${id}/stats`);
export const getElements = () => get('/data-elements');
export const createElement = (body) => api('POST', '/data-elements', body);

/* Every child of an org (pages of 500). */
export async function getChildren(id) {
  const items = [];
  let after = null;
  for (let i = 0; i < 100; i++) {
    const page = await get(`/orgs/${id}/children?${qs({ limit: 500, after })}`);
    items.push(...page.items);
    if (page.next === null || page.next === undefined || page.items.length === 0) break;
    after = page.next;
  }
  return items;
}

/* The caller's top node: the org of their first grant (the city for city roles). */
export function homeOrg(me) {
  const roles = (me && me.roles) || [];
  const order = ['city_admin', 'analyst', 'district_admin', 'school_admin', 'head_teacher', 'teacher'];
  const sorted = [...roles].sort((a, b) => {
    const ka = (a.org.path || '').split('/').length;
    const kb = (b.org.path || '').split('/').length;
    return ka - kb || order.indexOf(a.role) - order.indexOf(b.role);
  });
  return sorted.length ? sorted[0].org.id : null;
}

/* The way from the caller's top node down to org: [{id, name, kind}], the readable ancestors
 * only (a node above the caller's scope answers 404 and is left out). */
export async function trail(org) {
  const path = (org.path || '').split('/').filter(Boolean).map(Number);
  const out = [];
  for (const id of path.slice(0, -1)) {
    try {
      const o = await getOrg(id);
      out.push({ id: o.id, name: o.name, kind: o.kind });
    } catch (e) {
      /* Above the caller's scope. */
    }
  }
  out.push({ id: org.id, name: org.name, kind: org.kind });
  return out;
}

/* The id of an item's org: the API gives {id, name, kind} objects. */
export const orgIdOf = (o) => (o && typeof o === 'object' ? o.id : o);
export const orgNameOf = (o) => (o && typeof o === 'object' ? o.name : String(o ?? ''));

/* Roles that report observations (docs/internals/brain.md, "Who reports"): administrators
 * anywhere in their scope, head teachers and teachers for their own classes. Students, parents
 * and analysts never do; the server decides row by row, this only shapes the menu. */
export const REPORTER_ROLES = ['city_admin', 'district_admin', 'school_admin', 'head_teacher', 'teacher'];
export const isReporter = (me) => ((me && me.roles) || []).some((r) => REPORTER_ROLES.includes(r.role));
