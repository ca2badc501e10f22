// A live hub on the test NATS server that the test closes itself (a TestGateway's close() ends only its
// database pool), on the test's own subject prefix.
import { createLogger } from '../../functions/_shared/log.ts';
import { createLiveHub, DEFAULT_LIVE_LIMITS, type LiveHub, type LiveLimits } from '../../functions/api/core/live-hub.ts';
import { testServices } from '../harness/services.ts';

export function testLiveHub(subjectPrefix: string, natsUrl = testServices.natsUrl, limits: LiveLimits = DEFAULT_LIVE_LIMITS): LiveHub {
  const settings = { NATS_URL: natsUrl, NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_SUBJECT_PREFIX: subjectPrefix };
  return createLiveHub(settings, createLogger({ level: 'error', sink: () => {} }), limits);
}
