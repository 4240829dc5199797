import { act } from 'preact/test-utils';

/**
 * Waits for effects scheduled outside act() to run. @testing-library/preact's findBy/waitFor
 * do not keep renders inside act(), so a render caused by a resolved promise schedules its
 * effects (event listeners, subscriptions) on the next animation frame.
 */
export async function settle(ms = 50): Promise<void> {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}
