import { useLab } from '../store';

/** Announces finished and failed runs to screen readers (polite: after what is being read). */
export function LiveRegion() {
  const text = useLab((s) => s.announcement);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
      {text}
    </div>
  );
}
