// The city app: sign in, then the workspace of the signed-in user's teams.
import { useEffect, useMemo, useState } from 'react';
import { createApiClient } from '../../shared/api.ts';
import { createSessionStore, type Session, type SessionStore } from '../../shared/session.ts';
import { SignIn } from '../../shared/SignIn.tsx';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import { Workspace } from './Workspace.tsx';

export function CityApp() {
  const [store, setStore] = useState<SessionStore | null>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [session, setSession] = useState<Session | null>(null);

  useEffect(() => {
    createSessionStore('city').then((created) => {
      setStore(created);
      setSession(created.current());
      created.subscribe(setSession);
    }, setStartError);
  }, []);

  const api = useMemo(() => (store ? createApiClient(() => store.accessToken()) : null), [store]);

  if (startError) return <ErrorState title="The app could not start." error={startError} />;
  if (!store || !api) return <LoadingState label="Starting…" />;
  if (!session)
    return <SignIn store={store} title="Sign in to DAARION.city" demoAccounts="alice@demo.local, bob@demo.local" onSignedIn={setSession} />;
  return <Workspace api={api} store={store} session={session} />;
}
