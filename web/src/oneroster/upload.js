// The OneRoster upload: the zip goes as the request body through XMLHttpRequest, whose upload
// events give the progress bar (fetch has none); the answer is the import job.
import { ApiError, session, get } from '../api.js';

/** Uploads file (a .zip) into org; onProgress(loaded, total) while it goes. Resolves the job. */
export function uploadPackage(orgId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/imports/oneroster${orgId ? `?org=${orgId}` : ''}`);
    xhr.setRequestHeader('Content-Type', 'application/zip');
    xhr.setRequestHeader('Accept', 'application/json');
    if (session.me && session.me.csrf_token) xhr.setRequestHeader('X-CSRF-Token', session.me.csrf_token);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded, ev.total);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (e) {
        data = null;
      }
      if (xhr.status === 202 && data) {
        onProgress(file.size, file.size);
        resolve(data);
        return;
      }
      const err = (data && data.error) || {};
      reject(new ApiError(xhr.status, err.code, err.message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', ''));
    xhr.send(file);
  });
}

/** Polls the job until it is done or failed; onUpdate(job) on every answer. */
export async function followJob(id, onUpdate, intervalMs = 400) {
  for (;;) {
    const job = await get(`/imports/oneroster/${id}`);
    onUpdate(job);
    if (job.state === 'done' || job.state === 'failed') return job;
    await new Promise((r) => { setTimeout(r, intervalMs); });
  }
}
