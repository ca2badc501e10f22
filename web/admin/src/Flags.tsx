// Feature flags for platform admins: each flag's kill switch and its rollout (the percentage of users a boolean
// flag is on for, bucketed so a user stays in as it grows), changed with PUT /api/flags/definitions/{key}.
// A change names the version it was made on: if someone changed the flag meanwhile, the console says so and
// reloads instead of overwriting their change. Other rules (environments, teams, users) are shown, and kept.
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { ColumnHeads, ErrorState, ResourceStates, useResource } from '../../shared/ui.tsx';

type Flags = Awaited<ReturnType<typeof loadFlags>>['items'];
type Flag = Flags[number];
type Rule = { percentage?: number; value: boolean | string; environments?: string[]; teams?: string[]; users?: string[] };

const loadFlags = (api: ApiClient) => expectOk(api.api.flags.definitions.$get());

/** The trailing rule that only holds a percentage: what "rollout" edits. */
const rolloutRule = (rules: Rule[]): Rule | undefined => {
  const last = rules.at(-1);
  return last && last.percentage !== undefined && !last.environments && !last.teams && !last.users ? last : undefined;
};

const describeRule = (rule: Rule) =>
  [
    rule.environments && `in ${rule.environments.join(', ')}`,
    rule.teams && `${rule.teams.length} team(s)`,
    rule.users && `${rule.users.length} user(s)`,
    rule.percentage !== undefined && `${rule.percentage} % of users`,
  ]
    .filter(Boolean)
    .join(', ') + ` → ${String(rule.value)}`;

export function Flags({ api }: { api: ApiClient }) {
  const [version, setVersion] = useState(0);
  const flags = useResource(() => loadFlags(api), [], version);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const save = async (flag: Flag, change: { enabled?: boolean; rollout?: number }) => {
    setBusy(flag.key);
    setError(null);
    const rules = [...(flag.rules as Rule[])];
    if (change.rollout !== undefined) {
      if (rolloutRule(rules)) rules.pop();
      rules.push({ percentage: change.rollout, value: true });
    }
    try {
      await expectOk(
        api.api.flags.definitions[':key'].$put({
          param: { key: flag.key },
          json: {
            flag: {
              description: flag.description,
              kind: flag.kind,
              enabled: change.enabled ?? flag.enabled,
              variants: flag.variants,
              default_value: flag.default_value,
              rules: rules as never,
            },
            expected_version: flag.version,
          },
        }),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
      setVersion((v) => v + 1);
    }
  };

  return (
    <section className="card wide" aria-labelledby="flags-heading">
      <h2 id="flags-heading">Feature flags</h2>
      <p className="hint">
        Changes reach every gateway and worker within seconds, and the web apps within a few more. Each one is audited.
      </p>
      {error !== null && <ErrorState title="The flag was not changed." error={error} />}
      <ResourceStates
        resource={flags}
        loading="Reading the flags…"
        failed="Could not read the flags."
        empty={{ when: (d) => d.items.length === 0, text: 'No flags yet.' }}
      />
      {flags.data && flags.data.items.length > 0 && (
        <table className="flags">
          <ColumnHeads names={['Flag', 'On', 'Rollout', 'Other rules', 'Default', 'Version']} />
          <tbody>
            {flags.data.items.map((flag) => (
              <FlagRow
                key={`${flag.key}@${flag.version}`}
                flag={flag}
                busy={busy === flag.key}
                onSave={(change) => void save(flag, change)}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FlagRow({ flag, busy, onSave }: { flag: Flag; busy: boolean; onSave: (change: { enabled?: boolean; rollout?: number }) => void }) {
  const rules = flag.rules as Rule[];
  const rollout = rolloutRule(rules);
  const [percentage, setPercentage] = useState(String(rollout?.percentage ?? 0));
  const others = rollout ? rules.slice(0, -1) : rules;
  const inputId = `rollout-${flag.key}`;
  return (
    <tr data-flag={flag.key}>
      <th scope="row">
        <code>{flag.key}</code>
        <br />
        <span className="hint">{flag.description}</span>
      </th>
      <td>
        <label>
          <input type="checkbox" checked={flag.enabled} disabled={busy} onChange={(event) => onSave({ enabled: event.target.checked })} />
          <span className="visually-hidden">{flag.key} on</span>
        </label>
      </td>
      <td>
        {flag.kind === 'boolean' ? (
          <form
            className="rollout"
            onSubmit={(event) => {
              event.preventDefault();
              onSave({ rollout: Number(percentage) });
            }}
          >
            <label htmlFor={inputId} className="visually-hidden">
              Rollout of {flag.key} in percent
            </label>
            <input
              id={inputId}
              type="number"
              min={0}
              max={100}
              step={1}
              required
              value={percentage}
              onChange={(event) => setPercentage(event.target.value)}
            />
            %{' '}
            <button type="submit" className="secondary" disabled={busy}>
              Set rollout
            </button>
          </form>
        ) : (
          <span className="hint">variants: {flag.variants.join(', ')}</span>
        )}
      </td>
      <td>{others.length ? others.map(describeRule).join('; ') : <span className="hint">none</span>}</td>
      <td>{String(flag.default_value)}</td>
      <td>{flag.version}</td>
    </tr>
  );
}
