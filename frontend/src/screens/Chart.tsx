import { useEffect, useRef, useState } from 'preact/hooks';
import { Charts, type ChartView, type PastVisit, type Patient } from '../api';
import { Badge, StatusBadge } from '../components/Badge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Fact } from '../components/Fact';
import { ObservationList } from '../components/Observations';
import { age, birthDate, dateTime, errorText, patientName, when } from '../lib/format';
import { useChanged } from '../lib/hooks';
import type { Navigate } from '../route';

const CHART_TABLES = ['patients', 'visits', 'visit_notes', 'observations'];
const SEARCH_DELAY_MS = 250;

/**
 * Patient search and a patient's chart: demographics and past visits, newest first. The
 * chart opens with Charts.Open (an audited read) and refreshes with Charts.View. Give it
 * key={patient}.
 */
export function ChartScreen({ patient, navigate }: { patient?: string; navigate: Navigate }) {
  return (
    <div class="screen" data-testid="chart-screen">
      <header class="screen-head">
        <h1>Charts</h1>
      </header>
      <PatientSearch navigate={navigate} />
      {patient ? (
        <Chart patient={patient} navigate={navigate} />
      ) : (
        <p class="empty">Search by family name (“Lovelace”, “Lovelace, Ada”) or birth date (YYYY-MM-DD).</p>
      )}
    </div>
  );
}

function PatientSearch({ navigate }: { navigate: Navigate }) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Patient[] | null>(null);
  const [error, setError] = useState('');
  const seq = useRef(0);

  useEffect(() => {
    const q = query.trim();
    if (q.length < 2) {
      seq.current++;
      setResults(null);
      setError('');
      return;
    }
    const t = setTimeout(async () => {
      const n = ++seq.current;
      try {
        const found = await Charts.Search(q);
        if (n === seq.current) {
          setResults(found ?? []);
          setError('');
        }
      } catch (e) {
        if (n === seq.current) setError(errorText(e));
      }
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [query]);

  return (
    <section class="search" role="search">
      <input
        type="search"
        class="search-input"
        data-testid="chart-search"
        aria-label="Find a patient"
        placeholder="Find a patient: family name, “family, given”, or birth date"
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
      />
      <ErrorBanner message={error} />
      {results && (
        <ul class="search-results" aria-label="Patients found">
          {results.length === 0 && <li class="empty">No patient matches “{query.trim()}”.</li>}
          {results.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                class="result"
                data-testid={`chart-result-${p.id}`}
                onClick={() => {
                  setQuery('');
                  navigate({ name: 'chart', patient: p.id });
                }}
              >
                <strong>{patientName(p)}</strong>
                <span class="muted">
                  born {birthDate(p.birthDate)} · {p.region || 'no region'}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Chart({ patient, navigate }: { patient: string; navigate: Navigate }) {
  const [view, setView] = useState<ChartView | null>(null);
  const [error, setError] = useState('');
  const opened = useRef(false);
  const seq = useRef(0);

  const load = async () => {
    const n = ++seq.current;
    try {
      const v = opened.current ? await Charts.View(patient) : await Charts.Open(patient);
      if (n !== seq.current) return;
      opened.current = true;
      setView(v);
      setError('');
    } catch (e) {
      if (n === seq.current) setError(errorText(e));
    }
  };

  useEffect(() => {
    void load();
  }, []);
  useChanged(CHART_TABLES, () => {
    if (opened.current) void load();
  });

  if (!view) {
    return error ? <ErrorBanner message={error} /> : <p class="loading">Opening the chart…</p>;
  }

  const p = view.patient;
  const years = age(p.birthDate);
  const visits = view.visits ?? [];
  return (
    <>
      <ErrorBanner message={error} />
      <section class="card demographics" aria-label="Demographics">
        <h2 class="patient-name">{patientName(p)}</h2>
        <dl class="facts">
          <Fact label="Born">
            {birthDate(p.birthDate)}
            {years && <span class="muted"> ({years})</span>}
          </Fact>
          <Fact label="Region">{p.region || '—'}</Fact>
          <Fact label="Phone">{p.phone || '—'}</Fact>
          <Fact label="Email">{p.email || '—'}</Fact>
        </dl>
      </section>

      <h2 class="section-title">Visits</h2>
      {visits.length === 0 && <p class="empty">No visits.</p>}
      {visits.map((v) => (
        <VisitRecord key={v.id} v={v} navigate={navigate} />
      ))}
    </>
  );
}

function VisitRecord({ v, navigate }: { v: PastVisit; navigate: Navigate }) {
  const notes = v.notes ?? [];
  return (
    <article class="card past-visit" data-testid={`chart-visit-${v.id}`}>
      <header class="past-visit-head">
        <h3>{dateTime(v.requestedAt)}</h3>
        <StatusBadge status={v.status} />
        <span class="muted">{v.region}</span>
        {(v.status === 'in_visit' || v.status === 'waiting') && (
          <button type="button" class="link" onClick={() => navigate({ name: 'visit', visit: v.id })}>
            Open visit
          </button>
        )}
      </header>
      <dl class="facts">
        <Fact label="Reason">{v.reason || '—'}</Fact>
        <Fact label="Provider">{v.providerName || v.provider || '—'}</Fact>
        <Fact label="Started">{when(v.startedAt)}</Fact>
        <Fact label="Ended">
          {when(v.endedAt)}
          {v.endReason && <span class="muted"> — {v.endReason}</span>}
        </Fact>
      </dl>
      <h4>Notes</h4>
      {notes.length === 0 && <p class="empty">No notes.</p>}
      {notes.map((n) => (
        <div key={n.id} class="note-read">
          <div class="muted">
            {n.authorName || n.author} · {when(n.updatedAt)}
            {n.conflicts > 0 && (
              <>
                {' '}
                <Badge tone="warn">conflict</Badge>{' '}
                <button type="button" class="link" onClick={() => navigate({ name: 'inbox' })}>
                  resolve
                </button>
              </>
            )}
          </div>
          <div class="pre">{n.body}</div>
        </div>
      ))}
      <h4>Observations</h4>
      <ObservationList items={v.observations ?? []} />
    </article>
  );
}
