import { useEffect, useRef, useState } from 'preact/hooks';
import { Inbox, type NoteConflict, type NoteVersion } from '../api';
import { Badge } from '../components/Badge';
import { ErrorBanner } from '../components/ErrorBanner';
import { dateTime, errorText, plural } from '../lib/format';
import { useChanged, useEvent, useLoader } from '../lib/hooks';
import type { Navigate } from '../route';

/** The merged text a clinician starts from: both versions, current first. */
export function joined(c: NoteConflict): string {
  const a = c.current?.body ?? '';
  const b = c.other?.body ?? '';
  if (!a) return b;
  if (!b || a === b) return a;
  return `${a}\n\n${b}`;
}

/**
 * Visit notes edited on two devices at once, both versions side by side until a clinician
 * keeps one or saves a merge, and local changes the clinic's rules refused.
 */
export function InboxScreen({ navigate }: { navigate: Navigate }) {
  const { data: view, error, load } = useLoader(() => Inbox.View());
  const rejected = useRef<number | null>(null);

  useEffect(() => {
    void load();
  }, []);
  useChanged(['visit_notes', 'visits', 'patients'], () => void load());
  // Refused changes arrive with the sync status, not as data changes.
  useEvent('sync', (s) => {
    if (rejected.current !== null && rejected.current !== s.rejected) void load();
    rejected.current = s.rejected;
  });

  const conflicts = view?.conflicts ?? [];
  const refused = view?.refused ?? [];

  return (
    <div class="screen" data-testid="inbox-screen">
      <header class="screen-head">
        <div>
          <h1>Conflict inbox</h1>
          <p class="subtitle">
            Nothing written is lost: when a note was edited on two devices at once, both versions wait here until
            you choose.
          </p>
        </div>
      </header>
      <ErrorBanner message={error} />
      {!view && !error && <p class="loading">Loading…</p>}

      {view && (
        <section aria-labelledby="conflicts-title">
          <h2 id="conflicts-title" class="section-title">
            Note conflicts {conflicts.length > 0 && <Badge tone="warn">{conflicts.length}</Badge>}
          </h2>
          {conflicts.length === 0 && <p class="empty">No conflicting notes.</p>}
          {conflicts.map((c) => (
            <ConflictCard key={c.note} c={c} navigate={navigate} onResolved={() => void load()} />
          ))}
        </section>
      )}

      {view && (
        <section aria-labelledby="refused-title">
          <h2 id="refused-title" class="section-title">
            Refused by the clinic’s rules
          </h2>
          {refused.length === 0 ? (
            <p class="empty">No refused changes.</p>
          ) : (
            <>
              <p class="subtitle">
                The server refused these changes made on this device; they were not applied. Redo them properly if they
                are still needed.
              </p>
              <div class="table-wrap">
                <table class="refused">
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Table</th>
                      <th scope="col">Code</th>
                      <th scope="col">Message</th>
                    </tr>
                  </thead>
                  <tbody>
                    {refused.map((r, i) => (
                      <tr key={`${r.table}/${r.row}/${r.at}/${i}`} data-testid="refused-change">
                        <td class="nowrap">{dateTime(r.at)}</td>
                        <td>
                          {r.table}
                          <div class="code" title="Row id">
                            {r.row}
                          </div>
                        </td>
                        <td>
                          <code>{r.code}</code>
                        </td>
                        <td>{r.message}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </section>
      )}
    </div>
  );
}

function Version({ v, side, title, testid }: { v: NoteVersion; side: string; title: string; testid: string }) {
  return (
    <div class="version" data-testid={testid}>
      <div class="version-head">
        <span class="version-side">{side}</span>
        <strong>{title}</strong>
        {v.here && <Badge tone="accent">this device</Badge>}
      </div>
      <div class="muted version-meta">
        {v.authorName || v.author || 'author not recorded'} · {dateTime(v.at)}
      </div>
      <div class="version-body pre">{v.body || <span class="muted">(empty)</span>}</div>
    </div>
  );
}

function ConflictCard({ c, navigate, onResolved }: { c: NoteConflict; navigate: Navigate; onResolved: () => void }) {
  const [merged, setMerged] = useState(() => joined(c));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const resolve = async (body: string) => {
    setBusy(true);
    setError('');
    try {
      await Inbox.Resolve(c.note, body);
      onResolved();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="card conflict" data-testid={`conflict-${c.note}`}>
      <header class="conflict-head">
        <h3>{c.name || 'Unknown patient'}</h3>
        {c.versions > 1 && (
          <span class="muted">{plural(c.versions, 'other version', 'other versions')}; the newest is shown</span>
        )}
        {c.patient && (
          <button type="button" class="link" onClick={() => navigate({ name: 'chart', patient: c.patient })}>
            Open chart
          </button>
        )}
      </header>
      <div class="versions">
        <Version v={c.current} side="Left" title="Shown now" testid="conflict-current" />
        <Version v={c.other} side="Right" title="Other version" testid="conflict-other" />
      </div>
      <div class="row-split">
        <button
          type="button"
          data-testid={`resolve-keep-current-${c.note}`}
          disabled={busy}
          onClick={() => void resolve(c.current.body)}
        >
          Keep left
        </button>
        <button
          type="button"
          data-testid={`resolve-keep-other-${c.note}`}
          disabled={busy}
          onClick={() => void resolve(c.other.body)}
        >
          Keep right
        </button>
      </div>
      <label class="field">
        <span>Or merge them</span>
        <textarea
          class="merge-text"
          data-testid={`merged-${c.note}`}
          value={merged}
          onInput={(e) => setMerged(e.currentTarget.value)}
        />
      </label>
      <ErrorBanner message={error} />
      <div class="row-end">
        <button
          type="button"
          class="primary"
          data-testid={`resolve-merged-${c.note}`}
          disabled={busy}
          onClick={() => void resolve(merged)}
        >
          Save merged
        </button>
      </div>
    </article>
  );
}
