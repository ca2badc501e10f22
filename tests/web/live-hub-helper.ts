// A live hub on the test NATS server that the test closes itself (a TestGateway's close() ends only its
// database pool), on the test's own subject prefix.
import { createLogger } from '../../functions/_shared/log.ts';
import { createLiveHub, type LiveHub } from '../../functions/api/core/live-hub.ts';
import { testServices } from '../harness/services.ts';

export function testLiveHub(subjectPrefix: string, natsUrl = testServices.natsUrl): LiveHub {
  const settings = { NATS_URL: natsUrl, NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_SUBJECT_PREFIX: subjectPrefix };
  return createLiveHub(settings, createLogger({ level: 'error', sink: () => {} }));
}
