import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SettingsScreen } from '../screens/Settings';
import { Session, resetApi } from './fakeApi';
import { session } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(() => {
  resetApi();
  Session.Settings.mockResolvedValue({ server: 'http://127.0.0.1:8686', clinic: 'demo', lockAfterSec: 300 });
});

const pendingError =
  'changes made on this device have not reached the server yet (3): connect to sync them first, or sign out anyway; they are kept on this device and sent when you sign in again';

describe('SettingsScreen', () => {
  it('offers “Sign out anyway” when Go refuses because changes are not synced', async () => {
    const out = session({ signedIn: false });
    Session.SignOut.mockImplementation((force: boolean) =>
      force ? Promise.resolve(out) : Promise.reject(new Error(pendingError)),
    );
    const onSession = vi.fn();
    render(<SettingsScreen session={session()} onSession={onSession} />);

    expect(screen.queryByText('Sign out anyway')).toBeNull();
    fireEvent.click(screen.getByTestId('signout'));
    expect((await screen.findByTestId('error-banner')).textContent).toContain(pendingError);
    expect(Session.SignOut).toHaveBeenCalledWith(false);
    expect(onSession).not.toHaveBeenCalled();

    fireEvent.click(screen.getByText('Sign out anyway'));
    await waitFor(() => expect(onSession).toHaveBeenCalledWith(out));
    expect(Session.SignOut).toHaveBeenLastCalledWith(true);
  });

  it('signs out at once when nothing is pending, without offering to force', async () => {
    const out = session({ signedIn: false });
    Session.SignOut.mockResolvedValue(out);
    const onSession = vi.fn();
    render(<SettingsScreen session={session()} onSession={onSession} />);
    fireEvent.click(screen.getByTestId('signout'));
    await waitFor(() => expect(onSession).toHaveBeenCalledWith(out));
    expect(Session.SignOut).toHaveBeenCalledExactlyOnceWith(false);
  });

  it('does not offer to force for other errors', async () => {
    Session.SignOut.mockRejectedValue(new Error('the screen is locked: unlock it to go on'));
    render(<SettingsScreen session={session()} onSession={vi.fn()} />);
    fireEvent.click(screen.getByTestId('signout'));
    await screen.findByText('the screen is locked: unlock it to go on');
    expect(screen.queryByText('Sign out anyway')).toBeNull();
  });

  it('saves the lock delay in seconds and shows Go’s validation error', async () => {
    Session.SaveSettings.mockRejectedValueOnce(new Error('lock after must be between 1 and 60 minutes'));
    Session.SaveSettings.mockImplementation((s) => Promise.resolve(s));
    render(<SettingsScreen session={session()} onSession={vi.fn()} />);
    const minutes = screen.getByTestId('settings-lock-after') as HTMLInputElement;
    await waitFor(() => expect(minutes.value).toBe('5'));
    expect(screen.getByTestId('settings-screen').textContent).toContain('Carol Reyes');
    expect(screen.getByTestId('settings-screen').textContent).toContain('Provider');

    fireEvent.input(minutes, { target: { value: '90' } });
    fireEvent.click(screen.getByTestId('settings-save'));
    expect((await screen.findByTestId('error-banner')).textContent).toBe('lock after must be between 1 and 60 minutes');
    expect(Session.SaveSettings).toHaveBeenCalledWith({ server: 'http://127.0.0.1:8686', clinic: 'demo', lockAfterSec: 5400 });

    fireEvent.input(minutes, { target: { value: '10' } });
    fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByText(/^Saved\./);
    expect(Session.SaveSettings).toHaveBeenLastCalledWith({ server: 'http://127.0.0.1:8686', clinic: 'demo', lockAfterSec: 600 });
  });

  it('locks now', async () => {
    const locked = session({ locked: true });
    Session.Lock.mockResolvedValue(locked);
    const onSession = vi.fn();
    render(<SettingsScreen session={session()} onSession={onSession} />);
    fireEvent.click(screen.getByTestId('lock-now'));
    await waitFor(() => expect(onSession).toHaveBeenCalledWith(locked));
  });
});
