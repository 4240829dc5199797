import { useEffect, useRef, useState } from 'preact/hooks';
import { Session, Sync, onEvent, type SessionState } from './api';
import { ErrorBanner } from './components/ErrorBanner';
import { Nav } from './components/Nav';
import { StatusBar } from './components/StatusBar';
import { clearDrafts } from './lib/drafts';
import { errorText } from './lib/format';
import { useEvent } from './lib/hooks';
import { home, type Route } from './route';
import { ChartScreen } from './screens/Chart';
import { ChatsScreen } from './screens/Chats';
import { InboxScreen } from './screens/Inbox';
import { LockScreen } from './screens/Lock';
import { QueueScreen } from './screens/Queue';
import { RegionsScreen } from './screens/Regions';
import { SettingsScreen } from './screens/Settings';
import { SignInScreen } from './screens/SignIn';
import { VisitScreen } from './screens/Visit';

/** Session.Touch() is called at most this often while the caregiver is active. */
export const TOUCH_EVERY_MS = 15_000;

/** Tells Go about keyboard and mouse activity (throttled) so that the screen does not lock. */
function useActivity(active: boolean): void {
  const last = useRef(0);
  useEffect(() => {
    if (!active) return;
    const onActivity = () => {
      const now = Date.now();
      if (now - last.current < TOUCH_EVERY_MS) return;
      last.current = now;
      Session.Touch().catch(() => {});
    };
    const kinds = ['keydown', 'mousedown', 'mousemove'] as const;
    kinds.forEach((k) => window.addEventListener(k, onActivity, { capture: true, passive: true }));
    return () => kinds.forEach((k) => window.removeEventListener(k, onActivity, { capture: true }));
  }, [active]);
}

/**
 * The number of note versions waiting in the conflict inbox, for its badge in the navigation:
 * Go keeps the count in the sync status and sends it with every change.
 */
function useConflictCount(active: boolean): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!active) {
      setCount(0);
      return;
    }
    let live = true;
    Sync.Status()
      .then((s) => {
        if (live) setCount(s.conflicts ?? 0);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [active]);
  useEvent('sync', (s) => {
    if (active) setCount(s.conflicts ?? 0);
  });
  return count;
}

/** The app shell: sign-in, the lock screen, or the navigation, a screen and the status bar. */
export function App() {
  const [session, setSession] = useState<SessionState | null>(null);
  const [startError, setStartError] = useState('');
  // The route belongs to whoever is signed in: someone new starts at their role's home.
  const [nav, setNav] = useState<{ who: string; route: Route } | null>(null);
  const user = useRef('');

  useEffect(() => {
    let evented = false;
    const off = onEvent('session', (s) => {
      evented = true;
      setSession(s);
    });
    Session.State()
      .then((s) => {
        if (!evented) setSession(s);
      })
      .catch((e) => setStartError(errorText(e)));
    return off;
  }, []);

  const who = session?.signedIn ? `${session.clinic}/${session.user}` : '';
  const route: Route = nav && nav.who === who ? nav.route : home(session?.role ?? '');
  const navigate = (to: Route) => setNav({ who, route: to });

  // Chat drafts stay in memory only while the same person is signed in.
  useEffect(() => {
    if (user.current && who !== user.current) clearDrafts();
    user.current = who;
  }, [who]);

  const active = !!session?.signedIn && !session.locked;
  useActivity(active);
  const conflicts = useConflictCount(active);

  if (!session) {
    return (
      <main class="auth-page">
        {startError ? <ErrorBanner message={startError} /> : <p class="loading">Opening Hearth…</p>}
      </main>
    );
  }

  if (!session.signedIn) {
    return <SignInScreen initial={session} onSignedIn={setSession} />;
  }

  if (session.locked) {
    return (
      <div class="shell shell-locked">
        <LockScreen session={session} onUnlocked={setSession} />
        <StatusBar onOpenInbox={() => {}} />
      </div>
    );
  }

  return (
    <div class="shell">
      <Nav session={session} route={route} navigate={navigate} conflicts={conflicts} />
      <main class="main" id="main">
        <ErrorBanner message={session.problem} />
        {screen(route, session, navigate, setSession)}
      </main>
      <StatusBar onOpenInbox={() => navigate({ name: 'inbox' })} />
    </div>
  );
}

function screen(route: Route, session: SessionState, navigate: (to: Route) => void, onSession: (s: SessionState) => void) {
  switch (route.name) {
    case 'queue':
      return <QueueScreen role={session.role} navigate={navigate} />;
    case 'visit':
      return <VisitScreen key={route.visit} visit={route.visit} role={session.role} navigate={navigate} />;
    case 'chart':
      return <ChartScreen key={route.patient ?? ''} patient={route.patient} navigate={navigate} />;
    case 'chats':
      return <ChatsScreen role={session.role} navigate={navigate} />;
    case 'regions':
      return <RegionsScreen />;
    case 'inbox':
      return <InboxScreen navigate={navigate} />;
    case 'settings':
      return <SettingsScreen session={session} onSession={onSession} />;
  }
}
