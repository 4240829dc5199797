import type { Observation } from '../api';
import { kindLabel, num, when } from '../lib/format';

/** A visit's recorded measurements, oldest first as Go lists them. */
export function ObservationList({ items }: { items: Observation[] }) {
  if (items.length === 0) return <p class="empty">No observations recorded.</p>;
  return (
    <table class="obs-table">
      <thead>
        <tr>
          <th scope="col">Measurement</th>
          <th scope="col">Value</th>
          <th scope="col">Recorded</th>
          <th scope="col">By</th>
        </tr>
      </thead>
      <tbody>
        {items.map((o) => (
          <tr key={o.id} data-testid="observation">
            <td>{kindLabel(o.kind)}</td>
            <td class="num">
              <strong>{num(o.value)}</strong> <span class="muted">{o.unit}</span>
            </td>
            <td>{when(o.recordedAt)}</td>
            <td>{o.recordedByName || o.recordedBy}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
