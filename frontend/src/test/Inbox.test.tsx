import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { InboxScreen } from '../screens/Inbox';
import { Inbox, emit, resetApi } from './fakeApi';
import { NOW, conflict, inbox } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

describe('InboxScreen', () => {
  it('shows both versions side by side, and Keep right resolves with the other body', async () => {
    Inbox.View.mockResolvedValueOnce(inbox({ conflicts: [conflict()] }));
    Inbox.View.mockResolvedValue(inbox());
    Inbox.Resolve.mockResolvedValue(undefined);
    render(<InboxScreen navigate={vi.fn()} />);

    const card = await screen.findByTestId('conflict-n1');
    expect(card.textContent).toContain('Ada Lovelace');
    const current = within(card).getByTestId('conflict-current');
    const other = within(card).getByTestId('conflict-other');
    expect(current.textContent).toContain('Throat red, no fever.');
    expect(current.textContent).not.toContain('this device');
    expect(other.textContent).toContain('Throat red; temp 37.2.');
    expect(other.textContent).toContain('this device');
    expect(other.textContent).toContain('Carol Chen');

    fireEvent.click(screen.getByTestId('resolve-keep-other-n1'));
    await waitFor(() => expect(screen.queryByTestId('conflict-n1')).toBeNull());
    expect(Inbox.Resolve).toHaveBeenCalledExactlyOnceWith('n1', 'Throat red; temp 37.2.');
    expect(screen.getByText('No conflicting notes.')).toBeTruthy();
  });

  it('keeps the left version, or saves an edited merge prefilled with both', async () => {
    Inbox.View.mockResolvedValue(inbox({ conflicts: [conflict(), conflict({ note: 'n2', name: 'Grace Hopper' })] }));
    Inbox.Resolve.mockResolvedValue(undefined);
    render(<InboxScreen navigate={vi.fn()} />);

    fireEvent.click(await screen.findByTestId('resolve-keep-current-n1'));
    await waitFor(() => expect(Inbox.Resolve).toHaveBeenCalledWith('n1', 'Throat red, no fever.'));

    const merged = screen.getByTestId('merged-n2') as HTMLTextAreaElement;
    expect(merged.value).toBe('Throat red, no fever.\n\nThroat red; temp 37.2.');
    fireEvent.input(merged, { target: { value: 'Throat red; temp 37.2, no fever.' } });
    fireEvent.click(screen.getByTestId('resolve-merged-n2'));
    await waitFor(() => expect(Inbox.Resolve).toHaveBeenLastCalledWith('n2', 'Throat red; temp 37.2, no fever.'));
  });

  it('shows Go’s error when resolving fails', async () => {
    Inbox.View.mockResolvedValue(inbox({ conflicts: [conflict()] }));
    Inbox.Resolve.mockRejectedValue(new Error('resolve the note: may only change your own notes'));
    render(<InboxScreen navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId('resolve-keep-other-n1'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('resolve the note: may only change your own notes');
    expect(screen.getByTestId('conflict-n1')).toBeTruthy();
  });

  it('lists changes the clinic’s rules refused, and reloads when the refused count changes', async () => {
    Inbox.View.mockResolvedValue(inbox());
    render(<InboxScreen navigate={vi.fn()} />);
    await screen.findByText('No refused changes.');

    Inbox.View.mockResolvedValue(
      inbox({ refused: [{ table: 'regions', row: 'CA', code: 'forbidden', message: 'providers may not change regions', at: NOW }] }),
    );
    const st = { online: true, catchingUp: false, progress: 1, pending: 0, lastSync: NOW, error: '', rejected: 0, conflicts: 0 };
    emit('sync', st);
    emit('sync', { ...st, rejected: 1 });
    const row = await screen.findByTestId('refused-change');
    expect(row.textContent).toContain('regions');
    expect(row.textContent).toContain('forbidden');
    expect(row.textContent).toContain('providers may not change regions');
    expect(screen.getByText('Refused by the clinic’s rules')).toBeTruthy();
  });
});
