import type { ComponentChildren } from 'preact';

/** Go's error text, shown next to the action that failed. Renders nothing without a message. */
export function ErrorBanner({ message, testid = 'error-banner', children }: {
  message: string;
  testid?: string;
  children?: ComponentChildren;
}) {
  if (!message) return null;
  return (
    <div class="banner banner-error" role="alert" data-testid={testid}>
      <span class="banner-text">{message}</span>
      {children && <span class="banner-actions">{children}</span>}
    </div>
  );
}
