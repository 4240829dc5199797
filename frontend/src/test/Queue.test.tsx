import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueScreen } from '../screens/Queue';
import { Queue, emit, resetApi } from './fakeApi';
import { NOW, queuePatient, queueView, regionQueue } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

const offline =
  'Offline: claiming a patient needs the clinic’s server, so that two providers never take the same patient.';

describe('QueueScreen', () => {
  it('disables Claim and shows why when claiming is blocked', async () => {
    Queue.View.mockResolvedValue(queueView({ canClaim: false, claimBlocked: offline }));
    render(<QueueScreen role="provider" navigate={vi.fn()} />);

    const claim = (await screen.findByTestId('claim-v1')) as HTMLButtonElement;
    expect(claim.disabled).toBe(true);
    expect(claim.title).toBe(offline);
    expect(screen.getByTestId('claim-blocked').textContent).toBe(offline);
    fireEvent.click(claim);
    expect(Queue.Claim).not.toHaveBeenCalled();
  });

  it('claims the patient and opens the visit Go returns', async () => {
    Queue.View.mockResolvedValue(queueView());
    Queue.Claim.mockResolvedValue('v1');
    const navigate = vi.fn();
    render(<QueueScreen role="provider" navigate={navigate} />);

    const claim = (await screen.findByTestId('claim-v1')) as HTMLButtonElement;
    expect(claim.disabled).toBe(false);
    expect(screen.queryByTestId('claim-blocked')).toBeNull();
    fireEvent.click(claim);
    await waitFor(() => expect(navigate).toHaveBeenCalledWith({ name: 'visit', visit: 'v1' }));
    expect(Queue.Claim).toHaveBeenCalledWith('v1');
  });

  it('shows Go’s refusal when a claim fails, and stays on the queue', async () => {
    Queue.View.mockResolvedValue(queueView());
    Queue.Claim.mockRejectedValue(new Error('could not take the patient: already claimed by another provider'));
    const navigate = vi.fn();
    render(<QueueScreen role="provider" navigate={navigate} />);
    fireEvent.click(await screen.findByTestId('claim-v1'));
    const banner = await screen.findByTestId('error-banner');
    expect(banner.textContent).toBe('could not take the patient: already claimed by another provider');
    expect(navigate).not.toHaveBeenCalled();
  });

  it('shows each region and patient: mode, closed, providers, age, wait, estimate, unread', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    vi.setSystemTime(NOW);
    Queue.View.mockResolvedValue(
      queueView({
        regions: [
          regionQueue({
            patients: [
              queuePatient(),
              queuePatient({ visit: 'v2', name: 'Grace Hopper', birthDate: '2025-01-20', position: 2, unread: 3, since: NOW - 75 * 60_000 }),
            ],
          }),
          regionQueue({
            code: 'PA', name: 'Pennsylvania', mode: 'paused', open: false, licensed: 0,
            patients: [queuePatient({ visit: 'v3', region: 'PA', estimateMs: -1, notice: 'No licensed provider is on shift.' })],
          }),
        ],
        mine: [{ visit: 'v9', patient: 'p9', name: 'Alan Turing', region: 'CA', reason: 'rash', started: NOW - 60_000 }],
      }),
    );
    const navigate = vi.fn();
    render(<QueueScreen role="provider" navigate={navigate} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });

    const ca = screen.getByTestId('queue-region-CA');
    expect(ca.textContent).toContain('California');
    expect(ca.textContent).toContain('open');
    expect(ca.textContent).toContain('2 licensed providers on shift');
    expect(ca.textContent).not.toContain('closed');
    const pa = screen.getByTestId('queue-region-PA');
    expect(pa.textContent).toContain('paused');
    expect(pa.textContent).toContain('closed');
    expect(pa.textContent).toContain('0 licensed providers on shift');

    const ada = screen.getByTestId('queue-patient-v1');
    expect(ada.textContent).toContain('Ada Lovelace');
    expect(ada.textContent).toContain('35 years');
    expect(ada.textContent).toContain('sore throat');
    expect(ada.textContent).toContain('12 min');
    expect(ada.textContent).toContain('~25 min');
    const grace = screen.getByTestId('queue-patient-v2');
    expect(grace.textContent).toContain('22 months');
    expect(grace.textContent).toContain('1 h 15 min');
    expect(grace.textContent).toContain('3 unread');
    const v3 = screen.getByTestId('queue-patient-v3');
    expect(v3.textContent).toContain('unknown');
    expect(v3.textContent).toContain('No licensed provider is on shift.');

    // Waited times tick every 30 s (and the view is fetched again for new estimates).
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3 * 60_000);
    });
    expect(screen.getByTestId('queue-patient-v1').textContent).toContain('15 min');
    expect(Queue.View.mock.calls.length).toBeGreaterThanOrEqual(7);

    fireEvent.click(screen.getByTestId('my-visit-v9'));
    expect(navigate).toHaveBeenCalledWith({ name: 'visit', visit: 'v9' });
  });

  it('refetches on "changed" events that touch the queue, not on others', async () => {
    Queue.View.mockResolvedValue(queueView());
    render(<QueueScreen role="provider" navigate={vi.fn()} />);
    await screen.findByTestId('queue-patient-v1');
    expect(Queue.View).toHaveBeenCalledTimes(1);

    emit('changed', { tables: ['audit_events'], visits: [], remote: false });
    emit('changed', { tables: ['audit_events'], visits: null, remote: true }); // as Go sends remote ones
    expect(Queue.View).toHaveBeenCalledTimes(1);

    Queue.View.mockResolvedValue(queueView({ regions: [regionQueue({ patients: [] })] }));
    emit('changed', { tables: ['visits'], visits: ['v1'], remote: true });
    await waitFor(() => expect(screen.queryByTestId('queue-patient-v1')).toBeNull());
    expect(Queue.View).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('queue-region-CA').textContent).toContain('No one is waiting.');
  });

  it('refetches when the connection comes back (claiming depends on it)', async () => {
    Queue.View.mockResolvedValue(queueView({ canClaim: false, claimBlocked: offline }));
    render(<QueueScreen role="provider" navigate={vi.fn()} />);
    await screen.findByTestId('claim-blocked');
    Queue.View.mockResolvedValue(queueView());
    emit('sync', { online: true, catchingUp: false, progress: 1, pending: 0, lastSync: NOW, error: '', rejected: 0, conflicts: 0 });
    await waitFor(() => expect(screen.queryByTestId('claim-blocked')).toBeNull());
    expect((screen.getByTestId('claim-v1') as HTMLButtonElement).disabled).toBe(false);
  });

  it('toggles the shift', async () => {
    Queue.View.mockResolvedValue(queueView({ onShift: false }));
    Queue.SetOnShift.mockResolvedValue(undefined);
    render(<QueueScreen role="provider" navigate={vi.fn()} />);
    const toggle = await screen.findByTestId('onshift-toggle');
    expect(toggle.getAttribute('aria-checked')).toBe('false');
    expect(toggle.textContent).toContain('Off shift');
    Queue.View.mockResolvedValue(queueView({ onShift: true }));
    fireEvent.click(toggle);
    await waitFor(() => expect(screen.getByTestId('onshift-toggle').getAttribute('aria-checked')).toBe('true'));
    expect(Queue.SetOnShift).toHaveBeenCalledWith(true);
  });

  it('shows no Claim buttons or provider notice to support staff', async () => {
    Queue.View.mockResolvedValue(queueView({ canClaim: false, claimBlocked: 'Only providers take patients into visits.' }));
    render(<QueueScreen role="support" navigate={vi.fn()} />);
    await screen.findByTestId('queue-patient-v1');
    expect(screen.queryByTestId('claim-v1')).toBeNull();
    expect(screen.queryByTestId('claim-blocked')).toBeNull();
  });
});
