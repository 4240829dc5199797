import type { SessionState } from '../api';
import { roleLabel } from '../lib/format';
import type { Navigate, Route } from '../route';
import { Logo } from './Icons';

type Item = { key: Route['name']; label: string; to: Route };

function items(role: string): Item[] {
  const queue: Item = { key: 'queue', label: 'Queue', to: { name: 'queue' } };
  const chats: Item = { key: 'chats', label: 'Chats', to: { name: 'chats' } };
  const rest: Item[] = [
    { key: 'chart', label: 'Charts', to: { name: 'chart' } },
    { key: 'regions', label: 'Regions', to: { name: 'regions' } },
    { key: 'inbox', label: 'Conflict inbox', to: { name: 'inbox' } },
    { key: 'settings', label: 'Settings', to: { name: 'settings' } },
  ];
  // Providers start from the queue; support staff and admins from the chats.
  return role === 'provider' ? [queue, chats, ...rest] : [chats, queue, ...rest];
}

/** Which nav item a route belongs to (a visit is reached from the queue). */
function section(route: Route): Route['name'] {
  return route.name === 'visit' ? 'queue' : route.name;
}

export function Nav({ session, route, navigate, conflicts }: {
  session: SessionState;
  route: Route;
  navigate: Navigate;
  conflicts: number;
}) {
  const current = section(route);
  return (
    <nav class="nav" aria-label="Main">
      <div class="nav-brand">
        <Logo size={30} />
        <span>
          <strong>Hearth</strong>
          <span class="nav-clinic">{session.clinic}</span>
        </span>
      </div>
      <ul class="nav-list">
        {items(session.role).map((it) => (
          <li key={it.key}>
            <button
              type="button"
              class={`nav-item ${current === it.key ? 'active' : ''}`}
              aria-current={current === it.key ? 'page' : undefined}
              data-testid={`nav-${it.key}`}
              onClick={() => navigate(it.to)}
            >
              <span>{it.label}</span>
              {it.key === 'inbox' && conflicts > 0 && (
                <span class="count" data-testid="nav-inbox-count" aria-label={`${conflicts} conflicts`}>
                  {conflicts}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      <div class="nav-user">
        <div class="nav-user-name">{session.name || session.user}</div>
        <div class="nav-user-role">{roleLabel(session.role)}</div>
      </div>
    </nav>
  );
}
