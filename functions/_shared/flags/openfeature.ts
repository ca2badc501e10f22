// The OpenFeature provider of the gateway and the workers: evaluations come from the process's flag store
// (in memory, kept current by NOTIFY). Code asks through an OpenFeature client
// (`client.getBooleanValue('agents', false, { targetingKey: userId, teams })`), never the store directly, so the
// provider can be swapped (a vendor's, a file's in tests) without touching callers.
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FlagStore } from './store.ts';

const teamsOf = (context: EvaluationContext): string[] =>
  Array.isArray(context.teams) ? context.teams.filter((t): t is string => typeof t === 'string') : [];

export class DatabaseFlagProvider implements Provider {
  readonly metadata = { name: 'microdao-database-flags' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private stopWatching: (() => void) | null = null;

  constructor(private readonly store: FlagStore) {}

  async initialize(): Promise<void> {
    await this.store.ready();
    this.stopWatching = this.store.onChange((flagsChanged) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }));
  }

  async onClose(): Promise<void> {
    this.stopWatching?.();
  }

  private resolve<T extends boolean | string>(
    key: string,
    fallback: T,
    context: EvaluationContext,
    type: 'boolean' | 'string',
  ): ResolutionDetails<T> {
    const evaluation = this.store.evaluate(key, { userId: context.targetingKey, teamIds: teamsOf(context) });
    if (!evaluation) return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `no flag ${key}` };
    if (typeof evaluation.value !== type) {
      return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag ${key} is not a ${type} flag` };
    }
    return {
      value: evaluation.value as T,
      reason: evaluation.reason,
      variant: typeof evaluation.value === 'string' ? evaluation.value : String(evaluation.value),
      flagMetadata: { version: this.store.flags().get(key)?.version ?? 0 },
    };
  }

  async resolveBooleanEvaluation(key: string, fallback: boolean, context: EvaluationContext) {
    return this.resolve(key, fallback, context, 'boolean');
  }
  async resolveStringEvaluation(key: string, fallback: string, context: EvaluationContext) {
    return this.resolve(key, fallback, context, 'string');
  }
  async resolveNumberEvaluation(key: string, fallback: number): Promise<ResolutionDetails<number>> {
    return {
      value: fallback,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: `flag ${key}: flags are boolean or variant`,
    };
  }
  async resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T): Promise<ResolutionDetails<T>> {
    return {
      value: fallback,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: `flag ${key}: flags are boolean or variant`,
    };
  }
}
