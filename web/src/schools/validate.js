// Checks of the class form and the promotion form as typed, the rules the API applies
// (docs/API.md), and the school the pages open on.
import { isDate } from '../years/validate.js';
import { session } from '../api.js';

/* { field: [key, params] } for every field with a problem; empty fields only once touched. */
export function validateClass(f, touched = {}) {
  const errs = {};
  const name = (f.name || '').trim();
  if (!name) {
    if (touched.name) errs.name = ['required'];
  } else if ([...name].length > 60) {
    errs.name = ['nameLong'];
  }
  if (!f.grade_id && touched.grade_id) errs.grade_id = ['grade'];
  const y = Number(f.school_year);
  if (f.school_year === '' || f.school_year == null) {
    if (touched.school_year) errs.school_year = ['required'];
  } else if (!Number.isInteger(y) || y < 2000 || y > 2100) {
    errs.school_year = ['year'];
  }
  return errs;
}

/* The promotion: to_year follows from_year, the date is real and lies in to_year. */
export function validatePromotion(f) {
  const errs = {};
  const from = Number(f.from_year);
  const to = Number(f.to_year);
  if (!Number.isInteger(from) || from < 2000 || from > 2099) errs.from_year = ['year'];
  if (to !== from + 1) errs.to_year = ['to'];
  if (!isDate(f.date)) errs.date = ['date'];
  else if (Number(f.date.slice(0, 4)) !== to) errs.date = ['dateYear', { y: to }];
  return errs;
}

/* The school of the caller's first school-administrator role (the pages' default), or null. */
export function defaultSchoolId() {
  const r = ((session.me && session.me.roles) || []).find((x) => x.role === 'school_admin' && x.org);
  return r ? String(r.org.id) : null;
}

export const FLAG_CLASS = { large_class: 'warn', oversized_class: 'danger' };
