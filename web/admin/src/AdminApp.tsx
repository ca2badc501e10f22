// The admin console. Overview: platform admins only (the gateway checks platform.admin on every call; the
// console only says early that an account is not one). Access keys: anyone who manages a team's keys. Feature
// flags: platform admins (flag.manage).
import { useEffect, useMemo, useState } from 'react';
import { createApiClient } from '../../shared/api.ts';
import { createSessionStore, type Session, type SessionStore } from '../../shared/session.ts';
import { SignIn } from '../../shared/SignIn.tsx';
import { ErrorState, LoadingState, SignedInAs } from '../../shared/ui.tsx';
import { AccessKeys } from './AccessKeys.tsx';
import { Flags } from './Flags.tsx';
import { AgentRuns } from './AgentRuns.tsx';
import { Embassy } from './Embassy.tsx';
import { Overview } from './Overview.tsx';
import { Payouts } from './Payouts.tsx';

/** The console's sections, by URL hash; a domain's admin page joins this list. */
const SECTIONS = [
  { id: 'overview', label: 'Overview' },
  { id: 'keys', label: 'Access keys' },
  { id: 'flags', label: 'Feature flags' },
  { id: 'runs', label: 'Agent runs' },
  { id: 'embassy', label: 'Embassy' },
  { id: 'payouts', label: 'Payouts' },
] as const;
type SectionId = (typeof SECTIONS)[number]['id'];

const sectionOf = (hash: string): SectionId => SECTIONS.find((section) => `#${section.id}` === hash)?.id ?? 'overview';

function useSection(): SectionId {
  const [section, setSection] = useState(() => sectionOf(window.location.hash));
  useEffect(() => {
    const follow = () => setSection(sectionOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return section;
}

export function AdminApp() {
  const [store, setStore] = useState<SessionStore | null>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [session, setSession] = useState<Session | null>(null);
  const section = useSection();

  useEffect(() => {
    createSessionStore('admin').then((created) => {
      setStore(created);
      setSession(created.current());
      created.subscribe(setSession);
    }, setStartError);
  }, []);
  const api = useMemo(() => (store ? createApiClient(() => store.accessToken()) : null), [store]);

  if (startError) return <ErrorState title="The console could not start." error={startError} />;
  if (!store || !api) return <LoadingState label="Starting…" />;
  if (!session) return <SignIn store={store} title="MicroDAO admin console" demoAccounts="ops@demo.local" onSignedIn={setSession} />;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <h1>MicroDAO admin console</h1>
        <nav aria-label="Console sections">
          <ul className="section-nav">
            {SECTIONS.map((item) => (
              <li key={item.id}>
                <a href={`#${item.id}`} aria-current={item.id === section ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <SignedInAs email={session.email} onSignOut={() => void store.signOut()} />
      </header>
      <main id="main" tabIndex={-1} className="console">
        {section === 'keys' ? (
          <AccessKeys api={api} />
        ) : section === 'runs' ? (
          <AgentRuns api={api} />
        ) : session.isPlatformAdmin ? (
          section === 'flags' ? (
            <Flags api={api} />
          ) : section === 'embassy' ? (
            <Embassy api={api} />
          ) : section === 'payouts' ? (
            <Payouts api={api} />
          ) : (
            <Overview api={api} />
          )
        ) : (
          <div className="state error" role="alert">
            <p>
              <strong>{session.email} is not a platform admin.</strong> Ask an operator to set <code>app_metadata.platform_admin</code> on
              your account, then sign in again.
            </p>
          </div>
        )}
      </main>
    </>
  );
}
