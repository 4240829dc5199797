import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { StatusBar } from '../components/StatusBar';
import { Sync, emit, listenerCount, resetApi } from './fakeApi';
import { syncStatus } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

describe('StatusBar', () => {
  it('shows offline, the pending count, the last sync and why it is offline', async () => {
    Sync.Status.mockResolvedValue(
      syncStatus({
        online: false,
        pending: 3,
        lastSync: Date.now() - 2 * 60_000,
        error: 'Cannot reach the clinic’s server; retrying by itself. Your work is kept on this device.',
      }),
    );
    render(<StatusBar onOpenInbox={() => {}} />);

    const online = screen.getByTestId('status-online');
    await waitFor(() => expect(online.textContent).toContain('Offline — working on this device'));
    expect(online.dataset.online).toBe('false');
    const pending = screen.getByTestId('status-pending');
    expect(pending.dataset.pending).toBe('3');
    expect(pending.textContent).toBe('3 changes not yet synced');
    expect(screen.getByTestId('status-lastsync').textContent).toBe('synced 2 min ago');
    expect(screen.getByText('Cannot reach the clinic’s server; retrying by itself. Your work is kept on this device.')).toBeTruthy();
    expect(screen.queryByTestId('catchup-progress')).toBeNull();
  });

  it('shows online with a progress bar while catching up, then follows "sync" events', async () => {
    Sync.Status.mockResolvedValue(syncStatus({ online: true, catchingUp: true, progress: 0.4, pending: 1 }));
    render(<StatusBar onOpenInbox={() => {}} />);

    const bar = await screen.findByTestId('catchup-progress');
    expect(bar.getAttribute('aria-valuenow')).toBe('40');
    expect((bar.firstElementChild as HTMLElement).style.width).toBe('40%');
    const online = screen.getByTestId('status-online');
    expect(online.dataset.online).toBe('true');
    expect(online.textContent).toContain('Online');
    expect(screen.getByTestId('status-pending').textContent).toBe('1 change not yet synced');

    emit('sync', syncStatus({ online: true, catchingUp: false, progress: 1, pending: 0, lastSync: Date.now() }));
    expect(screen.queryByTestId('catchup-progress')).toBeNull();
    expect(screen.getByTestId('status-pending').dataset.pending).toBe('0');
    expect(screen.getByTestId('status-pending').textContent).toBe('All changes synced');
    expect(screen.getByTestId('status-lastsync').textContent).toBe('synced just now');

    emit('sync', syncStatus({ online: false, error: 'dial tcp: connection refused' }));
    expect(screen.getByTestId('status-online').dataset.online).toBe('false');
    expect(screen.getByText('dial tcp: connection refused')).toBeTruthy();
  });

  it('links refused changes to the inbox, and unsubscribes when unmounted', async () => {
    Sync.Status.mockResolvedValue(syncStatus({ rejected: 2 }));
    const open = vi.fn();
    const { unmount } = render(<StatusBar onOpenInbox={open} />);
    fireEvent.click(await screen.findByText('2 changes refused — review'));
    expect(open).toHaveBeenCalledOnce();
    expect(listenerCount('sync')).toBe(1);
    act(() => {
      unmount();
    });
    expect(listenerCount('sync')).toBe(0);
  });
});
