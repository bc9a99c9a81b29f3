// Sends a spreadsheet as the request body (not JSON) and returns the report whatever the
// verdict: 200/201 and 422 all carry one (roster templates, observation sheets).
import { ApiError, session } from '../api.js';

export async function uploadSheet(url, file) {
  const headers = { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' };
  if (session.me && session.me.csrf_token) headers['X-CSRF-Token'] = session.me.csrf_token;
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers, body: file, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', '');
  }
  const data = await res.json().catch(() => null);
  if ([200, 201, 422].includes(res.status) && data && Array.isArray(data.findings)) return data;
  const err = (data && data.error) || {};
  throw new ApiError(res.status, err.code, err.message);
}

export function uploadRoster(schoolId, kind, file, dryRun) {
  return uploadSheet(`/api/v1/orgs/${schoolId}/roster-import?kind=${kind}${dryRun ? '&dry_run=1' : ''}`, file);
}
