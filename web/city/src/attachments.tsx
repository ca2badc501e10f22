// Files on messages: the picker uploads each chosen file at once (ask the gateway for a presigned PUT, send the
// bytes straight to the bucket, confirm — the gateway checks size, SHA-256 and type), so a refused file is
// reported before the message is sent; sending attaches the stored files. A message's files list with a
// download button that asks for a short-lived URL (always served as an attachment).
import { useId, useState, type ChangeEvent } from 'react';
import type { InferResponseType } from 'hono/client';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { describeError } from '../../shared/api-errors.ts';
import { useResource } from '../../shared/ui.tsx';

export type StoredFile = InferResponseType<ApiClient['api']['files'][':fileId']['confirm']['$post'], 200>;

interface Upload {
  key: string;
  name: string;
  state: 'hashing' | 'uploading' | 'verifying' | 'ready' | 'failed';
  file?: StoredFile;
  error?: string;
}

const stateText: Record<Upload['state'], string> = {
  hashing: 'Preparing…',
  uploading: 'Uploading…',
  verifying: 'Checking…',
  ready: 'Ready to send',
  failed: 'Not attached',
};

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Uploads one file end to end; `progress` hears each step. Throws with a sentence for people. */
async function uploadFile(api: ApiClient, teamId: string, file: File, progress: (state: Upload['state']) => void): Promise<StoredFile> {
  progress('hashing');
  const bytes = await file.arrayBuffer();
  const requested = await expectOk(
    api.api.files.uploads.$post({
      json: {
        team_id: teamId,
        name: file.name,
        content_type: file.type || 'application/octet-stream',
        size_bytes: file.size,
        sha256: await sha256Hex(bytes),
      },
    }),
  );
  progress('uploading');
  let put: Response;
  try {
    put = await fetch(requested.upload.url, { method: 'PUT', headers: requested.upload.headers, body: bytes });
  } catch {
    throw new Error('The file could not be sent to storage. Check your connection and try again.');
  }
  if (!put.ok) throw new Error(`Storage refused the upload (${put.status}). Try again; if it persists, tell an admin.`);
  progress('verifying');
  return expectOk(api.api.files[':fileId'].confirm.$post({ param: { fileId: requested.file.id } }));
}

/** The file input and each chosen file's status (the state lives with the composer that sends them). */
export function AttachmentPicker(props: {
  api: ApiClient;
  teamId: string;
  uploads: Upload[];
  setUploads: (update: (u: Upload[]) => Upload[]) => void;
}) {
  const id = useId();
  const { uploads, setUploads } = props;
  const update = (key: string, change: Partial<Upload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    event.target.value = ''; // the same file can be chosen again after a failure
    for (const file of files) {
      const key = `${file.name}-${Date.now()}-${Math.random()}`;
      setUploads((all) => [...all, { key, name: file.name, state: 'hashing' }]);
      uploadFile(props.api, props.teamId, file, (state) => update(key, { state })).then(
        (stored) => update(key, { state: 'ready', file: stored }),
        (error: unknown) => update(key, { state: 'failed', error: describeError(error).message }),
      );
    }
  };

  return (
    <div className="attachment-picker">
      <label htmlFor={id}>Attach files</label>
      <input id={id} type="file" multiple onChange={choose} accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" />
      {uploads.length > 0 && (
        <ul className="upload-list" aria-label="Files to attach">
          {uploads.map((upload) => (
            <li key={upload.key}>
              <span>{upload.name}</span> <span role="status">{stateText[upload.state]}</span>
              {upload.error && (
                <p className="field-error" role="alert">
                  {upload.name}: {upload.error}
                </p>
              )}{' '}
              {upload.state !== 'hashing' && upload.state !== 'uploading' && upload.state !== 'verifying' && (
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove ${upload.name}`}
                  onClick={() => setUploads((all) => all.filter((u) => u.key !== upload.key))}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export type { Upload };

/** Attaches the picker's stored files to a freshly sent message. */
export async function attachUploads(api: ApiClient, messageId: string, uploads: Upload[]): Promise<void> {
  for (const upload of uploads) {
    if (upload.state !== 'ready' || !upload.file) continue;
    await expectOk(api.api.files[':fileId'].attachments.$post({ param: { fileId: upload.file.id }, json: { message_id: messageId } }));
  }
}

const sizeText = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A message's files, each with a download button (the URL is asked for on click: it expires). */
export function MessageAttachments(props: { api: ApiClient; messageId: string; version: number }) {
  const { api, messageId } = props;
  const files = useResource(() => expectOk(api.api.files.$get({ query: { message_id: messageId } })), [messageId], props.version);
  const [error, setError] = useState<string | undefined>();
  const items = files.data?.items ?? [];
  if (items.length === 0) return null;

  const download = async (file: StoredFile) => {
    setError(undefined);
    try {
      const { url } = await expectOk(api.api.files[':fileId'].download.$get({ param: { fileId: file.id } }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file.name;
      link.rel = 'noopener';
      link.click();
    } catch (failure) {
      setError(describeError(failure).message);
    }
  };

  return (
    <div className="attachments">
      <ul aria-label="Attachments">
        {items.map((file) => (
          <li key={file.id}>
            <button type="button" className="link" onClick={() => void download(file)}>
              Download {file.name}
            </button>{' '}
            <span className="hint">({sizeText(file.size_bytes)})</span>
          </li>
        ))}
      </ul>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
