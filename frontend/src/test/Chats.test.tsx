import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { clearDrafts } from '../lib/drafts';
import { ChatsScreen } from '../screens/Chats';
import { Chats, Visits, emit, resetApi } from './fakeApi';
import { conversation, message } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(() => {
  resetApi();
  clearDrafts();
  Chats.List.mockResolvedValue([
    conversation({ visit: 'v1', name: 'Ada Lovelace', unread: 2, last: 'Is anyone there?' }),
    conversation({ visit: 'v2', name: 'Grace Hopper', status: 'in_visit', last: 'Thanks', lastFrom: 'support' }),
  ]);
  Chats.Chat.mockImplementation((visit: string) =>
    Promise.resolve(visit === 'v1' ? [message({ id: 'a1', body: 'Is anyone there?' })] : [message({ id: 'b1', body: 'Thanks' })]),
  );
  Visits.SendChat.mockResolvedValue(undefined);
});

const input = () => screen.getByTestId('chat-input') as HTMLTextAreaElement;

describe('ChatsScreen', () => {
  it('lists conversations with unread badges and previews, and marks one read when selected', async () => {
    render(<ChatsScreen role="support" navigate={vi.fn()} />);
    const ada = await screen.findByTestId('conversation-v1');
    expect(ada.textContent).toContain('Ada Lovelace');
    expect(ada.textContent).toContain('2');
    expect(ada.textContent).toContain('Is anyone there?');
    expect(screen.getByTestId('conversation-v2').textContent).toContain('Staff: Thanks');
    expect(screen.queryByTestId('chat-input')).toBeNull();

    Chats.List.mockResolvedValue([conversation({ visit: 'v1', unread: 0 }), conversation({ visit: 'v2' })]);
    fireEvent.click(ada);
    await waitFor(() => expect(screen.getByTestId('chat-message').textContent).toContain('Is anyone there?'));
    expect(Chats.Chat).toHaveBeenCalledWith('v1');
    await waitFor(() => expect(Visits.MarkRead).toHaveBeenCalledWith('v1'));
    await waitFor(() => expect(Chats.List).toHaveBeenCalledTimes(2)); // badges refreshed after reading
  });

  it('keeps a draft per conversation while switching', async () => {
    render(<ChatsScreen role="support" navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId('conversation-v1'));
    await screen.findByText('Is anyone there?', { selector: '.msg-bubble' });
    fireEvent.input(input(), { target: { value: 'Hello Ada, one moment' } });

    fireEvent.click(screen.getByTestId('conversation-v2'));
    await screen.findByText('Thanks', { selector: '.msg-bubble' });
    expect(input().value).toBe('');
    fireEvent.input(input(), { target: { value: 'You are welcome, Grace' } });

    fireEvent.click(screen.getByTestId('conversation-v1'));
    await screen.findByText('Is anyone there?', { selector: '.msg-bubble' });
    expect(input().value).toBe('Hello Ada, one moment');

    fireEvent.click(screen.getByTestId('conversation-v2'));
    await screen.findByText('Thanks', { selector: '.msg-bubble' });
    expect(input().value).toBe('You are welcome, Grace');

    // Sending goes to the selected conversation and clears only its draft.
    fireEvent.click(screen.getByTestId('chat-send'));
    await waitFor(() => expect(Visits.SendChat).toHaveBeenCalledWith('v2', 'You are welcome, Grace'));
    await waitFor(() => expect(input().value).toBe(''));
    fireEvent.click(screen.getByTestId('conversation-v1'));
    await screen.findByText('Is anyone there?', { selector: '.msg-bubble' });
    expect(input().value).toBe('Hello Ada, one moment');
  });

  it('reloads the open conversation when its messages change, and marks the new ones read', async () => {
    render(<ChatsScreen role="support" navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId('conversation-v2'));
    await screen.findByText('Thanks', { selector: '.msg-bubble' });
    await waitFor(() => expect(Visits.MarkRead).toHaveBeenCalledTimes(1));

    Chats.Chat.mockResolvedValue([message({ id: 'b1', body: 'Thanks' }), message({ id: 'b2', body: 'One more question' })]);
    emit('changed', { tables: ['chat_messages'], visits: ['v2'], remote: true });
    await screen.findByText('One more question');
    await waitFor(() => expect(Visits.MarkRead).toHaveBeenCalledTimes(2));
    expect(Visits.MarkRead).toHaveBeenLastCalledWith('v2');
  });
});
