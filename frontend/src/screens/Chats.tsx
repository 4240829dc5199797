import { useEffect, useRef, useState } from 'preact/hooks';
import { Chats, Visits, type ChatMessage, type Conversation } from '../api';
import { Badge, StatusBadge } from '../components/Badge';
import { ChatPanel } from '../components/ChatPanel';
import { ErrorBanner } from '../components/ErrorBanner';
import { getDraft } from '../lib/drafts';
import { errorText, when } from '../lib/format';
import { useChanged, useLoader } from '../lib/hooks';
import type { Navigate } from '../route';

// chat_reads: messages read on this device (Go's ReadsTable), for the unread badges.
const LIST_TABLES = ['chat_messages', 'visits', 'patients', 'staff', 'chat_reads'];

/**
 * Every waiting or in-visit patient's chat at once (support staff's main screen): the list,
 * unread first, and the selected conversation. Drafts are kept per visit.
 */
export function ChatsScreen({ role, navigate }: { role: string; navigate: Navigate }) {
  const { data: list, error: listError, load: loadList } = useLoader(() => Chats.List());
  const [selected, setSelected] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [chatError, setChatError] = useState('');
  const current = useRef('');
  const seq = useRef(0);
  const seen = useRef(new Set<string>());

  useEffect(() => {
    void loadList();
  }, []);

  const loadChat = async (visit: string, first: boolean) => {
    const n = ++seq.current;
    try {
      const msgs = (await Chats.Chat(visit)) ?? [];
      if (n !== seq.current || current.current !== visit) return;
      const fresh = msgs.some((m) => !m.mine && !seen.current.has(m.id));
      msgs.forEach((m) => seen.current.add(m.id));
      setMessages(msgs);
      setChatError('');
      if (first || fresh) {
        await Visits.MarkRead(visit).catch(() => {});
        void loadList();
      }
    } catch (e) {
      if (n === seq.current) setChatError(errorText(e));
    }
  };

  const select = (c: Conversation) => {
    if (current.current === c.visit) return;
    current.current = c.visit;
    seen.current = new Set();
    setSelected(c);
    setMessages([]);
    setChatError('');
    void loadChat(c.visit, true);
  };

  useChanged(LIST_TABLES, (c) => {
    void loadList();
    if (current.current && (c.visits ?? []).includes(current.current)) void loadChat(current.current, false);
  });

  // The selected conversation's header follows the list (status, name) while it is there.
  const shown = (selected && list?.find((c) => c.visit === selected.visit)) || selected;

  return (
    <div class="screen fill" data-testid="chats-screen">
      <header class="screen-head">
        <h1>Chats</h1>
      </header>
      <ErrorBanner message={listError} />
      <div class="chats">
        <ul class="conversations" aria-label="Conversations">
          {list && list.length === 0 && <li class="empty">No patients are waiting or in a visit.</li>}
          {!list && !listError && <li class="loading">Loading…</li>}
          {list?.map((c) => (
            <li key={c.visit}>
              <button
                type="button"
                class={`conversation ${shown?.visit === c.visit ? 'active' : ''} ${c.unread > 0 ? 'unread' : ''}`}
                aria-current={shown?.visit === c.visit ? 'true' : undefined}
                data-testid={`conversation-${c.visit}`}
                onClick={() => select(c)}
              >
                <span class="conv-top">
                  <strong class="conv-name">{c.name || 'Unnamed patient'}</strong>
                  {c.unread > 0 && (
                    <Badge tone="accent" title="Unread messages">
                      {c.unread}
                    </Badge>
                  )}
                  <span class="conv-time">{c.lastAt ? when(c.lastAt) : ''}</span>
                </span>
                <span class="conv-sub">
                  {c.region} · {c.status === 'in_visit' ? 'in visit' : c.status}
                  {getDraft(c.visit) && shown?.visit !== c.visit && <span class="conv-draft"> · draft</span>}
                </span>
                <span class="conv-last">
                  {c.last ? `${c.lastFrom === 'patient' ? '' : 'Staff: '}${c.last}` : 'No messages yet'}
                </span>
              </button>
            </li>
          ))}
        </ul>
        <div class="conversation-pane">
          {shown ? (
            <>
              <div class="pane-head">
                <div>
                  <h2>{shown.name || 'Unnamed patient'}</h2>
                  <span class="muted">
                    {shown.region} · <StatusBadge status={shown.status} />
                  </span>
                </div>
                {role === 'provider' && shown.status === 'in_visit' && (
                  <button type="button" onClick={() => navigate({ name: 'visit', visit: shown.visit })}>
                    Open visit
                  </button>
                )}
              </div>
              <ErrorBanner message={chatError} />
              <ChatPanel
                key={shown.visit}
                visit={shown.visit}
                messages={messages}
                title={`Chat with ${shown.name || 'the patient'}`}
                onSent={() => {
                  void loadChat(shown.visit, false);
                  void loadList();
                }}
              />
            </>
          ) : (
            <p class="empty pane-empty">Choose a conversation on the left.</p>
          )}
        </div>
      </div>
    </div>
  );
}
