import { useEffect, useState } from 'preact/hooks';
import { Queue, type QueuePatient, type QueueView, type RegionQueue } from '../api';
import { Badge, ModeBadge } from '../components/Badge';
import { ErrorBanner } from '../components/ErrorBanner';
import { age, ago, duration, errorText, estimate, plural } from '../lib/format';
import { useChanged, useInterval, useLoader, useNow, useOnlineChange } from '../lib/hooks';
import type { Navigate } from '../route';

/** The tables whose changes alter the queue. */
// chat_reads: messages read on this device (Go's ReadsTable), for the unread badges.
const QUEUE_TABLES = ['visits', 'patients', 'staff', 'regions', 'chat_messages', 'chat_reads'];

/** Refetch (estimates) and re-render (waited times) this often. */
const TICK_MS = 30_000;

/**
 * The waiting patients of the caregiver's regions, the provider's own visits, claiming and
 * the on-shift toggle.
 */
export function QueueScreen({ role, navigate }: { role: string; navigate: Navigate }) {
  const { data: view, error, load } = useLoader(() => Queue.View());
  const [actionError, setActionError] = useState('');
  const [claiming, setClaiming] = useState('');
  const [shiftBusy, setShiftBusy] = useState(false);
  const now = useNow(TICK_MS);
  const provider = role === 'provider';

  useEffect(() => {
    void load();
  }, []);
  useInterval(() => void load(), TICK_MS);
  useChanged(QUEUE_TABLES, () => void load());
  useOnlineChange(() => void load());

  const claim = async (visit: string) => {
    setClaiming(visit);
    setActionError('');
    try {
      const opened = await Queue.Claim(visit);
      navigate({ name: 'visit', visit: opened || visit });
    } catch (e) {
      setActionError(errorText(e));
      setClaiming('');
      void load();
    }
  };

  const toggleShift = async () => {
    if (!view) return;
    setShiftBusy(true);
    setActionError('');
    try {
      await Queue.SetOnShift(!view.onShift);
      await load();
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setShiftBusy(false);
    }
  };

  const waiting = view?.regions.reduce((n, r) => n + (r.patients?.length ?? 0), 0) ?? 0;

  return (
    <div class="screen" data-testid="queue-screen">
      <header class="screen-head">
        <div>
          <h1>Queue</h1>
          {view && <p class="subtitle">{waiting === 0 ? 'No one is waiting' : `${plural(waiting, 'patient', 'patients')} waiting`}</p>}
        </div>
        {view && (
          <button
            type="button"
            role="switch"
            aria-checked={view.onShift}
            class={`switch ${view.onShift ? 'on' : ''}`}
            data-testid="onshift-toggle"
            disabled={shiftBusy}
            onClick={() => void toggleShift()}
          >
            <span class="switch-track" aria-hidden="true">
              <span class="switch-knob" />
            </span>
            {view.onShift ? 'On shift' : 'Off shift'}
          </button>
        )}
      </header>

      <ErrorBanner message={error} />
      <ErrorBanner message={actionError} />

      {view && provider && !view.canClaim && view.claimBlocked && (
        <div class="banner banner-warn" role="status" data-testid="claim-blocked">
          <span class="banner-text">{view.claimBlocked}</span>
        </div>
      )}

      {!view && !error && <p class="loading">Loading the queue…</p>}

      {view && (view.mine?.length ?? 0) > 0 && (
        <section class="card my-visits" aria-labelledby="mine-title">
          <h2 id="mine-title">My visits</h2>
          <ul class="mine-list">
            {view.mine.map((v) => (
              <li key={v.visit}>
                <button
                  type="button"
                  class="link strong"
                  data-testid={`my-visit-${v.visit}`}
                  onClick={() => navigate({ name: 'visit', visit: v.visit })}
                >
                  {v.name || 'Unnamed patient'}
                </button>
                <span class="muted">
                  {v.region} · {v.reason || 'no reason given'}
                  {v.started > 0 && ` · started ${ago(v.started, Math.max(now, v.started))}`}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {view && view.regions.length === 0 && (
        <p class="empty">No regions to show: you are not licensed in any region yet, or the clinic’s data has not synced.</p>
      )}

      {view?.regions.map((r) => (
        <RegionSection
          key={r.code}
          region={r}
          view={view}
          provider={provider}
          now={now}
          claiming={claiming}
          onClaim={(visit) => void claim(visit)}
        />
      ))}
    </div>
  );
}

function RegionSection({ region: r, view, provider, now, claiming, onClaim }: {
  region: RegionQueue;
  view: QueueView;
  provider: boolean;
  now: number;
  claiming: string;
  onClaim: (visit: string) => void;
}) {
  const patients = r.patients ?? [];
  return (
    <section class="card region" data-testid={`queue-region-${r.code}`} aria-labelledby={`region-${r.code}`}>
      <header class="region-head">
        <h2 id={`region-${r.code}`}>
          {r.name || r.code} <span class="code">{r.code}</span>
        </h2>
        <ModeBadge mode={r.mode} />
        {!r.open && (
          <Badge tone="muted" title="Outside this region’s opening hours">
            closed
          </Badge>
        )}
        <span class="region-meta">
          <span class={r.licensed === 0 ? 'warn-text' : ''}>
            {plural(r.licensed, 'licensed provider', 'licensed providers')} on shift
          </span>
          <span>· {plural(patients.length, 'waiting', 'waiting')}</span>
        </span>
      </header>
      {patients.length === 0 ? (
        <p class="empty">No one is waiting.</p>
      ) : (
        <ol class="patients">
          {patients.map((p) => (
            <PatientRow
              key={p.visit}
              p={p}
              view={view}
              provider={provider}
              now={now}
              claiming={claiming}
              onClaim={onClaim}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

function PatientRow({ p, view, provider, now, claiming, onClaim }: {
  p: QueuePatient;
  view: QueueView;
  provider: boolean;
  now: number;
  claiming: string;
  onClaim: (visit: string) => void;
}) {
  const years = age(p.birthDate, now);
  const known = p.estimateMs >= 0;
  return (
    <li class="patient-row" data-testid={`queue-patient-${p.visit}`}>
      <span class="pos" title="Place in the queue">
        {p.position > 0 ? p.position : '–'}
      </span>
      <div class="who">
        <div>
          <strong>{p.name || 'Unnamed patient'}</strong>
          {years && <span class="muted"> · {years}</span>}
          {p.unread > 0 && (
            <Badge tone="accent" title="Chat messages from the patient not yet read">
              {p.unread} unread
            </Badge>
          )}
        </div>
        <div class="reason">{p.reason || 'No reason given'}</div>
      </div>
      <div class="stat">
        <span class="stat-label">Waiting</span>
        <span class="stat-value">{p.since ? duration(Math.max(0, now - p.since)) : '—'}</span>
      </div>
      <div class="stat">
        <span class="stat-label">Estimate</span>
        <span class={`stat-value ${known ? '' : 'muted'}`}>{estimate(p.estimateMs)}</span>
        {p.notice && <span class="stat-notice">{p.notice}</span>}
      </div>
      {provider && (
        <button
          type="button"
          class="primary"
          data-testid={`claim-${p.visit}`}
          disabled={!view.canClaim || claiming !== ''}
          title={view.canClaim ? 'Take this patient into a visit' : view.claimBlocked}
          onClick={() => onClaim(p.visit)}
        >
          {claiming === p.visit ? 'Claiming…' : 'Claim'}
        </button>
      )}
    </li>
  );
}
