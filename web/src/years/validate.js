// Checks of a new school year as typed, the same rules the API applies (docs/API.md).
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/* A real calendar date in YYYY-MM-DD (the date input gives '' while incomplete). */
export function isDate(s) {
  const m = DATE_RE.exec(s || '');
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/*
 * Returns { field: [key, params] } for every field with a problem, keyed as the API names them
 * (name, start_date, end_date, terms[0].start_date …), so that the API's answer and ours land
 * next to the same input. Empty fields are reported only once touched (touched[field]).
 */
export function validateYear(f, touched = {}) {
  const errs = {};
  const need = (k, v) => {
    if (!v) {
      if (touched[k]) errs[k] = ['required'];
      return false;
    }
    if (k !== 'name' && !isDate(v)) {
      errs[k] = ['date'];
      return false;
    }
    return true;
  };
  let y1 = null;
  if (need('name', f.name)) {
    const m = /^(\d{4})-(\d{4})$/.exec(f.name);
    if (!m) errs.name = ['nameFormat'];
    else if (+m[2] !== +m[1] + 1) errs.name = ['nameConsecutive'];
    else y1 = +m[1];
  }
  const hasStart = need('start_date', f.start_date);
  const hasEnd = need('end_date', f.end_date);
  if (y1 != null && hasStart && +f.start_date.slice(0, 4) !== y1) errs.start_date = ['startYear', { y: y1 }];
  if (y1 != null && hasEnd && +f.end_date.slice(0, 4) !== y1 + 1) errs.end_date = ['endYear', { y: y1 + 1 }];
  if (hasStart && hasEnd && !errs.end_date && f.end_date <= f.start_date) errs.end_date = ['startBeforeEnd'];
  const inYear = (v) => (!hasStart || v >= f.start_date) && (!hasEnd || v <= f.end_date);
  const ok = [];
  f.terms.forEach((term, i) => {
    const ks = `terms[${i}].start_date`;
    const ke = `terms[${i}].end_date`;
    const s = need(ks, term.start_date);
    const e = need(ke, term.end_date);
    if (s && !inYear(term.start_date)) errs[ks] = ['inside'];
    if (e && !inYear(term.end_date)) errs[ke] = ['inside'];
    if (s && e && !errs[ke] && term.end_date <= term.start_date) errs[ke] = ['startBeforeEnd'];
    ok.push(s && e);
  });
  if (ok[0] && ok[1] && !errs['terms[1].start_date'] && f.terms[1].start_date <= f.terms[0].end_date) {
    errs['terms[1].start_date'] = ['termOrder'];
  }
  return errs;
}

/* The field an API error names ("…: terms[1].start_date: …" → "terms[1].start_date"), or null. */
export function apiField(message) {
  const m = /(?:^|:\s*)(name|start_date|end_date|terms\[\d\]\.(?:start_date|end_date|term))\s*:/.exec(message || '');
  return m ? m[1] : null;
}
