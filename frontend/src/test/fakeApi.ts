// A stand-in for src/api.ts in tests: every Go call is a vi.fn, and events are delivered by
// emit(). Use it with
//
//   vi.mock('../api', () => import('./fakeApi'));
//
// and call resetApi() in beforeEach.

import { act } from 'preact/test-utils';
import { vi, type Mock } from 'vitest';
import type * as Api from '../api';
import { inbox, session, syncStatus } from './fixtures';

type Service<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? Mock<(...args: A) => R> : never };

function service<T extends object>(names: (keyof T)[]): Service<T> {
  const s = {} as Record<keyof T, Mock>;
  for (const n of names) s[n] = vi.fn();
  return s as unknown as Service<T>;
}

export const Session = service<typeof Api.Session>(['State', 'SignIn', 'SignOut', 'Lock', 'Unlock', 'Touch', 'Settings', 'SaveSettings']);
export const Sync = service<typeof Api.Sync>(['Status']);
export const Queue = service<typeof Api.Queue>(['View', 'Claim', 'SetOnShift']);
export const Visits = service<typeof Api.Visits>(['Open', 'View', 'SendChat', 'SaveNote', 'AddObservation', 'End', 'Release', 'MarkRead']);
export const Charts = service<typeof Api.Charts>(['Open', 'View', 'Search']);
export const Chats = service<typeof Api.Chats>(['List', 'Chat']);
export const Regions = service<typeof Api.Regions>(['List', 'Save']);
export const Inbox = service<typeof Api.Inbox>(['View', 'Resolve']);

const services: Record<string, Record<string, Mock>> = { Session, Sync, Queue, Visits, Charts, Chats, Regions, Inbox } as never;

const listeners = new Map<string, Set<(payload: unknown) => void>>();

export function onEvent<K extends Api.EventName>(name: K, fn: (payload: Api.Events[K]) => void): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  const f = fn as (payload: unknown) => void;
  set.add(f);
  return () => {
    set.delete(f);
  };
}

/** Delivers an event from "Go" to every subscriber, inside act() so that screens re-render. */
export function emit<K extends Api.EventName>(name: K, payload: Api.Events[K]): void {
  act(() => {
    listeners.get(name)?.forEach((fn) => fn(payload));
  });
}

/** How many subscribers an event has (to check that screens unsubscribe). */
export function listenerCount(name: Api.EventName): number {
  return listeners.get(name)?.size ?? 0;
}

/**
 * Resets every mock: calls not set up by a test reject with "not mocked: Service.Method",
 * except the few every screen makes in passing.
 */
export function resetApi(): void {
  listeners.clear();
  for (const [svc, fns] of Object.entries(services)) {
    for (const [name, fn] of Object.entries(fns)) {
      fn.mockReset();
      fn.mockImplementation(() => Promise.reject(new Error(`not mocked: ${svc}.${name}`)));
    }
  }
  Session.State.mockResolvedValue(session());
  Session.Touch.mockResolvedValue(undefined);
  Sync.Status.mockResolvedValue(syncStatus());
  Inbox.View.mockResolvedValue(inbox());
  Visits.MarkRead.mockResolvedValue(undefined);
}
