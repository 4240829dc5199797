import { useEffect, useRef, useState } from 'preact/hooks';
import { Visits, type Note, type VisitView } from '../api';
import { StatusBadge } from '../components/Badge';
import { ChatPanel } from '../components/ChatPanel';
import { ErrorBanner } from '../components/ErrorBanner';
import { Fact } from '../components/Fact';
import { VideoIcon } from '../components/Icons';
import { NoteEditor } from '../components/NoteEditor';
import { ObservationList } from '../components/Observations';
import { age, birthDate, errorText, kindLabel, patientName, when } from '../lib/format';
import { useChanged, useOnlineChange } from '../lib/hooks';
import type { Navigate } from '../route';

const emptyNote: Note = { id: '', author: '', authorName: '', body: '', updatedAt: 0, conflicts: 0 };

/**
 * One visit: the patient, the video area, chat, the caregiver's note and observations, and
 * ending or releasing it. Opened with Visits.Open (an audited read), refreshed with
 * Visits.View on "changed" events naming this visit. Give it key={visit}.
 */
export function VisitScreen({ visit, role, navigate }: { visit: string; role: string; navigate: Navigate }) {
  const [view, setView] = useState<VisitView | null>(null);
  const [error, setError] = useState('');
  const [actionError, setActionError] = useState('');
  const [busy, setBusy] = useState<'' | 'end' | 'release'>('');
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [endReason, setEndReason] = useState('');

  const opened = useRef(false);
  const opening = useRef(false);
  const stale = useRef(false); // a change arrived while opening
  const seq = useRef(0);
  const seen = useRef(new Set<string>()); // chat messages already on screen

  const markRead = () => {
    Visits.MarkRead(visit).catch(() => {});
  };

  const open = async () => {
    opening.current = true;
    const n = ++seq.current;
    try {
      const v = await Visits.Open(visit);
      if (n !== seq.current) return;
      opened.current = true;
      (v.chat ?? []).forEach((m) => seen.current.add(m.id));
      setView(v);
      setError('');
      markRead();
    } catch (e) {
      if (n === seq.current) setError(errorText(e));
    } finally {
      opening.current = false;
    }
    if (opened.current && stale.current) {
      stale.current = false;
      void refresh();
    }
  };

  const refresh = async () => {
    if (!opened.current) {
      if (opening.current) stale.current = true;
      else void open(); // opening failed (e.g. not synced yet): try again
      return;
    }
    const n = ++seq.current;
    try {
      const v = await Visits.View(visit);
      if (n !== seq.current) return;
      const fresh = (v.chat ?? []).some((m) => !m.mine && !seen.current.has(m.id));
      (v.chat ?? []).forEach((m) => seen.current.add(m.id));
      setView(v);
      setError('');
      if (fresh) markRead();
    } catch (e) {
      if (n === seq.current) setError(errorText(e));
    }
  };

  useEffect(() => {
    void open();
  }, []);
  useChanged(['patients'], () => void refresh(), () => [visit]);
  useOnlineChange(() => {
    if (opened.current) void refresh();
  });

  const end = async () => {
    setBusy('end');
    setActionError('');
    try {
      await Visits.End(visit, endReason.trim());
      setConfirmEnd(false);
      setEndReason('');
      await refresh();
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy('');
    }
  };

  const release = async () => {
    setBusy('release');
    setActionError('');
    try {
      await Visits.Release(visit);
      navigate({ name: 'queue' });
    } catch (e) {
      setActionError(errorText(e));
      setBusy('');
    }
  };

  if (!view) {
    return (
      <div class="screen" data-testid="visit-screen">
        <ErrorBanner message={error}>
          <button type="button" onClick={() => void open()}>
            Try again
          </button>
          <button type="button" onClick={() => navigate({ name: 'queue' })}>
            Back to the queue
          </button>
        </ErrorBanner>
        {!error && <p class="loading">Opening the visit…</p>}
      </div>
    );
  }

  const v = view.visit;
  const p = view.patient;
  const provider = role === 'provider';
  const showRelease = view.canRelease || !!view.releaseBlock;
  const years = age(p.birthDate);
  const ended = v.status === 'completed' || v.status === 'cancelled' || v.status === 'no_show';

  return (
    <div class="screen fill visit" data-testid="visit-screen">
      <header class="visit-head">
        <div class="visit-who">
          <h1>{patientName(p)}</h1>
          <dl class="facts">
            <Fact label="Born">
              {birthDate(p.birthDate)}
              {years && <span class="muted"> ({years})</span>}
            </Fact>
            <Fact label="Region">{v.region || '—'}</Fact>
            <Fact label="Reason">{v.reason || '—'}</Fact>
            <Fact label="Status">
              <StatusBadge status={v.status} />
              {v.startedAt > 0 && <span class="muted"> since {when(v.startedAt)}</span>}
            </Fact>
          </dl>
        </div>
        <div class="visit-actions">
          <button type="button" data-testid="open-chart" onClick={() => navigate({ name: 'chart', patient: p.id })}>
            Full chart
          </button>
          {showRelease && (
            <button
              type="button"
              data-testid="release-visit"
              disabled={!view.canRelease || busy !== ''}
              title={view.releaseBlock || 'Give the patient back to the queue, keeping their place'}
              onClick={() => void release()}
            >
              {busy === 'release' ? 'Returning…' : 'Return to queue'}
            </button>
          )}
          {view.canEnd && (
            <button
              type="button"
              class="danger"
              data-testid="end-visit"
              disabled={busy !== ''}
              onClick={() => setConfirmEnd(true)}
            >
              End visit
            </button>
          )}
        </div>
      </header>

      {view.releaseBlock && (
        <div class="banner banner-info" role="status" data-testid="release-blocked">
          <span class="banner-text">{view.releaseBlock}</span>
        </div>
      )}

      {confirmEnd && view.canEnd && (
        <form
          class="card confirm"
          aria-label="End the visit"
          onSubmit={(e) => {
            e.preventDefault();
            void end();
          }}
        >
          <p>
            <strong>End this visit?</strong> The patient leaves the queue and the visit is marked completed.
          </p>
          <label class="field">
            <span>Reason (optional)</span>
            <input
              data-testid="end-visit-reason"
              value={endReason}
              maxLength={500}
              placeholder="e.g. treated, referred to urgent care"
              onInput={(e) => setEndReason(e.currentTarget.value)}
            />
          </label>
          <div class="row-end">
            <button type="button" onClick={() => setConfirmEnd(false)}>
              Cancel
            </button>
            <button type="submit" class="danger" data-testid="end-visit-confirm" disabled={busy !== ''}>
              {busy === 'end' ? 'Ending…' : 'End visit'}
            </button>
          </div>
        </form>
      )}

      <ErrorBanner message={actionError} />
      <ErrorBanner message={error} />

      {ended && (
        <div class="banner banner-info" role="status">
          <span class="banner-text">
            This visit has ended{v.endedAt ? ` (${when(v.endedAt)})` : ''}
            {v.endReason ? `: ${v.endReason}` : '.'}
          </span>
          <button type="button" class="link" onClick={() => navigate({ name: 'queue' })}>
            Back to the queue
          </button>
        </div>
      )}

      <div class="visit-body">
        <div class="visit-main">
          <div class="video-placeholder" data-testid="video-placeholder">
            <VideoIcon />
            <span>Video call — arrives with video visits</span>
          </div>

          {provider ? (
            <NoteEditor
              key={visit}
              visit={visit}
              note={view.myNote ?? emptyNote}
              onOpenInbox={() => navigate({ name: 'inbox' })}
            />
          ) : (
            <section class="card">
              <h2>Notes</h2>
              {(v.notes ?? []).length === 0 && <p class="empty">No notes yet.</p>}
              {(v.notes ?? []).map((n) => (
                <div key={n.id} class="note-read">
                  <div class="muted">
                    {n.authorName || n.author} · {when(n.updatedAt)}
                  </div>
                  <div class="pre">{n.body}</div>
                </div>
              ))}
            </section>
          )}

          <section class="card" aria-labelledby="obs-title">
            <h2 id="obs-title">Observations</h2>
            <ObservationList items={v.observations ?? []} />
            {provider && <ObservationForm visit={visit} kinds={view.kinds ?? []} onAdded={() => void refresh()} />}
          </section>
        </div>

        <aside class="visit-side">
          <ChatPanel key={visit} visit={visit} messages={view.chat ?? []} onSent={() => void refresh()} />
        </aside>
      </div>
    </div>
  );
}

