// The screens and how to reach them. Navigation is in-memory state held by the app shell.

export type Route =
  | { name: 'queue' }
  | { name: 'visit'; visit: string }
  | { name: 'chart'; patient?: string }
  | { name: 'chats' }
  | { name: 'regions' }
  | { name: 'inbox' }
  | { name: 'settings' };

export type Navigate = (to: Route) => void;

/** Where a caregiver lands after signing in: providers at the queue, others at the chats. */
export function home(role: string): Route {
  return role === 'provider' ? { name: 'queue' } : { name: 'chats' };
}
