import { useEffect, useState } from 'preact/hooks';
import { Regions, type RegionSettings } from '../api';
import { Badge } from '../components/Badge';
import { ErrorBanner } from '../components/ErrorBanner';
import { errorText, plural, when } from '../lib/format';
import { useChanged, useInterval, useLoader } from '../lib/hooks';

const REGION_TABLES = ['regions', 'visits', 'staff'];
const MODES = ['open', 'busy', 'paused'] as const;

/** What a person has changed in a row and not saved (inputs hold text). */
type Draft = { mode?: string; busyLimit?: string; hours?: string; timeZone?: string; message?: string };

/**
 * Each region's busy toggle, hours, time zone and message to patients, with how many wait
 * and how many licensed providers are on shift. Support staff and admins may edit.
 */
export function RegionsScreen() {
  const { data: rows, error, load } = useLoader(() => Regions.List());
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState('');
  const [saved, setSaved] = useState('');

  useEffect(() => {
    void load();
  }, []);
  useChanged(REGION_TABLES, () => void load());
  useInterval(() => void load(), 60_000); // open/closed follows the clock

  const edit = (code: string, patch: Draft) => {
    setDrafts((d) => ({ ...d, [code]: { ...d[code], ...patch } }));
    setSaved((s) => (s === code ? '' : s));
  };

  const save = async (r: RegionSettings) => {
    const d = drafts[r.code] ?? {};
    const limitText = d.busyLimit ?? String(r.busyLimit);
    const limit = Number(limitText.trim());
    if (!/^\d+$/.test(limitText.trim()) || !Number.isSafeInteger(limit)) {
      setErrors((e) => ({ ...e, [r.code]: 'The busy limit must be a whole number of patients, 0 or more.' }));
      return;
    }
    setSaving(r.code);
    setErrors((e) => ({ ...e, [r.code]: '' }));
    try {
      await Regions.Save({
        ...r,
        mode: d.mode ?? r.mode,
        busyLimit: limit,
        hours: d.hours ?? r.hours,
        timeZone: d.timeZone ?? r.timeZone,
        message: d.message ?? r.message,
      });
      setDrafts((all) => {
        if (all[r.code] !== drafts[r.code]) return all; // edited again while saving
        const rest = { ...all };
        delete rest[r.code];
        return rest;
      });
      setSaved(r.code);
      await load();
    } catch (e) {
      setErrors((all) => ({ ...all, [r.code]: errorText(e) }));
    } finally {
      setSaving('');
    }
  };

  const canEdit = rows?.some((r) => r.canEdit) ?? false;

  return (
    <div class="screen" data-testid="regions-screen">
      <header class="screen-head">
        <div>
          <h1>Regions</h1>
          <p class="subtitle">
            Busy and paused regions stop admitting new patients; hours use the region’s own time zone.
            {rows && !canEdit && ' Only support staff and administrators may change them.'}
          </p>
        </div>
      </header>
      <ErrorBanner message={error} />
      {!rows && !error && <p class="loading">Loading regions…</p>}
      {rows && rows.length === 0 && <p class="empty">No regions are set up yet.</p>}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table class="regions">
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Mode</th>
                <th scope="col">Busy limit</th>
                <th scope="col">Hours</th>
                <th scope="col">
                  <span class="visually-hidden">Save</span>
                </th>
              </tr>
            </thead>
            {rows.map((r) => {
              const d = drafts[r.code] ?? {};
              const mode = d.mode ?? r.mode;
              const dirty = Object.keys(d).length > 0;
              const off = !r.canEdit || saving === r.code;
              return (
                <tbody key={r.code} data-testid={`region-row-${r.code}`} class={dirty ? 'dirty' : ''}>
                  <tr>
                    <th scope="row" class="region-cell">
                      <div class="region-name">
                        {r.name || r.code} <span class="code">{r.code}</span>
                      </div>
                      <div class="region-now">
                        {r.open ? (
                          <Badge tone="ok">taking patients</Badge>
                        ) : (
                          <span title={r.admission}>
                            <Badge tone="muted">not taking patients</Badge>
                          </span>
                        )}
                        <span class="muted"> {plural(r.waiting, 'waiting', 'waiting')}</span>
                      </div>
                      {!r.open && r.admission && (
                        <div class="muted small" data-testid={`region-admission-${r.code}`}>
                          {r.admission}
                        </div>
                      )}
                      <div class={r.licensed === 0 ? 'warn-text small' : 'muted small'}>
                        {plural(r.licensed, 'licensed provider', 'licensed providers')} on shift
                      </div>
                    </th>
                    <td>
                      <div class="segmented" role="group" aria-label={`Mode of ${r.code}`}>
                        {MODES.map((m) => (
                          <button
                            key={m}
                            type="button"
                            class={`seg seg-${m} ${mode === m ? 'on' : ''}`}
                            aria-pressed={mode === m}
                            data-testid={`region-mode-${r.code}-${m}`}
                            disabled={off}
                            onClick={() => edit(r.code, { mode: m })}
                          >
                            {m}
                          </button>
                        ))}
                      </div>
                    </td>
                    <td>
                      <input
                        class="narrow"
                        inputMode="numeric"
                        aria-label={`Busy limit of ${r.code}`}
                        data-testid={`region-limit-${r.code}`}
                        value={d.busyLimit ?? String(r.busyLimit)}
                        disabled={off}
                        onInput={(e) => edit(r.code, { busyLimit: e.currentTarget.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Hours of ${r.code}`}
                        data-testid={`region-hours-${r.code}`}
                        placeholder="mon-fri 08:00-18:00, sat 09:00-13:00"
                        value={d.hours ?? r.hours}
                        disabled={off}
                        onInput={(e) => edit(r.code, { hours: e.currentTarget.value })}
                      />
                    </td>
                    <td class="region-save">
                      <button
                        type="button"
                        class={dirty ? 'primary' : ''}
                        data-testid={`region-save-${r.code}`}
                        disabled={off}
                        onClick={() => void save(r)}
                      >
                        {saving === r.code ? 'Saving…' : 'Save'}
                      </button>
                      {saved === r.code && !dirty && <div class="ok-text">Saved</div>}
                    </td>
                  </tr>
                  <tr class="region-second">
                    <td colSpan={5}>
                      <div class="region-extra">
                        <label class="inline-field field-tz">
                          <span>Time zone</span>
                          <input
                            aria-label={`Time zone of ${r.code}`}
                            data-testid={`region-tz-${r.code}`}
                            placeholder="America/New_York"
                            value={d.timeZone ?? r.timeZone}
                            disabled={off}
                            onInput={(e) => edit(r.code, { timeZone: e.currentTarget.value })}
                          />
                        </label>
                        <label class="inline-field">
                          <span>Message to patients</span>
                          <input
                            data-testid={`region-message-${r.code}`}
                            placeholder="Shown on the clinic’s page, e.g. “Back on Monday at 8.”"
                            value={d.message ?? r.message}
                            disabled={off}
                            onInput={(e) => edit(r.code, { message: e.currentTarget.value })}
                          />
                        </label>
                      </div>
                      {r.updatedAt > 0 && (
                        <span class="muted updated">
                          changed {when(r.updatedAt)}
                          {r.updatedBy && ` by ${r.updatedByName || r.updatedBy}`}
                        </span>
                      )}
                      <ErrorBanner message={errors[r.code] ?? ''} />
                    </td>
                  </tr>
                </tbody>
              );
            })}
          </table>
        </div>
      )}
    </div>
  );
}
