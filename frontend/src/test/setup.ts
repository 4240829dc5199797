import { cleanup } from '@testing-library/preact';
import { afterEach, vi } from 'vitest';

// Vitest runs without globals, so testing-library's automatic cleanup does not register.
afterEach(async () => {
  await cleanup();
  vi.useRealTimers();
});
