import { useEffect, useRef, useState } from 'preact/hooks';
import { Visits, type ChatMessage } from '../api';
import { getDraft, setDraft } from '../lib/drafts';
import { errorText, roleLabel, when } from '../lib/format';
import { ErrorBanner } from './ErrorBanner';

function who(m: ChatMessage): string {
  if (m.mine) return 'You';
  if (m.senderRole === 'patient') return 'Patient';
  return `${m.senderName || m.sender} (${roleLabel(m.senderRole)})`;
}

/**
 * A visit's chat: the messages (mine on the right) and a composer that sends with Enter
 * (Shift+Enter for a new line). The draft is kept per visit in memory; give the panel
 * key={visit} so that each visit has its own.
 */
export function ChatPanel({ visit, messages, onSent, title = 'Chat with the patient' }: {
  visit: string;
  messages: ChatMessage[];
  onSent?: () => void;
  title?: string;
}) {
  const [draft, setDraftState] = useState(() => getDraft(visit));
  const [sending, setSending] = useState(false);
  const [error, setError] = useState('');
  const list = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const edit = (text: string) => {
    setDraftState(text);
    setDraft(visit, text);
  };

  const send = async () => {
    const body = draft.trim();
    if (!body || sending) return;
    setSending(true);
    setError('');
    try {
      await Visits.SendChat(visit, body);
      setDraft(visit, '');
      setDraftState('');
      onSent?.();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <section class="chat" aria-label={title}>
      <h2 class="chat-title">{title}</h2>
      <div class="chat-messages" ref={list} aria-live="polite">
        {messages.length === 0 && <p class="empty">No messages yet.</p>}
        {messages.map((m) => (
          <div key={m.id} class={`msg ${m.mine ? 'mine' : 'theirs'}`} data-testid="chat-message">
            <div class="msg-bubble">{m.body}</div>
            <div class="msg-meta">
              {who(m)} · {when(m.sentAt)}
            </div>
          </div>
        ))}
      </div>
      <ErrorBanner message={error} />
      <form
        class="chat-compose"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <textarea
          data-testid="chat-input"
          aria-label="Message"
          placeholder="Write a message…"
          title="Enter sends; Shift+Enter starts a new line"
          rows={2}
          value={draft}
          onInput={(e) => edit(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" data-testid="chat-send" disabled={sending || !draft.trim()}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </form>
    </section>
  );
}
