import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { VisitScreen } from '../screens/Visit';
import { Visits, emit, resetApi } from './fakeApi';
import { message, visitView } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

/** Lets pending promises settle while fake timers are installed. */
async function tick(ms = 0) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe('VisitScreen', () => {
  it('opens the visit with Open (audited), marks the chat read, and refreshes with View', async () => {
    Visits.Open.mockResolvedValue(visitView());
    Visits.View.mockResolvedValue(visitView({ chat: [message(), message({ id: 'm2', body: 'Still here' })] }));
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);

    expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('Ada Lovelace');
    const screenEl = screen.getByTestId('visit-screen');
    expect(screenEl.textContent).toContain('sore throat');
    expect(screenEl.textContent).toContain('In visit');
    expect(screen.getByTestId('video-placeholder').textContent).toContain('Video call');
    expect(Visits.Open).toHaveBeenCalledWith('v1');
    expect(Visits.MarkRead).toHaveBeenCalledWith('v1');
    expect(screen.getAllByTestId('chat-message')).toHaveLength(1);

    // Changes to other visits are ignored; this visit's are fetched with View, not Open.
    emit('changed', { tables: ['chat_messages'], visits: ['v2'], remote: true });
    expect(Visits.View).not.toHaveBeenCalled();
    emit('changed', { tables: ['chat_messages'], visits: ['v1'], remote: true });
    await waitFor(() => expect(screen.getAllByTestId('chat-message')).toHaveLength(2));
    expect(Visits.View).toHaveBeenCalledWith('v1');
    expect(Visits.Open).toHaveBeenCalledTimes(1);
    expect(Visits.MarkRead).toHaveBeenCalledTimes(2); // a new message arrived while on screen
  });

  it('sends a chat message with the button and with Enter; mine are marked', async () => {
    Visits.Open.mockResolvedValue(visitView({ chat: [message(), message({ id: 'm2', body: 'On my way', mine: true, sender: 'carol', senderRole: 'provider' })] }));
    Visits.View.mockResolvedValue(visitView());
    Visits.SendChat.mockResolvedValue(undefined);
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);

    const msgs = await screen.findAllByTestId('chat-message');
    expect(msgs[0].classList.contains('mine')).toBe(false);
    expect(msgs[1].classList.contains('mine')).toBe(true);

    const input = screen.getByTestId('chat-input') as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: 'How long have you had it?' } });
    fireEvent.click(screen.getByTestId('chat-send'));
    await waitFor(() => expect(Visits.SendChat).toHaveBeenCalledWith('v1', 'How long have you had it?'));
    await waitFor(() => expect(input.value).toBe(''));

    fireEvent.input(input, { target: { value: 'Any fever?' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(Visits.SendChat).toHaveBeenCalledWith('v1', 'Any fever?'));

    // Shift+Enter is a new line, not a send.
    fireEvent.input(input, { target: { value: 'line one' } });
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(Visits.SendChat).toHaveBeenCalledTimes(2);
  });

  it('keeps the typed message and shows Go’s error when sending fails', async () => {
    Visits.Open.mockResolvedValue(visitView());
    Visits.SendChat.mockRejectedValue(new Error('the message is longer than 4000 characters: split it'));
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);
    const input = (await screen.findByTestId('chat-input')) as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: 'long text' } });
    fireEvent.click(screen.getByTestId('chat-send'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('the message is longer than 4000 characters: split it');
    expect(input.value).toBe('long text');
  });

  it('autosaves the note 1.5 s after typing stops, creating it once and keeping its id', async () => {
    vi.useFakeTimers();
    Visits.Open.mockResolvedValue(visitView());
    Visits.View.mockResolvedValue(visitView());
    let resolveFirst: (id: string) => void = () => {};
    Visits.SaveNote.mockImplementationOnce(() => new Promise<string>((r) => (resolveFirst = r)));
    Visits.SaveNote.mockResolvedValue('n1');
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);
    await tick();

    const editor = screen.getByTestId('note-editor') as HTMLTextAreaElement;
    const status = screen.getByTestId('note-status');
    fireEvent.input(editor, { target: { value: 'Throat' } });
    await tick(1000);
    fireEvent.input(editor, { target: { value: 'Throat red' } });
    await tick(1400);
    expect(Visits.SaveNote).not.toHaveBeenCalled(); // typing restarted the wait
    expect(status.textContent).toBe('Unsaved changes');

    await tick(100);
    expect(Visits.SaveNote).toHaveBeenCalledTimes(1);
    expect(Visits.SaveNote).toHaveBeenLastCalledWith('v1', '', 'Throat red');
    expect(status.textContent).toBe('Saving…');

    // Save pressed while the first save is still out: it waits, then saves with the new id.
    fireEvent.input(editor, { target: { value: 'Throat red, no fever' } });
    fireEvent.click(screen.getByTestId('note-save'));
    await tick();
    expect(Visits.SaveNote).toHaveBeenCalledTimes(1);
    resolveFirst('n1');
    await tick();
    expect(Visits.SaveNote).toHaveBeenCalledTimes(2);
    expect(Visits.SaveNote).toHaveBeenLastCalledWith('v1', 'n1', 'Throat red, no fever');
    expect(status.textContent).toBe('Saved on this device');

    // Nothing new: no further saves, even after the debounce.
    await tick(5000);
    expect(Visits.SaveNote).toHaveBeenCalledTimes(2);
  });

  it('saves an existing note by its id with the Save button, and shows Go’s error', async () => {
    Visits.Open.mockResolvedValue(
      visitView({ myNote: { id: 'n7', author: 'carol', authorName: 'Carol Chen', body: 'Started', updatedAt: 1, conflicts: 0 } }),
    );
    Visits.SaveNote.mockRejectedValueOnce(new Error('save the note: the visit has ended'));
    Visits.SaveNote.mockResolvedValue('n7');
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);
    const editor = (await screen.findByTestId('note-editor')) as HTMLTextAreaElement;
    expect(editor.value).toBe('Started');
    expect(screen.getByTestId('note-status').textContent).toBe('Saved on this device');

    fireEvent.input(editor, { target: { value: 'Started. Improving.' } });
    fireEvent.click(screen.getByTestId('note-save'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('save the note: the visit has ended');
    expect(screen.getByTestId('note-status').textContent).toBe('Not saved');

    fireEvent.click(screen.getByTestId('note-save'));
    await waitFor(() => expect(screen.getByTestId('note-status').textContent).toBe('Saved on this device'));
    expect(Visits.SaveNote).toHaveBeenLastCalledWith('v1', 'n7', 'Started. Improving.');
  });

  it('adds an observation, and shows Go’s validation error', async () => {
    Visits.Open.mockResolvedValue(visitView());
    Visits.View.mockResolvedValue(
      visitView({
        visit: {
          ...visitView().visit,
          observations: [{ id: 'o1', kind: 'temperature', value: 37.2, unit: '°C', recordedBy: 'carol', recordedByName: 'Carol Chen', recordedAt: Date.now() }],
        },
      }),
    );
    Visits.AddObservation.mockRejectedValueOnce(
      new Error('invalid: temperature must be a number from 30 to 45 °C; check the value and its unit'),
    );
    Visits.AddObservation.mockResolvedValue(undefined);
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);

    const kind = (await screen.findByTestId('obs-kind')) as HTMLSelectElement;
    expect([...kind.options].map((o) => o.value)).toEqual(['heart_rate', 'temperature']);
    fireEvent.change(kind, { target: { value: 'temperature' } });
    const value = screen.getByTestId('obs-value') as HTMLInputElement;

    fireEvent.input(value, { target: { value: 'abc' } });
    fireEvent.click(screen.getByTestId('obs-add'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('Enter the value as a number.');
    expect(Visits.AddObservation).not.toHaveBeenCalled();

    fireEvent.input(value, { target: { value: '98.6' } });
    fireEvent.click(screen.getByTestId('obs-add'));
    await waitFor(() => expect(screen.getByTestId('error-banner').textContent).toContain('must be a number from 30 to 45'));
    expect(Visits.AddObservation).toHaveBeenCalledWith('v1', 'temperature', 98.6);

    fireEvent.input(value, { target: { value: '37,2' } });
    fireEvent.click(screen.getByTestId('obs-add'));
    await waitFor(() => expect(screen.getAllByTestId('observation')).toHaveLength(1));
    expect(Visits.AddObservation).toHaveBeenLastCalledWith('v1', 'temperature', 37.2);
    expect(screen.getByTestId('observation').textContent).toContain('37.2');
    expect(value.value).toBe('');
    expect(screen.queryByTestId('error-banner')).toBeNull();
  });

  it('ends the visit with a reason after confirming', async () => {
    Visits.Open.mockResolvedValue(visitView());
    Visits.View.mockResolvedValue(
      visitView({ visit: { ...visitView().visit, status: 'completed', endReason: 'treated' }, canEnd: false, canRelease: false }),
    );
    Visits.End.mockResolvedValue(undefined);
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);

    fireEvent.click(await screen.findByTestId('end-visit'));
    expect(Visits.End).not.toHaveBeenCalled();
    fireEvent.input(screen.getByTestId('end-visit-reason'), { target: { value: 'treated' } });
    fireEvent.click(screen.getByTestId('end-visit-confirm'));
    await waitFor(() => expect(screen.getByTestId('visit-screen').textContent).toContain('Completed'));
    expect(Visits.End).toHaveBeenCalledWith('v1', 'treated');
    expect(screen.queryByTestId('end-visit')).toBeNull();
    expect(screen.queryByTestId('release-visit')).toBeNull();
  });

  it('returns the patient to the queue, or says why it cannot while offline', async () => {
    const block = 'Offline: returning a patient to the queue needs the clinic’s server.';
    Visits.Open.mockResolvedValue(visitView({ canRelease: false, releaseBlock: block }));
    Visits.View.mockResolvedValue(visitView());
    Visits.Release.mockResolvedValue(undefined);
    const navigate = vi.fn();
    render(<VisitScreen visit="v1" role="provider" navigate={navigate} />);

    const release = (await screen.findByTestId('release-visit')) as HTMLButtonElement;
    expect(release.disabled).toBe(true);
    expect(release.title).toBe(block);
    expect(screen.getByTestId('release-blocked').textContent).toBe(block);

    // Back online: the screen asks Go again, and Release works.
    emit('sync', { online: true, catchingUp: false, progress: 1, pending: 0, lastSync: 0, error: '', rejected: 0, conflicts: 0 });
    await waitFor(() => expect((screen.getByTestId('release-visit') as HTMLButtonElement).disabled).toBe(false));
    expect(Visits.View).toHaveBeenCalledWith('v1');
    fireEvent.click(screen.getByTestId('release-visit'));
    await waitFor(() => expect(navigate).toHaveBeenCalledWith({ name: 'queue' }));
    expect(Visits.Release).toHaveBeenCalledWith('v1');
  });

  it('shows why a visit cannot be opened', async () => {
    Visits.Open.mockRejectedValue(new Error('no visit "v1" on this device: it may not have synced yet'));
    render(<VisitScreen visit="v1" role="provider" navigate={vi.fn()} />);
    expect((await screen.findByTestId('error-banner')).textContent).toContain('no visit "v1" on this device');
  });
});
