// Checks of the transfer and status forms as typed, the same rules the API applies.
import { isDate } from '../years/validate.js';

export { isDate };

/* GB 11643: 17 digits and the ISO 7064 MOD 11-2 check character, with a real birth date. */
export function isCitizenId(s) {
  const v = (s || '').toUpperCase();
  if (!/^\d{17}[\dX]$/.test(v)) return false;
  if (!isDate(`${v.slice(6, 10)}-${v.slice(10, 12)}-${v.slice(12, 14)}`)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(v[i]) * w[i];
  return '10X98765432'[sum % 11] === v[17];
}

/* A national student number as issued: G and the citizen ID. */
export const isStudentNo = (s) => /^G/.test(s || '') && isCitizenId(s.slice(1));

/* Returns { field: key } for the start form, keyed as the API names the fields; empty fields
 * only once touched. */
export function validateStart(f, touched = {}) {
  const errs = {};
  const idField = f.by === 'sno' ? 'student_no' : 'citizen_id';
  const idVal = f.ident.trim();
  if (!idVal) {
    if (touched.ident) errs[idField] = 'required';
  } else if (f.by === 'sno' ? !isStudentNo(idVal) : !isCitizenId(idVal)) {
    errs[idField] = f.by === 'sno' ? 'sno' : 'cid';
  }
  if (!f.name.trim() && touched.name) errs.name = 'required';
  if (!f.to_class_id && touched.to_class_id) errs.to_class_id = 'required';
  if (!f.date) {
    if (touched.date) errs.date = 'required';
  } else if (!isDate(f.date)) {
    errs.date = 'date';
  }
  if (!f.reason.trim()) {
    if (touched.reason) errs.reason = 'required';
  } else if (f.reason.length > 200) {
    errs.reason = 'reason';
  }
  return errs;
}
