import { useLab } from '../store';

export function ErrorBanner() {
  const error = useLab((s) => s.loadError);
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-testid="load-error">
      <strong>Could not load {error.fileName}.</strong> {error.message}
      <button type="button" aria-label="Dismiss" onClick={() => useLab.setState({ loadError: undefined })}>
        ×
      </button>
    </div>
  );
}
