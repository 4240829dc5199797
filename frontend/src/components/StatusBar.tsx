import { useEffect, useState } from 'preact/hooks';
import { Sync, onEvent, type SyncStatus } from '../api';
import { ago, pendingText, plural } from '../lib/format';
import { useNow } from '../lib/hooks';

/**
 * The connection, pending changes, last sync and catch-up progress: always visible while
 * signed in. Starts from Sync.Status(), then follows "sync" events.
 */
export function StatusBar({ onOpenInbox }: { onOpenInbox: () => void }) {
  const [st, setSt] = useState<SyncStatus | null>(null);
  const now = useNow(15_000);

  useEffect(() => {
    let evented = false;
    let alive = true;
    const off = onEvent('sync', (s) => {
      evented = true;
      setSt(s);
    });
    Sync.Status()
      .then((s) => {
        if (alive && !evented) setSt(s);
      })
      .catch(() => {});
    return () => {
      alive = false;
      off();
    };
  }, []);

  const online = !!st?.online;
  const pending = st?.pending ?? 0;
  const pct = Math.round(Math.min(1, Math.max(0, st?.progress ?? 0)) * 100);

  return (
    <footer class="statusbar" aria-label="Connection status">
      <span
        class={`status-online ${online ? 'is-online' : 'is-offline'}`}
        data-testid="status-online"
        data-online={String(online)}
      >
        <span class="dot" aria-hidden="true" />
        {st === null ? 'Checking connection…' : online ? 'Online' : 'Offline — working on this device'}
      </span>

      {st && !online && st.error && (
        <span class="status-error" title={st.error}>
          {st.error}
        </span>
      )}

      {st?.catchingUp && (
        <span class="status-catchup">
          <span
            class="progress"
            role="progressbar"
            aria-label="Catching up with the clinic"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            data-testid="catchup-progress"
          >
            <span class="progress-fill" style={{ width: `${pct}%` }} />
          </span>
          Catching up {pct}%
        </span>
      )}

      <span class="status-spacer" />

      {st && st.rejected > 0 && (
        <button type="button" class="link status-rejected" data-testid="status-rejected" onClick={onOpenInbox}>
          {plural(st.rejected, 'change', 'changes')} refused — review
        </button>
      )}

      <span
        class={`status-pending ${pending > 0 ? 'has-pending' : ''}`}
        data-testid="status-pending"
        data-pending={String(pending)}
      >
        {pendingText(pending)}
      </span>

      <span class="status-lastsync" data-testid="status-lastsync">
        {st?.lastSync ? `synced ${ago(st.lastSync, Math.max(now, st.lastSync))}` : 'not synced yet'}
      </span>
    </footer>
  );
}
