import type { ReactNode } from 'react';

/** A scrolling box for a long table: focusable so keyboard users can scroll it (axe: scrollable-region-focusable). */
export function ScrollRegion({ label, short, children }: { label: string; short?: boolean; children: ReactNode }) {
  return (
    <div className={short ? 'table-scroll short' : 'table-scroll'} tabIndex={0} role="region" aria-label={`${label} (scrollable)`}>
      {children}
    </div>
  );
}
