// Sends a roster file as the request body (not JSON) and returns the report whatever the
// verdict: 200 and 422 both carry one.
import { ApiError, session } from '../api.js';

export async function uploadRoster(schoolId, kind, file, dryRun) {
  const headers = { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' };
  if (session.me && session.me.csrf_token) headers['X-CSRF-Token'] = session.me.csrf_token;
  const url = `/api/v1/orgs/${schoolId}/roster-import?kind=${kind}${dryRun ? '&dry_run=1' : ''}`;
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers, body: file, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', '');
  }
  const data = await res.json().catch(() => null);
  if (res.status === 200 || res.status === 422) return data;
  const err = (data && data.error) || {};
  throw new ApiError(res.status, err.code, err.message);
}
