// Access keys of the teams where the signed-in person holds key.manage: list, create (the key is shown once, to
// copy into the agent's or integration's secret store), rotate (a new key; the old one works on for an overlap)
// and revoke (refused everywhere within seconds). The gateway checks key.manage on every call; the page only
// offers the teams where it will succeed.
import { useId, useState, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { describeError } from '../../shared/api-errors.ts';
import { ColumnHeads, EmptyState, ErrorState, Field, LoadingState, ResourceStates, useResource } from '../../shared/ui.tsx';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (value: string | null) => (value ? dateFormat.format(new Date(value)) : '—');

interface ShownKey {
  key: string;
  name: string;
  why: 'created' | 'rotated';
}

export function AccessKeys({ api }: { api: ApiClient }) {
  const me = useResource(() => expectOk(api.api.me.$get()), []);
  const teams = useResource(() => expectOk(api.api.teams.$get()), []);
  const [teamId, setTeamId] = useState<string | null>(null);
  const manageable = (me.data?.teams ?? []).filter((team) => team.capabilities.includes('key.manage'));
  const names = new Map((teams.data?.items ?? []).map((team) => [team.id, team.name]));
  const selected = teamId ?? manageable[0]?.team_id ?? null;

  return (
    <section id="keys" aria-labelledby="keys-heading">
      <div className="toolbar">
        <h2 id="keys-heading">Access keys</h2>
        {manageable.length > 1 && (
          <label>
            Team{' '}
            <select value={selected ?? ''} onChange={(event) => setTeamId(event.target.value)}>
              {manageable.map((team) => (
                <option key={team.team_id} value={team.team_id}>
                  {names.get(team.team_id) ?? team.team_id}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {me.status === 'error' && <ErrorState title="Could not read your capabilities." error={me.error} onRetry={me.reload} />}
      {me.status === 'loading' && <LoadingState label="Reading your teams…" />}
      {me.data && manageable.length === 0 && (
        <EmptyState>You manage the keys of no team: a team owner or admin holds key.manage and can create them.</EmptyState>
      )}
      {selected && <TeamKeys key={selected} api={api} teamId={selected} teamName={names.get(selected) ?? 'this team'} />}
    </section>
  );
}

function TeamKeys({ api, teamId, teamName }: { api: ApiClient; teamId: string; teamName: string }) {
  const [version, setVersion] = useState(0);
  const keys = useResource(() => expectOk(api.api.teams[':teamId'].keys.$get({ param: { teamId } })), [teamId], version);
  const bundles = useResource(() => expectOk(api.api.bundles.$get()), []);
  const [shown, setShown] = useState<ShownKey | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const refresh = () => setVersion((v) => v + 1);

  const rotate = async (keyId: string, name: string) => {
    setActionError(null);
    try {
      const rotated = await expectOk(
        api.api.teams[':teamId'].keys[':keyId'].rotate.$post({
          param: { teamId, keyId },
          json: { expires_in_days: 90, overlap_seconds: 86_400 },
        }),
      );
      setShown({ key: rotated.key, name, why: 'rotated' });
      refresh();
    } catch (error) {
      setActionError(error);
    }
  };
  const revoke = async (keyId: string, name: string) => {
    if (!window.confirm(`Revoke “${name}”? Whatever uses it stops working within seconds.`)) return;
    setActionError(null);
    try {
      await expectOk(api.api.teams[':teamId'].keys[':keyId'].revoke.$post({ param: { teamId, keyId } }));
      refresh();
    } catch (error) {
      setActionError(error);
    }
  };

  return (
    <div className="panels">
      <section className="card" aria-labelledby="new-key-heading">
        <h3 id="new-key-heading">New key for {teamName}</h3>
        <NewKeyForm
          api={api}
          teamId={teamId}
          keyBundles={(bundles.data?.items ?? []).filter((bundle) => bundle.granted_to === 'key')}
          onCreated={(key, name) => (setShown({ key, name, why: 'created' }), refresh())}
        />
      </section>
      {shown && (
        <section className="card shown-key" aria-labelledby="shown-key-heading" role="region">
          <h3 id="shown-key-heading">Copy the key now: it is shown once</h3>
          <p>
            The key “{shown.name}” was {shown.why}. Store it in the agent’s or integration’s secret store; nobody can show it again.
          </p>
          <label htmlFor="shown-key-value">Key</label>
          <input id="shown-key-value" readOnly value={shown.key} onFocus={(event) => event.target.select()} />
          <button type="button" className="secondary" onClick={() => setShown(null)}>
            I have stored it
          </button>
        </section>
      )}
      <section className="card wide" aria-labelledby="keys-list-heading">
        <h3 id="keys-list-heading">Keys of {teamName}</h3>
        {actionError !== null && <ErrorState title="That did not work." error={actionError} />}
        <ResourceStates
          resource={keys}
          loading="Listing the keys…"
          failed="Could not list the keys."
          empty={{ when: (d) => d.items.length === 0, text: 'No keys yet.' }}
        />
        {keys.data && keys.data.items.length > 0 && (
          <table>
            <ColumnHeads names={['Name', 'For', 'Bundle', 'Starts with', 'Expires', 'Last used', 'State', 'Actions']} />
            <tbody>
              {keys.data.items.map((key) => {
                const live = !key.revoked_at && new Date(key.expires_at).getTime() > Date.now();
                return (
                  <tr key={key.id} data-key-id={key.id}>
                    <th scope="row">{key.name}</th>
                    <td>
                      {key.principal.name} ({key.principal.kind})
                    </td>
                    <td>{key.bundle}</td>
                    <td>
                      <code>{key.display_prefix}…</code>
                    </td>
                    <td>{when(key.expires_at)}</td>
                    <td>{when(key.last_used_at)}</td>
                    <td>
                      <span className={`badge ${live ? 'ok' : 'down'}`}>{key.revoked_at ? 'revoked' : live ? 'live' : 'expired'}</span>
                    </td>
                    <td className="actions">
                      {live && (
                        <>
                          <button type="button" className="secondary" onClick={() => void rotate(key.id, key.name)}>
                            Rotate<span className="visually-hidden"> {key.name}</span>
                          </button>
                          <button type="button" className="danger" onClick={() => void revoke(key.id, key.name)}>
                            Revoke<span className="visually-hidden"> {key.name}</span>
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function NewKeyForm(props: {
  api: ApiClient;
  teamId: string;
  keyBundles: { name: string; description: string }[];
  onCreated: (key: string, name: string) => void;
}) {
  const formId = useId();
  const [name, setName] = useState('');
  const [principalName, setPrincipalName] = useState('');
  const [kind, setKind] = useState<'agent' | 'integration'>('agent');
  const [bundle, setBundle] = useState('agent');
  const [days, setDays] = useState('90');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await expectOk(
        props.api.api.teams[':teamId'].keys.$post({
          param: { teamId: props.teamId },
          json: { name, bundle, expires_in_days: Number(days), principal: { kind, name: principalName || name } },
        }),
      );
      props.onCreated(created.key, name);
      setName('');
      setPrincipalName('');
    } catch (caught) {
      setError(describeError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form aria-labelledby={`${formId}-title`} onSubmit={(event) => void submit(event)}>
      <span id={`${formId}-title`} className="visually-hidden">
        Create an access key
      </span>
      <Field label="Key name" hint="Where it is used, e.g. summarizer worker">
        {(control) => (
          <input
            id={control.id}
            aria-describedby={control.describedBy}
            required
            maxLength={80}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      <Field label="Agent or integration name" hint="A new one is created under this name (default: the key name)">
        {(control) => (
          <input
            id={control.id}
            aria-describedby={control.describedBy}
            maxLength={80}
            value={principalName}
            onChange={(e) => setPrincipalName(e.target.value)}
          />
        )}
      </Field>
      <Field label="Kind">
        {(control) => (
          <select id={control.id} value={kind} onChange={(e) => setKind(e.target.value as 'agent' | 'integration')}>
            <option value="agent">agent</option>
            <option value="integration">integration</option>
          </select>
        )}
      </Field>
      <Field label="Bundle" hint={props.keyBundles.find((b) => b.name === bundle)?.description}>
        {(control) => (
          <select id={control.id} aria-describedby={control.describedBy} value={bundle} onChange={(e) => setBundle(e.target.value)}>
            {props.keyBundles.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Expires in (days)" hint="1 to 365" error={error}>
        {(control) => (
          <input
            id={control.id}
            aria-describedby={control.describedBy}
            aria-invalid={control.invalid}
            type="number"
            min={1}
            max={365}
            required
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        )}
      </Field>
      <button type="submit" disabled={busy}>
        Create key
      </button>
    </form>
  );
}
