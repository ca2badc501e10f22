// The sign-in form of both apps: an email for the dev login (local/test builds), or an email then the
// one-time code Supabase Auth sends (cloud builds).
import { useState, type FormEvent } from 'react';
import type { Session, SessionStore } from './session.ts';
import { ErrorState, Field } from './ui.tsx';

export function SignIn({
  store,
  title,
  demoAccounts,
  onSignedIn,
}: {
  store: SessionStore;
  title: string;
  demoAccounts?: string;
  onSignedIn: (session: Session) => void;
}) {
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [codeSent, setCodeSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const attempt = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim();
    if (store.method === 'dev-login') return void attempt(async () => onSignedIn(await store.signInWithDevLogin(address)));
    if (!codeSent) return void attempt(async () => (await store.sendCode(address), setCodeSent(true)));
    return void attempt(async () => onSignedIn(await store.verifyCode(address, code.trim())));
  };

  const buttonLabel = store.method === 'dev-login' ? 'Sign in' : codeSent ? 'Verify code' : 'Email me a code';
  return (
    <main id="main" className="sign-in card">
      <h1>{title}</h1>
      <form onSubmit={submit} aria-describedby="sign-in-help" noValidate={false}>
        <p id="sign-in-help" className="hint">
          {store.method === 'dev-login'
            ? `Local dev login: no password; the gateway mints a token for this address.${demoAccounts ? ` Demo accounts: ${demoAccounts}.` : ''}`
            : codeSent
              ? `We sent a code to ${email}. It expires in a few minutes.`
              : 'We will email you a one-time code.'}
        </p>
        <Field label="Email">
          {({ id, describedBy }) => (
            <input
              id={id}
              type="email"
              autoComplete="email"
              required
              autoFocus
              value={email}
              aria-describedby={describedBy}
              readOnly={codeSent}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        {codeSent && (
          <Field label="One-time code">
            {({ id }) => (
              <input
                id={id}
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            )}
          </Field>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Working…' : buttonLabel}
        </button>
        {codeSent && (
          <button type="button" className="link" onClick={() => (setCodeSent(false), setCode(''))}>
            Use another email
          </button>
        )}
      </form>
      {error !== null && <ErrorState title="Could not sign in." error={error} />}
    </main>
  );
}
