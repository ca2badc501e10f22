// Checklist item "governance flow": the smoke user proposes (a signal proposal in its team), votes for it, reads
// the tally back with its vote counted, then cancels it so no open proposal is left behind. Closing and
// executing need the voting period to pass; the scheduler's part is covered by tests/governance/scheduler.test.ts.
import { expectStatus, StepFailure, type SmokeClient } from '../client.ts';
import type { ChecklistContext, ChecklistItem } from './index.ts';

export const governanceFlow: ChecklistItem = {
  name: 'governance flow',
  routePrefix: '/api/governance',
  feature: 'governance',
  describe: (api) =>
    `governance flow: POST ${api}/governance/proposals (signal), POST …/vote {for}, GET the proposal (tally for ≥ 1), POST …/cancel`,
  async run(client: SmokeClient, context: ChecklistContext) {
    if (!context.teamId) throw new StepFailure('the smoke user has no team to propose in');
    const made = expectStatus(
      await client.request('POST', `${context.api}/governance/proposals`, {
        kind: 'signal',
        team_id: context.teamId,
        title: `smoke ${context.stamp}`,
        body: 'Made and canceled by the post-deploy checklist.',
      }),
      201,
      'making a proposal',
    );
    const id = String(made.id);
    expectStatus(await client.request('POST', `${context.api}/governance/proposals/${id}/vote`, { choice: 'for' }), 200, 'voting');
    const read = expectStatus(await client.request('GET', `${context.api}/governance/proposals/${id}`), 200, 'reading the proposal');
    const tally = read.tally as { for?: number } | undefined;
    if (!tally || (tally.for ?? 0) < 1 || read.my_vote !== 'for')
      throw new StepFailure(`the vote is not in the tally: ${JSON.stringify(read.tally)}`);
    expectStatus(await client.request('POST', `${context.api}/governance/proposals/${id}/cancel`), 200, 'canceling the proposal');
    return `proposal ${id}: voted for, tally for ${tally.for}, canceled`;
  },
};
