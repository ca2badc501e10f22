// The capability catalog as the gateway knows it: each capability's scope and whether a refusal is audited.
// The database holds the same catalog (public.capabilities, with the bundles that group them); a test keeps the
// two in step, so the PEP (functions/api/core/pep.ts) and row-level security (app.has_capability) enforce one
// policy. A domain adds its capabilities here and in its migration.

/** Who holds a capability: `team` — in a team, through a bundle (a role's or a key's); `account` — every
    human account; `principal` — every signed-in principal, human or key; `platform` — platform admins. */
export type CapabilityScope = 'team' | 'account' | 'principal' | 'platform';

interface CapabilityDefinition {
  scope: CapabilityScope;
  /** A refused call needing it is written to the audit log. */
  privileged: boolean;
}

const team = (privileged = false): CapabilityDefinition => ({ scope: 'team', privileged });

export const CAPABILITIES = {
  // accounts and principals
  'team.create': { scope: 'account', privileged: false },
  'team.list': { scope: 'account', privileged: false },
  'invitation.respond': { scope: 'account', privileged: false },
  'team.leave': { scope: 'account', privileged: false },
  'self.read': { scope: 'principal', privileged: false },
  'live.subscribe': { scope: 'principal', privileged: false },
  'platform.admin': { scope: 'platform', privileged: true },
  // teams, members, access
  'team.read': team(),
  'team.manage': team(true),
  'member.read': team(),
  'member.invite': team(true),
  'member.remove': team(true),
  'member.role.manage': team(true),
  'grant.manage': team(true),
  'audit.read': team(true),
  'key.manage': team(true),
  // messaging
  'channel.read': team(),
  'channel.create': team(),
  'channel.manage': team(true),
  'message.read': team(),
  'message.write': team(),
  // domains
  'agent.run': team(),
  'agent.read': team(),
  'agent.manage': team(true),
  'payout.propose': team(),
  'payout.approve': team(true),
  'embassy.ingest': team(),
  'embassy.manage': team(true),
  'rwa.read': team(),
  'governance.vote': team(),
  'flag.manage': { scope: 'platform', privileged: true },
  'storage.write': team(),
  // projects and governance (20261205000400, 20261205000410)
  'project.read': team(),
  'task.write': team(),
  'project.manage': team(true),
  'governance.propose': team(),
  'governance.manage': team(true),
  'storage.read': team(),
  // wallet (migration 20261205000700)
  'wallet.read': team(),
  'stake.manage': team(),
  'wallet.manage': team(true),
  // Gift Fabric (migration 20261205001200)
  'gift.send': team(),
} as const satisfies Record<string, CapabilityDefinition>;

export type Capability = keyof typeof CAPABILITIES;

export const isCapability = (value: string): value is Capability => Object.hasOwn(CAPABILITIES, value);
