import { useEffect, useRef } from 'react';

/** Mounts an SVG produced by a chart function `(document) => SVGElement` and replaces it on change. */
export function D3Chart({ render, deps }: { render: (doc: Document) => SVGElement; deps: unknown[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    el.replaceChildren(render(document));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return <div ref={host} className="chart" />;
}
