import { useLayoutEffect, useRef, useState, type RefObject } from 'react';

/**
 * The content width of an element, in whole px, kept current by a ResizeObserver; undefined until
 * the first layout. Whole px, so a sub-pixel change does not redraw a chart.
 */
export function useElementWidth<T extends HTMLElement>(): [RefObject<T | null>, number | undefined] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState<number>();
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(Math.floor(el.clientWidth));
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry.contentRect.width)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
