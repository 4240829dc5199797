import { useState } from 'preact/hooks';
import { Session, type SessionState } from '../api';
import { ErrorBanner } from '../components/ErrorBanner';
import { Logo } from '../components/Icons';
import { errorText } from '../lib/format';

/**
 * Signing the device in with an enrollment token. The server and clinic start from the
 * saved settings (Session.State()); Go's refusal is shown as it says it.
 */
export function SignInScreen({ initial, onSignedIn }: {
  initial: SessionState;
  onSignedIn: (s: SessionState) => void;
}) {
  const [server, setServer] = useState(initial.server ?? '');
  const [clinic, setClinic] = useState(initial.clinic ?? '');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const s = await Session.SignIn(server.trim(), clinic.trim(), token.trim());
      setToken('');
      onSignedIn(s);
    } catch (e) {
      setError(errorText(e) || 'Signing in failed.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page">
      <form
        class="auth-card"
        aria-labelledby="signin-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div class="auth-brand">
          <Logo size={40} />
        </div>
        <h1 id="signin-title">Sign in to Hearth</h1>
        <p class="subtitle">Use the enrollment token your clinic’s administrator gave you. You need the network once; after that Hearth works offline.</p>
        <ErrorBanner message={initial.problem ?? ''} testid="startup-problem" />
        <label class="field">
          <span>Server address</span>
          <input
            data-testid="signin-server"
            value={server}
            autoComplete="url"
            placeholder="http://127.0.0.1:8686"
            onInput={(e) => setServer(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Clinic id</span>
          <input data-testid="signin-clinic" value={clinic} onInput={(e) => setClinic(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Enrollment token</span>
          <input
            type="password"
            data-testid="signin-token"
            value={token}
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <ErrorBanner message={error} testid="signin-error" />
        <button type="submit" class="primary wide" data-testid="signin-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
