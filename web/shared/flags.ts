// Feature flags in the browser, through OpenFeature's web SDK: the gateway evaluates every flag for the
// signed-in caller (GET /api/flags) and this provider keeps that answer, asking again every FLAG_POLL_MS so a
// flag flipped in the admin console shows without a reload. Components read flags with useBooleanFlag, which
// re-renders on OpenFeature's ConfigurationChanged event.
import {
  ErrorCode,
  OpenFeature,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import { useEffect, useState } from 'react';
import { expectOk, type ApiClient } from './api.ts';

export const FLAG_POLL_MS = 2000;

type Evaluations = Record<string, { value: boolean | string; reason: string; version: number }>;

export class GatewayFlagProvider implements Provider {
  readonly metadata = { name: 'microdao-gateway-flags' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  private flags: Evaluations = {};
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly pollMs = FLAG_POLL_MS,
  ) {}

  async initialize(): Promise<void> {
    await this.refresh();
    // a failed poll keeps the last answer; the next one tries again
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.pollMs);
  }

  async onClose(): Promise<void> {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    const next = (await expectOk(this.api.api.flags.$get())).flags;
    const keys = new Set([...Object.keys(this.flags), ...Object.keys(next)]);
    const flagsChanged = [...keys].filter((key) => this.flags[key]?.value !== next[key]?.value);
    this.flags = next;
    if (flagsChanged.length) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
  }

  private resolve<T extends boolean | string>(key: string, fallback: T, type: 'boolean' | 'string'): ResolutionDetails<T> {
    const flag = this.flags[key];
    if (!flag) return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND };
    if (typeof flag.value !== type) return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH };
    return { value: flag.value as T, reason: flag.reason, flagMetadata: { version: flag.version } };
  }

  resolveBooleanEvaluation(key: string, fallback: boolean) {
    return this.resolve(key, fallback, 'boolean');
  }
  resolveStringEvaluation(key: string, fallback: string) {
    return this.resolve(key, fallback, 'string');
  }
  resolveNumberEvaluation(_key: string, fallback: number): ResolutionDetails<number> {
    return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH };
  }
  resolveObjectEvaluation<T extends JsonValue>(_key: string, fallback: T): ResolutionDetails<T> {
    return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH };
  }
}

/** Serves the gateway's flags to OpenFeature while the component using it is mounted. */
export function useGatewayFlags(api: ApiClient): void {
  useEffect(() => {
    void OpenFeature.setProvider(new GatewayFlagProvider(api));
    return () => void OpenFeature.clearProviders();
  }, [api]);
}

/** A boolean flag's value for the signed-in caller; `fallback` until the flags have loaded or if it is unknown. */
export function useBooleanFlag(key: string, fallback: boolean): boolean {
  const [value, setValue] = useState(fallback);
  useEffect(() => {
    const client = OpenFeature.getClient();
    const update = () => setValue(client.getBooleanValue(key, fallback));
    update();
    client.addHandler(ProviderEvents.Ready, update);
    client.addHandler(ProviderEvents.ConfigurationChanged, update);
    return () => {
      client.removeHandler(ProviderEvents.Ready, update);
      client.removeHandler(ProviderEvents.ConfigurationChanged, update);
    };
  }, [key, fallback]);
  return value;
}
