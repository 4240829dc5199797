import { useEffect, useState } from 'preact/hooks';
import { Session, type SessionState } from '../api';
import { ErrorBanner } from '../components/ErrorBanner';
import { Fact } from '../components/Fact';
import { errorText, roleLabel } from '../lib/format';

/** Go refuses a sign-out that would strand unsynced changes with this message. */
export function isPendingChanges(message: string): boolean {
  return /not reached the server|sign out anyway/i.test(message);
}

/**
 * The server, clinic and lock delay; who is signed in; signing out (with "Sign out anyway"
 * when changes are not yet synced) and locking now.
 */
export function SettingsScreen({ session, onSession }: {
  session: SessionState;
  onSession: (s: SessionState) => void;
}) {
  const [server, setServer] = useState('');
  const [clinic, setClinic] = useState('');
  const [minutes, setMinutes] = useState('');
  const [loaded, setLoaded] = useState(false);
  const [saveError, setSaveError] = useState('');
  const [savedNote, setSavedNote] = useState('');
  const [saving, setSaving] = useState(false);
  const [outError, setOutError] = useState('');
  const [pending, setPending] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Session.Settings()
      .then((s) => {
        setServer(s.server);
        setClinic(s.clinic);
        setMinutes(String(Math.round(s.lockAfterSec / 60)));
        setLoaded(true);
      })
      .catch((e) => setSaveError(errorText(e)));
  }, []);

  const save = async () => {
    const m = Number(minutes.trim());
    if (!minutes.trim() || !Number.isFinite(m)) {
      setSaveError('Lock after must be a number of minutes.');
      return;
    }
    setSaving(true);
    setSaveError('');
    setSavedNote('');
    try {
      const s = await Session.SaveSettings({ server, clinic, lockAfterSec: Math.round(m * 60) });
      setServer(s.server);
      setClinic(s.clinic);
      setMinutes(String(Math.round(s.lockAfterSec / 60)));
      setSavedNote('Saved. A new server or clinic applies at the next sign-in.');
    } catch (e) {
      setSaveError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const signOut = async (force: boolean) => {
    setBusy(true);
    setOutError('');
    try {
      const s = await Session.SignOut(force);
      setPending(false);
      onSession(s);
    } catch (e) {
      const msg = errorText(e);
      setOutError(msg);
      setPending(!force && isPendingChanges(msg));
    } finally {
      setBusy(false);
    }
  };

  const lock = async () => {
    try {
      onSession(await Session.Lock());
    } catch (e) {
      setOutError(errorText(e));
    }
  };

  return (
    <div class="screen narrow-screen" data-testid="settings-screen">
      <header class="screen-head">
        <h1>Settings</h1>
      </header>

      <section class="card" aria-labelledby="account-title">
        <h2 id="account-title">Signed in</h2>
        <dl class="facts">
          <Fact label="Name">{session.name || session.user}</Fact>
          <Fact label="User">{session.user}</Fact>
          <Fact label="Role">{roleLabel(session.role)}</Fact>
          <Fact label="Clinic">{session.clinic}</Fact>
          <Fact label="Server">{session.server}</Fact>
        </dl>
        <ErrorBanner message={outError}>
          {pending && (
            <button type="button" class="danger" data-testid="signout-force" disabled={busy} onClick={() => void signOut(true)}>
              Sign out anyway
            </button>
          )}
        </ErrorBanner>
        <div class="row-end">
          <button type="button" data-testid="lock-now" onClick={() => void lock()}>
            Lock now
          </button>
          <button type="button" data-testid="signout" disabled={busy} onClick={() => void signOut(false)}>
            {busy ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </section>

      <form
        class="card"
        aria-labelledby="settings-title"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <h2 id="settings-title">This device</h2>
        <label class="field">
          <span>Sync server</span>
          <input
            data-testid="settings-server"
            value={server}
            disabled={!loaded}
            onInput={(e) => setServer(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Clinic id</span>
          <input
            data-testid="settings-clinic"
            value={clinic}
            disabled={!loaded}
            onInput={(e) => setClinic(e.currentTarget.value)}
          />
        </label>
        <label class="field field-short">
          <span>Lock the screen after (minutes idle)</span>
          <input
            data-testid="settings-lock-after"
            inputMode="numeric"
            value={minutes}
            disabled={!loaded}
            onInput={(e) => setMinutes(e.currentTarget.value)}
          />
        </label>
        <p class="hint">Between 1 and 60 minutes. The server and clinic apply at the next sign-in.</p>
        <ErrorBanner message={saveError} />
        {savedNote && (
          <p class="ok-text" role="status">
            {savedNote}
          </p>
        )}
        <div class="row-end">
          <button type="submit" class="primary" data-testid="settings-save" disabled={!loaded || saving}>
            {saving ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
    </div>
  );
}
