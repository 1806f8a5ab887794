import type { ReactNode } from 'react';

/**
 * A scrolling box for a long table: focusable so keyboard users can scroll it, and named for
 * screen readers (axe: scrollable-region-focusable). `className` adds to 'table-scroll', e.g. a
 * chart's data-table alternative's 'chart-table-scroll'.
 */
export function ScrollRegion({ label, short, className, children }: { label: string; short?: boolean; className?: string; children: ReactNode }) {
  const classes = ['table-scroll', short ? 'short' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <div className={classes} tabIndex={0} role="region" aria-label={`${label} (scrollable)`}>
      {children}
    </div>
  );
}
