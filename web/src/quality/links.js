// Where a data-quality finding's record is fixed, and how times of a run read in the page.

/** The page of the record to fix: a person's page, or the org page of a class or school. */
export function recordRoute(f) {
  return f.object_type === 'person'
    ? { name: 'person', params: { id: String(f.object_id) } }
    : { name: 'org', params: { id: String(f.object_id) } };
}

/** "2026-11-30 02:00" in the browser's time zone from an ISO time; '' for null. */
export function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The checks that found something in a roll-up row, for compact columns: every check shown
 * in the table is one with a finding somewhere in it. */
export function activeChecks(doc) {
  if (!doc) return [];
  return doc.checks.filter((c) => doc.total.counts[c.code] > 0);
}
