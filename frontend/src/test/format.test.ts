import { describe, expect, it } from 'vitest';
import { age, ago, duration, errorText, estimate, kindLabel, pendingText } from '../lib/format';

describe('format', () => {
  const now = new Date(2026, 10, 24, 12, 0).getTime();

  it('ages from a birth date', () => {
    expect(age('1990-12-10', now)).toBe('35 years');
    expect(age('1990-11-24', now)).toBe('36 years');
    expect(age('2025-01-20', now)).toBe('22 months');
    expect(age('2026-11-10', now)).toBe('14 days');
    expect(age('not a date', now)).toBe('');
    expect(age('', now)).toBe('');
  });

  it('formats waits and estimates', () => {
    expect(duration(30_000)).toBe('under 1 min');
    expect(duration(12 * 60_000 + 59_000)).toBe('12 min');
    expect(duration(65 * 60_000)).toBe('1 h 05 min');
    expect(estimate(25 * 60_000)).toBe('~25 min');
    expect(estimate(0)).toBe('next');
    expect(estimate(40_000)).toBe('~1 min');
    expect(estimate(90 * 60_000)).toBe('~1 h 30 min');
    expect(estimate(-1)).toBe('unknown');
  });

  it('says how long ago', () => {
    expect(ago(now - 10_000, now)).toBe('just now');
    expect(ago(now - 2 * 60_000, now)).toBe('2 min ago');
    expect(ago(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(ago(now - 3 * 86_400_000, now)).toBe('3 days ago');
  });

  it('counts pending changes', () => {
    expect(pendingText(0)).toBe('All changes synced');
    expect(pendingText(1)).toBe('1 change not yet synced');
    expect(pendingText(3)).toBe('3 changes not yet synced');
  });

  it('reads rejected Go calls', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
    expect(errorText({ message: 'obj' })).toBe('obj');
  });

  it('names observation kinds', () => {
    expect(kindLabel('heart_rate')).toBe('Heart rate');
    expect(kindLabel('new_kind')).toBe('New kind');
  });
});
