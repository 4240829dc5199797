// Formatting for what the screens show. Times are Unix milliseconds (0: none), shown in the
// caregiver's own time zone and locale.

/** The text of a rejected Go call (Wails rejects with an Error carrying Go's message). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A length of time: "under 1 min", "12 min", "1 h 05 min". */
export function duration(ms: number): string {
  if (ms < MINUTE) return 'under 1 min';
  const mins = Math.floor(ms / MINUTE);
  if (mins < 60) return `${mins} min`;
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return m === 0 ? `${h} h` : `${h} h ${String(m).padStart(2, '0')} min`;
}

/** A wait estimate: "~25 min", or "unknown" when Go says -1. */
export function estimate(ms: number): string {
  if (ms < 0) return 'unknown';
  if (ms < 30_000) return 'next'; // a provider is free now: this patient is seen first
  const mins = Math.max(1, Math.round(ms / MINUTE));
  if (mins < 60) return `~${mins} min`;
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return m === 0 ? `~${h} h` : `~${h} h ${m} min`;
}

/** How long ago: "just now", "2 min ago", "3 h ago", "4 days ago". */
export function ago(ms: number, now: number): string {
  const d = Math.max(0, now - ms);
  if (d < 45_000) return 'just now';
  if (d < HOUR) return `${Math.max(1, Math.round(d / MINUTE))} min ago`;
  if (d < DAY) return `${Math.floor(d / HOUR)} h ago`;
  const days = Math.floor(d / DAY);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
});
const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** A moment: the time alone when it is today, else date and time; "—" for none. */
export function when(ms: number, now: number = Date.now()): string {
  if (!ms) return '—';
  const d = new Date(ms);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return timeFmt.format(d);
  return dateTimeFmt.format(d);
}

/** A full date and time; "—" for none. */
export function dateTime(ms: number): string {
  return ms ? dateTimeFmt.format(new Date(ms)) : '—';
}

/** A birth date (YYYY-MM-DD) in the caregiver's format; the raw text if it does not parse. */
export function birthDate(iso: string): string {
  const d = parseDate(iso);
  return d ? dateFmt.format(d) : iso || '—';
}

function parseDate(iso: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso?.trim() ?? '');
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Age from a birth date (YYYY-MM-DD): "34 years", "14 months", "9 days"; "" when unknown. */
export function age(iso: string, now: number = Date.now()): string {
  const b = parseDate(iso);
  if (!b) return '';
  const n = new Date(now);
  if (b.getTime() > n.getTime()) return '';
  let months = (n.getFullYear() - b.getFullYear()) * 12 + (n.getMonth() - b.getMonth());
  if (n.getDate() < b.getDate()) months--;
  if (months >= 24) {
    const years = Math.floor(months / 12);
    return `${years} years`;
  }
  if (months >= 1) return months === 1 ? '1 month' : `${months} months`;
  const days = Math.floor((n.getTime() - b.getTime()) / DAY);
  return days === 1 ? '1 day' : `${days} days`;
}

/** "3 changes not yet synced" / "All changes synced". */
export function pendingText(n: number): string {
  if (n <= 0) return 'All changes synced';
  return n === 1 ? '1 change not yet synced' : `${n} changes not yet synced`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const kindLabels: Record<string, string> = {
  bp_diastolic: 'Blood pressure, diastolic',
  bp_systolic: 'Blood pressure, systolic',
  glucose: 'Glucose',
  heart_rate: 'Heart rate',
  height: 'Height',
  pain_score: 'Pain score',
  resp_rate: 'Respiratory rate',
  spo2: 'SpO₂',
  temperature: 'Temperature',
  weight: 'Weight',
};

/** A readable name for an observation kind ("heart_rate" → "Heart rate"). */
export function kindLabel(kind: string): string {
  if (kindLabels[kind]) return kindLabels[kind];
  const s = kind.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const statusLabels: Record<string, string> = {
  requested: 'Requested',
  waiting: 'Waiting',
  in_visit: 'In visit',
  completed: 'Completed',
  cancelled: 'Cancelled',
  no_show: 'No-show',
};

export function statusLabel(status: string): string {
  return statusLabels[status] ?? status;
}

const roleLabels: Record<string, string> = {
  provider: 'Provider',
  support: 'Support',
  admin: 'Administrator',
  patient: 'Patient',
};

export function roleLabel(role: string): string {
  return roleLabels[role] ?? role;
}

/** A patient's display name from demographics. */
export function patientName(p: { givenName: string; familyName: string }): string {
  return `${p.givenName ?? ''} ${p.familyName ?? ''}`.trim() || 'Unnamed patient';
}

/** Formats an observation's value without float noise (36.6, not 36.600000001). */
export function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
}
