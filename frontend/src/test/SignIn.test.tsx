import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SignInScreen } from '../screens/SignIn';
import { Session, resetApi } from './fakeApi';
import { session } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

const signedOut = session({ signedIn: false, user: '', name: '', role: '', server: 'http://clinic.local:8686', clinic: 'riverside' });

describe('SignInScreen', () => {
  it('starts from the saved server and clinic, and hides the token', () => {
    render(<SignInScreen initial={signedOut} onSignedIn={vi.fn()} />);
    expect((screen.getByTestId('signin-server') as HTMLInputElement).value).toBe('http://clinic.local:8686');
    expect((screen.getByTestId('signin-clinic') as HTMLInputElement).value).toBe('riverside');
    expect((screen.getByTestId('signin-token') as HTMLInputElement).type).toBe('password');
    expect(screen.queryByTestId('signin-error')).toBeNull();
  });

  it('shows the error Go returns', async () => {
    Session.SignIn.mockRejectedValue(new Error('the enrollment token was not accepted: token expired'));
    const onSignedIn = vi.fn();
    render(<SignInScreen initial={signedOut} onSignedIn={onSignedIn} />);
    fireEvent.input(screen.getByTestId('signin-token'), { target: { value: 'bad-token' } });
    fireEvent.click(screen.getByTestId('signin-submit'));

    const err = await screen.findByTestId('signin-error');
    expect(err.textContent).toBe('the enrollment token was not accepted: token expired');
    expect(err.getAttribute('role')).toBe('alert');
    expect(Session.SignIn).toHaveBeenCalledWith('http://clinic.local:8686', 'riverside', 'bad-token');
    expect(onSignedIn).not.toHaveBeenCalled();
    expect((screen.getByTestId('signin-submit') as HTMLButtonElement).disabled).toBe(false);
  });

  it('signs in with what was typed and hands the new session up', async () => {
    const state = session();
    Session.SignIn.mockResolvedValue(state);
    const onSignedIn = vi.fn();
    render(<SignInScreen initial={signedOut} onSignedIn={onSignedIn} />);
    fireEvent.input(screen.getByTestId('signin-server'), { target: { value: ' http://10.0.0.5:8686 ' } });
    fireEvent.input(screen.getByTestId('signin-clinic'), { target: { value: 'demo' } });
    fireEvent.input(screen.getByTestId('signin-token'), { target: { value: 'tok' } });
    fireEvent.click(screen.getByTestId('signin-submit'));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(state));
    expect(Session.SignIn).toHaveBeenCalledWith('http://10.0.0.5:8686', 'demo', 'tok');
  });
});