function ObservationForm({ visit, kinds, onAdded }: {
  visit: string;
  kinds: VisitView['kinds'];
  onAdded: () => void;
}) {
  const [kind, setKind] = useState(kinds[0]?.name ?? '');
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const selected = kinds.find((k) => k.name === kind);

  const add = async () => {
    const raw = value.trim().replace(',', '.');
    const n = Number(raw);
    if (!raw || !Number.isFinite(n)) {
      setError('Enter the value as a number.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await Visits.AddObservation(visit, kind, n);
      setValue('');
      onAdded();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="obs-form"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <label class="field">
        <span>Measurement</span>
        <select data-testid="obs-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          {kinds.map((k) => (
            <option key={k.name} value={k.name}>
              {kindLabel(k.name)} ({k.unit})
            </option>
          ))}
        </select>
      </label>
      <label class="field field-value">
        <span>Value</span>
        <span class="input-unit">
          <input
            data-testid="obs-value"
            inputMode="decimal"
            value={value}
            placeholder={selected ? `${selected.min}–${selected.max}` : ''}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <span class="unit">{selected?.unit}</span>
        </span>
      </label>
      <button type="submit" data-testid="obs-add" disabled={busy || !kind}>
        {busy ? 'Adding…' : 'Add'}
      </button>
      <ErrorBanner message={error} />
    </form>
  );
}
