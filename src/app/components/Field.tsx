import { useId, type ReactNode } from 'react';
import { Explain } from './Explain';

export interface FieldControlProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/**
 * A labelled control with an optional explanation and an inline error. The <label> holds only the
 * visible text, so the control's accessible name is exactly what the user reads.
 */
export function Field({ label, explain, href, error, hint, children, className }: { label: string; explain?: string; href?: string; error?: string; hint?: ReactNode; children: (props: FieldControlProps) => ReactNode; className?: string }) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className={`field ${error ? 'invalid' : ''} ${className ?? ''}`}>
      <span className="field-label">
        <label htmlFor={id} id={`${id}-label`}>
          {label}
        </label>
        {explain && <Explain about={label.toLowerCase()} text={explain} href={href} />}
      </span>
      {children({ id, ...(error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {}) })}
      {hint && <span className="field-hint">{hint}</span>}
      {error && (
        <span className="field-error" id={errorId} data-testid="field-error">
          {error}
        </span>
      )}
    </div>
  );
}
