import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChartView } from '../api';
import { ChartScreen } from '../screens/Chart';
import { Charts, emit, resetApi } from './fakeApi';
import { NOW, visitView } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

function chart(): ChartView {
  const v = visitView();
  return {
    patient: v.patient,
    visits: [
      { ...v.visit, id: 'v2', status: 'in_visit', reason: 'follow-up', requestedAt: NOW - 60_000 },
      {
        ...v.visit,
        id: 'v1',
        status: 'completed',
        reason: 'sore throat',
        endedAt: NOW - 86_400_000,
        endReason: 'treated',
        notes: [{ id: 'n1', author: 'carol', authorName: 'Carol Chen', body: 'Strep negative.', updatedAt: NOW - 86_400_000, conflicts: 1 }],
        observations: [{ id: 'o1', kind: 'heart_rate', value: 72, unit: 'bpm', recordedBy: 'carol', recordedByName: 'Carol Chen', recordedAt: NOW - 86_400_000 }],
      },
    ],
  };
}

describe('ChartScreen', () => {
  it('opens the chart with Open, shows demographics and visits newest first, refreshes with View', async () => {
    Charts.Open.mockResolvedValue(chart());
    Charts.View.mockResolvedValue(chart());
    render(<ChartScreen patient="p1" navigate={vi.fn()} />);

    await screen.findByText('Ada Lovelace');
    expect(Charts.Open).toHaveBeenCalledWith('p1');
    const el = screen.getByTestId('chart-screen');
    expect(el.textContent).toContain('555-123-4567');
    const visits = el.querySelectorAll('[data-testid^="chart-visit-"]');
    expect([...visits].map((v) => v.getAttribute('data-testid'))).toEqual(['chart-visit-v2', 'chart-visit-v1']);
    const past = screen.getByTestId('chart-visit-v1');
    expect(past.textContent).toContain('Completed');
    expect(past.textContent).toContain('treated');
    expect(past.textContent).toContain('Strep negative.');
    expect(past.textContent).toContain('conflict');
    expect(past.textContent).toContain('Heart rate');
    expect(past.textContent).toContain('72');

    emit('changed', { tables: ['observations'], visits: ['v2'], remote: true });
    await waitFor(() => expect(Charts.View).toHaveBeenCalledWith('p1'));
    expect(Charts.Open).toHaveBeenCalledTimes(1);
  });

  it('searches patients as you type and opens the one chosen', async () => {
    vi.useFakeTimers();
    Charts.Search.mockResolvedValue([
      { id: 'p1', givenName: 'Ada', familyName: 'Lovelace', birthDate: '1990-12-10', phone: '', email: '', region: 'CA' },
    ]);
    const navigate = vi.fn();
    render(<ChartScreen navigate={navigate} />);
    const box = screen.getByTestId('chart-search');
    fireEvent.input(box, { target: { value: 'L' } });
    fireEvent.input(box, { target: { value: 'Lov' } });
    fireEvent.input(box, { target: { value: 'Lovelace' } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(300);
    });
    expect(Charts.Search).toHaveBeenCalledExactlyOnceWith('Lovelace');
    fireEvent.click(screen.getByTestId('chart-result-p1'));
    expect(navigate).toHaveBeenCalledWith({ name: 'chart', patient: 'p1' });
    expect(Charts.Open).not.toHaveBeenCalled(); // the chart screen opens it, once navigated
  });
});
