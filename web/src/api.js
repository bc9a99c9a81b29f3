// The JSON client for /api/v1: session cookie, CSRF header on unsafe methods, errors as ApiError.
import { reactive } from 'vue';

/* The session shape of docs/API.md (user, roles, csrf_token), or null when logged out. */
export const session = reactive({ me: null, checked: false });

/* Called on any 401 so that the router can send the user back to the login page. */
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/* Called on a 403 must_enrol_totp so that the router can send the user to /security. */
let onMustEnrol = () => {};
export function setMustEnrolHandler(fn) {
  onMustEnrol = fn;
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.retryAfter = retryAfter;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && session.me && session.me.csrf_token) {
    headers['X-CSRF-Token'] = session.me.csrf_token;
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', '');
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const retry = parseInt(res.headers.get('Retry-After') || '', 10);
    const e = new ApiError(res.status, err.code, err.message, Number.isFinite(retry) ? retry : null);
    /* A login attempt with a wrong password is a 401 too; only an expired session redirects. */
    if (res.status === 401 && !opts.noRedirect) {
      session.me = null;
      onUnauthenticated();
    }
    /* The policy requires a second factor this session does not have yet (an administrator
     * whose TOTP was reset, or a policy switched on mid-session): enrolment comes first. */
    if (res.status === 403 && e.code === 'must_enrol_totp' && session.me) {
      session.me.user.must_enrol_totp = true;
      onMustEnrol();
    }
    throw e;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);

/* Loads the session once; a 401 simply means "not logged in". */
export async function loadSession() {
  try {
    session.me = await api('GET', '/me', undefined, { noRedirect: true });
  } catch (e) {
    session.me = null;
    if (e.status !== 401) throw e;
  } finally {
    session.checked = true;
  }
  return session.me;
}

/* otp: the second step's code, sent again with the password (the API keeps no half-done login). */
export async function login(loginName, password, otp) {
  const body = { login: loginName, password };
  if (otp !== undefined) body.otp = otp;
  session.me = await api('POST', '/session', body, { noRedirect: true });
  session.checked = true;
  return session.me;
}

export async function logout() {
  try {
    await api('DELETE', '/session', undefined, { noRedirect: true });
  } finally {
    session.me = null;
  }
}

export const ADMIN_ROLES = ['city_admin', 'district_admin', 'school_admin'];

/* Admin grants of the current user (they may reveal citizen IDs and read the audit log). */
export function adminRoles() {
  const roles = (session.me && session.me.roles) || [];
  return roles.filter((r) => ADMIN_ROLES.includes(r.role));
}

/* ---- the second factor (TOTP, RFC 6238) ---- */

/* Starts an enrolment: {secret (base32), otpauth_uri}; 409 totp_already_enabled. */
export const totpStart = () => api('POST', '/me/totp');

/* Confirms the enrolment with the first code; the answer is the session document. */
export async function totpConfirm(code) {
  const doc = await api('POST', '/me/totp/confirm', { code });
  /* Keep the CSRF token should the answer leave it out. */
  session.me = doc && doc.user ? { csrf_token: session.me && session.me.csrf_token, ...doc } : await loadSession();
  return session.me;
}

/* Turns the second factor off (403 totp_required for administrator roles). */
export async function totpDisable(password, code) {
  /* A wrong password is not an expired session: no redirect to the login page. */
  await api('POST', '/me/totp/disable', { password, code }, { noRedirect: true });
  return loadSession();
}

/* Six digits, nothing else: what a TOTP code looks like (RFC 6238 with 6 digits). */
export const OTP_RE = /^\d{6}$/;
