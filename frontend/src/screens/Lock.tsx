import { useState } from 'preact/hooks';
import { Session, type SessionState } from '../api';
import { ErrorBanner } from '../components/ErrorBanner';
import { LockIcon } from '../components/Icons';
import { errorText } from '../lib/format';

/** The screen after inactivity: nothing of the patients shows until the token is entered. */
export function LockScreen({ session, onUnlocked }: {
  session: SessionState;
  onUnlocked: (s: SessionState) => void;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const s = await Session.Unlock(token);
      setToken('');
      onUnlocked(s);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" data-testid="lock-screen">
      <form
        class="auth-card"
        aria-labelledby="lock-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div class="auth-brand auth-lock">
          <LockIcon size={36} />
        </div>
        <h1 id="lock-title">Locked</h1>
        <p class="subtitle">
          Signed in as <strong>{session.name || session.user}</strong>. The screen locked to keep patients’ data
          private; enter your enrollment token to go on.
        </p>
        <label class="field">
          <span>Enrollment token</span>
          <input
            type="password"
            data-testid="lock-token"
            value={token}
            autoComplete="off"
            autoFocus
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <ErrorBanner message={error} />
        <button type="submit" class="primary wide" data-testid="lock-submit" disabled={busy || !token}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </form>
    </main>
  );
}
