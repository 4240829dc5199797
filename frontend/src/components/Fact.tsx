import type { ComponentChildren } from 'preact';

/** One labelled value of a facts list (`<dl class="facts">`): born, region, provider... */
export function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
