import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onEvent, type Changed, type EventName, type Events } from '../api';
import { errorText } from './format';

/** Subscribes to a Go event for the component's lifetime; fn may change between renders. */
export function useEvent<K extends EventName>(name: K, fn: (payload: Events[K]) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => onEvent(name, (p) => ref.current(p)), [name]);
}

/** Calls fn on "changed" events that touch any of tables (or, if given, any of visits). */
export function useChanged(tables: string[], fn: (c: Changed) => void, visits?: () => string[]): void {
  useEvent('changed', (c) => {
    const t = c.tables ?? [];
    const v = c.visits ?? [];
    const ids = visits?.() ?? [];
    if (t.some((x) => tables.includes(x)) || v.some((x) => ids.includes(x))) fn(c);
  });
}

/**
 * Calls fn when the connection goes online or offline (and on the first "sync" event after
 * mounting, since the screen's data may predate it): what Go computes from it (claiming,
 * releasing) changes without a "changed" event.
 */
export function useOnlineChange(fn: () => void): void {
  const last = useRef<boolean | null>(null);
  useEvent('sync', (s) => {
    if (last.current !== s.online) {
      last.current = s.online;
      fn();
    }
  });
}

/** Runs fn every ms milliseconds while mounted. */
export function useInterval(fn: () => void, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}

/** The current time, updated every ms milliseconds (for "waited 12 min" and "2 min ago"). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), ms);
  return now;
}

/**
 * Loads data from Go, keeping only the newest answer when calls overlap, and the error
 * text of the newest failure.
 */
export function useLoader<T>(fetch: () => Promise<T>): {
  data: T | null;
  error: string;
  load: () => Promise<void>;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const seq = useRef(0);
  const alive = useRef(true);
  const fetchRef = useRef(fetch);
  fetchRef.current = fetch;
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  const load = useCallback(async () => {
    const n = ++seq.current;
    try {
      const d = await fetchRef.current();
      if (alive.current && n === seq.current) {
        setData(d);
        setError('');
      }
    } catch (e) {
      if (alive.current && n === seq.current) setError(errorText(e));
    }
  }, []);
  return { data, error, load };
}
