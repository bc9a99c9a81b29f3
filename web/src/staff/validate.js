// Checks of the teacher-exchange proposal and of a recruitment row as typed, the rules the API
// applies (docs/API.md), keyed by the API's field names so that its answer lands in the same place.
import { isDate } from '../years/validate.js';

const CID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** The GB 11643 check of an 18-character citizen ID; '' when valid, else an error key. */
export function citizenIdError(id) {
  if (!/^\d{17}[\dXx]$/.test(id)) return 'cidFormat';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * CID_WEIGHTS[i];
  if ('10X98765432'[sum % 11] !== id[17].toUpperCase()) return 'cidCheck';
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  return isDate(birth) ? '' : 'cidBirth';
}

/** The birth date a valid citizen ID encodes. */
export const citizenIdBirth = (id) => `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;

/** { field: key } of an exchange proposal; empty fields count once touched. */
export function validateExchange(f, touched = {}) {
  const errs = {};
  const need = (k) => {
    if (f[k] === '' || f[k] == null) {
      if (touched[k]) errs[k] = 'required';
      return false;
    }
    return true;
  };
  need('person_id');
  need('to_school_id');
  need('reason');
  if (need('start_date') && !isDate(f.start_date)) errs.start_date = 'date';
  if (f.kind === 'rotation' && need('end_date')) {
    if (!isDate(f.end_date)) errs.end_date = 'date';
    else if (isDate(f.start_date) && f.end_date <= f.start_date) errs.end_date = 'afterStart';
  }
  if (f.to_school_id && String(f.to_school_id) === String(f.from_school_id)) errs.to_school_id = 'sameSchool';
  return errs;
}

/** { field: key } of one recruitment row (fields as the API's hire members). */
export function validateHire(h) {
  const errs = {};
  for (const k of ['name', 'sex', 'birth_date', 'school_id', 'title']) if (!h[k]) errs[k] = 'required';
  if (h.birth_date && !isDate(h.birth_date)) errs.birth_date = 'date';
  if (h.citizen_id) {
    const e = citizenIdError(h.citizen_id);
    if (e) errs.citizen_id = e;
    else if (h.birth_date && isDate(h.birth_date) && citizenIdBirth(h.citizen_id) !== h.birth_date) errs.birth_date = 'cidMismatch';
  }
  if (h.phone && !/^\+?[\d-]{5,20}$/.test(h.phone)) errs.phone = 'phone';
  return errs;
}
