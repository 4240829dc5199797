import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App, TOUCH_EVERY_MS } from '../App';
import { getDraft, setDraft } from '../lib/drafts';
import { Chats, Queue, Session, Sync, Visits, emit, resetApi } from './fakeApi';
import { queueView, session, syncStatus } from './fixtures';
import { settle } from './util';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(() => {
  resetApi();
  Queue.View.mockResolvedValue(queueView());
  Chats.List.mockResolvedValue([]);
});

describe('App', () => {
  it('shows sign-in when signed out, then the role’s home with the status bar once signed in', async () => {
    Session.State.mockResolvedValue(session({ signedIn: false, user: '', role: '' }));
    render(<App />);
    await screen.findByTestId('signin-submit');
    expect(screen.queryByTestId('status-online')).toBeNull();
    expect(screen.queryByTestId('nav-queue')).toBeNull();

    emit('session', session());
    await screen.findByTestId('queue-screen');
    expect(screen.getByTestId('nav-queue').getAttribute('aria-current')).toBe('page');
    await waitFor(() => expect(screen.getByTestId('status-online').dataset.online).toBe('true'));
    expect(Sync.Status).toHaveBeenCalled();
  });

  it('opens support staff on the multi-chat', async () => {
    Session.State.mockResolvedValue(session({ role: 'support', user: 'bob', name: 'Bob' }));
    render(<App />);
    await screen.findByTestId('chats-screen');
    expect(screen.getByTestId('nav-chats').getAttribute('aria-current')).toBe('page');
  });

  it('locks when Go says so, hiding the screens, and unlocks with the token', async () => {
    render(<App />);
    await screen.findByTestId('queue-screen');

    emit('session', session({ locked: true }));
    expect(screen.getByTestId('lock-screen').textContent).toContain('Locked');
    expect(screen.queryByTestId('queue-screen')).toBeNull();
    expect(screen.queryByTestId('nav-queue')).toBeNull();
    expect(screen.queryByText('Ada Lovelace')).toBeNull();

    Session.Unlock.mockRejectedValueOnce(new Error('the enrollment token was not accepted'));
    Session.Unlock.mockResolvedValue(session());
    fireEvent.input(screen.getByTestId('lock-token'), { target: { value: 'wrong' } });
    fireEvent.click(screen.getByTestId('lock-submit'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('the enrollment token was not accepted');

    fireEvent.input(screen.getByTestId('lock-token'), { target: { value: 'tok' } });
    fireEvent.click(screen.getByTestId('lock-submit'));
    await screen.findByTestId('queue-screen');
    expect(Session.Unlock).toHaveBeenLastCalledWith('tok');
    expect(screen.queryByTestId('lock-screen')).toBeNull();
  });

  it('comes back to the same screen after unlocking, re-opening the visit (a new audited read)', async () => {
    Visits.Open.mockResolvedValue((await import('./fixtures')).visitView());
    Queue.View.mockResolvedValue(queueView({ mine: [{ visit: 'v1', patient: 'p1', name: 'Ada Lovelace', region: 'CA', reason: 'x', started: 1 }] }));
    render(<App />);
    fireEvent.click(await screen.findByTestId('my-visit-v1'));
    await screen.findByTestId('note-editor');
    expect(Visits.Open).toHaveBeenCalledTimes(1);

    emit('session', session({ locked: true }));
    expect(screen.queryByTestId('visit-screen')).toBeNull();
    emit('session', session());
    await screen.findByTestId('note-editor');
    expect(Visits.Open).toHaveBeenCalledTimes(2);
  });

  it('records activity at most once every 15 s, and not while locked', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    render(<App />);
    await screen.findByTestId('queue-screen');
    await settle(); // the listeners are added by an effect

    fireEvent.keyDown(window, { key: 'a' });
    fireEvent.mouseMove(window);
    fireEvent.mouseDown(window);
    expect(Session.Touch).toHaveBeenCalledTimes(1);

    vi.setSystemTime(1_000_000 + TOUCH_EVERY_MS - 1);
    fireEvent.mouseMove(window);
    expect(Session.Touch).toHaveBeenCalledTimes(1);

    vi.setSystemTime(1_000_000 + TOUCH_EVERY_MS);
    fireEvent.mouseMove(window);
    expect(Session.Touch).toHaveBeenCalledTimes(2);

    emit('session', session({ locked: true }));
    vi.setSystemTime(1_000_000 + 10 * TOUCH_EVERY_MS);
    fireEvent.keyDown(window, { key: 'a' });
    expect(Session.Touch).toHaveBeenCalledTimes(2);
  });

  it('badges the inbox with the number of conflicts from the sync status', async () => {
    Sync.Status.mockResolvedValue(syncStatus({ conflicts: 1 }));
    render(<App />);
    expect((await screen.findByTestId('nav-inbox-count')).textContent).toBe('1');

    emit('sync', syncStatus({ conflicts: 2 }));
    await waitFor(() => expect(screen.getByTestId('nav-inbox-count').textContent).toBe('2'));

    emit('sync', syncStatus({ conflicts: 0 }));
    await waitFor(() => expect(screen.queryByTestId('nav-inbox-count')).toBeNull());
  });

  it('navigates between screens, and the refused count in the status bar opens the inbox', async () => {
    Sync.Status.mockResolvedValue(syncStatus({ rejected: 1 }));
    Session.Settings.mockResolvedValue({ server: 's', clinic: 'c', lockAfterSec: 300 });
    render(<App />);
    await screen.findByTestId('queue-screen');
    fireEvent.click(screen.getByTestId('nav-settings'));
    await settle(); // nothing resets the screen chosen right after signing in
    expect(screen.getByTestId('settings-screen')).toBeTruthy();
    expect(screen.queryByTestId('queue-screen')).toBeNull();
    fireEvent.click(await screen.findByText('1 change refused — review'));
    await screen.findByTestId('inbox-screen');
    expect(screen.getByTestId('nav-inbox').getAttribute('aria-current')).toBe('page');
  });

  it('forgets chat drafts on sign-out', async () => {
    render(<App />);
    await screen.findByTestId('queue-screen');
    setDraft('v1', 'half-written');
    act(() => emit('session', session({ signedIn: false })));
    await screen.findByTestId('signin-submit');
    expect(getDraft('v1')).toBe('');
  });
});
