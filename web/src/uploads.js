// web/src/uploads.js — files to attach, sent by tus (resumable, with progress)
// to /api/v1/uploads/; the last PATCH names the attachment it became.
import * as tus from 'tus-js-client';
import { getToken } from './api.js';

/** Upload one File; onProgress(0..1). Resolves to the attachment id. */
export function uploadFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(file, {
      endpoint: '/api/v1/uploads/',
      chunkSize: 512 * 1024, // under the host's LimitRequestBody (1 MiB)
      retryDelays: [0, 1000, 3000, 5000],
      headers: { Authorization: `Bearer ${getToken()}` },
      metadata: { filename: file.name || 'pasted', filetype: file.type || '' },
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => onProgress && onProgress(total ? sent / total : 0),
      onError: (e) => {
        const body = e && e.originalResponse ? e.originalResponse.getBody() : '';
        let msg = e && e.message ? e.message : 'upload failed';
        try {
          msg = JSON.parse(body).error.message;
        } catch {
          /* not our envelope */
        }
        reject(new Error(msg));
      },
      onSuccess: ({ lastResponse }) => {
        const id = lastResponse && lastResponse.getHeader('Agora-Attachment-Id');
        if (id) resolve(id);
        else reject(new Error('the server did not say which attachment the upload became'));
      },
    });
    up.start();
  });
}
