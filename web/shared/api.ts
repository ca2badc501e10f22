// The typed client of the gateway (hono/client over the app's AppType): routes, parameters and answers are
// checked against the gateway's own definitions at compile time. Every request carries the session's
// access token; a failed answer becomes an ApiRequestError with the gateway's code and message.
import { hc, type ClientResponse } from 'hono/client';
import type { AppType } from '../../functions/api/app.ts';
import { ApiUnreachableError, errorFromResponse } from './api-errors.ts';
import { apiBaseUrl, apiCanaryUrl } from './config.ts';
import { OpenFeature } from '@openfeature/web-sdk';

export type ApiClient = ReturnType<typeof hc<AppType>>;

export function createApiClient(accessToken: () => Promise<string | null>): ApiClient {
  return hc<AppType>(apiBaseUrl, {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      const token = await accessToken();
      if (token) headers.set('authorization', `Bearer ${token}`);
      try {
        return await fetch(releaseFor(input), { ...init, headers });
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        throw new ApiUnreachableError(apiBaseUrl);
      }
    },
  });
}

type SuccessBody<R> = R extends ClientResponse<infer Body, infer Status, 'json'> ? (Status extends 200 | 201 ? Body : never) : never;

/** The JSON body of a successful answer; throws ApiRequestError for any other. */
export async function expectOk<R extends ClientResponse<unknown, number, string>>(request: Promise<R>): Promise<SuccessBody<R>> {
  const response = await request;
  if (!response.ok) throw await errorFromResponse(response as unknown as Response);
  return (await response.json()) as SuccessBody<R>;
}

export const CANARY_FLAG = 'api.canary';

/** The canary's URL for a request when the `api.canary` flag selects this user (scripts/canary.sh), else the
    request as it is. The flags themselves are always read from the stable gateway, so a failing canary cannot
    keep its users by failing to answer the flag that would send them back. */
export function releaseFor(input: RequestInfo | URL): RequestInfo | URL {
  if (!apiCanaryUrl || input instanceof Request) return input;
  const url = String(input);
  const stablePrefix = `${apiBaseUrl}/api/`;
  if (!url.startsWith(stablePrefix) || url.startsWith(`${stablePrefix}flags`)) return input;
  if (!OpenFeature.getClient().getBooleanValue(CANARY_FLAG, false)) return input;
  return `${apiCanaryUrl}/${url.slice(stablePrefix.length)}`;
}
