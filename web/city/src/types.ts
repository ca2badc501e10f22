// The city app's data, as the gateway's route definitions declare it (no hand-written copies).
import type { InferResponseType } from 'hono/client';
import type { ApiClient } from '../../shared/api.ts';

type Api = ApiClient['api'];
export type Team = InferResponseType<Api['teams']['$get'], 200>['items'][number];
export type Channel = InferResponseType<Api['channels']['$get'], 200>['items'][number];
export type Message = InferResponseType<Api['messages']['$get'], 200>['items'][number];
export type Member = InferResponseType<Api['teams'][':teamId']['members']['$get'], 200>['items'][number];
export type MyInvitation = InferResponseType<Api['invitations']['mine']['$get'], 200>['items'][number];
export type Agent = InferResponseType<Api['agents']['$get'], 200>['items'][number];
export type AgentRun = InferResponseType<Api['agent-runs']['$get'], 200>['items'][number];
