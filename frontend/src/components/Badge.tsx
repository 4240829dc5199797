import type { ComponentChildren } from 'preact';
import { statusLabel } from '../lib/format';

export type Tone = 'neutral' | 'ok' | 'warn' | 'danger' | 'accent' | 'muted';

export function Badge({ tone = 'neutral', title, children, testid }: {
  tone?: Tone;
  title?: string;
  testid?: string;
  children: ComponentChildren;
}) {
  return (
    <span class={`badge badge-${tone}`} title={title} data-testid={testid}>
      {children}
    </span>
  );
}

const modeTones: Record<string, Tone> = { open: 'ok', busy: 'warn', paused: 'danger' };

/** A region's mode: open, busy or paused. */
export function ModeBadge({ mode }: { mode: string }) {
  return <Badge tone={modeTones[mode] ?? 'muted'}>{mode || 'not set'}</Badge>;
}

const statusTones: Record<string, Tone> = {
  waiting: 'warn', in_visit: 'accent', completed: 'ok', cancelled: 'muted', no_show: 'muted', requested: 'neutral',
};

/** A visit's status. */
export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTones[status] ?? 'neutral'}>{statusLabel(status)}</Badge>;
}
