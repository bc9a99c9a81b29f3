// The current school year and term for the top bar, loaded once per session from the API.
import { reactive } from 'vue';
import { get, session } from '../api.js';

/* { school_year, term } of today, both null in a break or before loading. */
export const currentTerm = reactive({ school_year: null, term: null });

/* A session still bound to change its password or enrol TOTP may not read the calendar
 * (the API would answer 403 and send it elsewhere): only a full session asks. */
export async function refreshCurrentTerm() {
  const u = session.me && session.me.user;
  if (!u || u.must_change_password || u.must_enrol_totp) {
    currentTerm.school_year = null;
    currentTerm.term = null;
    return;
  }
  try {
    const doc = await get('/school-years/current');
    currentTerm.school_year = doc.school_year;
    currentTerm.term = doc.term;
  } catch (e) {
    /* The top bar simply shows nothing; the pages report their own errors. */
    currentTerm.school_year = null;
    currentTerm.term = null;
  }
}
