// Keyset pagination: a cursor is the (created_at, id) of the last item of a page, base64url-encoded so
// clients treat it as opaque. Keyset, not offset: pages stay stable while new messages arrive.
import { z } from '@hono/zod-openapi';

export interface Cursor {
  createdAt: string;
  id: string;
}

const CursorTuple = z.tuple([
  // our own created_at values: ISO 8601 with offset, in a range Postgres and JS agree on
  z.iso.datetime({ offset: true }).regex(/^(19[7-9]\d|[2-9]\d{3})-/),
  z.uuid(),
]);

const toBase64Url = (text: string) => btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');

export function encodeCursor(cursor: Cursor): string {
  return toBase64Url(JSON.stringify([cursor.createdAt, cursor.id]));
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const padded = text.replaceAll('-', '+').replaceAll('_', '/');
    const parsed = CursorTuple.safeParse(JSON.parse(atob(padded)));
    return parsed.success ? { createdAt: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** Query parameter `cursor`: validated and decoded at the edge of the route. */
export const CursorParam = z
  .string()
  .max(200, { message: 'is not a cursor returned by this API' })
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'is not a cursor returned by this API' })
  .transform((text, ctx) => {
    const cursor = decodeCursor(text);
    if (!cursor) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this API; pass next_cursor from the previous page' });
      return z.NEVER;
    }
    return cursor;
  })
  .openapi({ type: 'string', description: 'next_cursor of the previous page; omit for the first page' });

/** Splits a `limit + 1` result into the page and the cursor of the next page (null on the last page). */
export function pageOf<T extends { created_at: string; id: string }>(rows: T[], limit: number): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null };
}
