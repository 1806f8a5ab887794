import { useId } from 'react';

/**
 * A one-sentence explanation on hover or keyboard focus: a small "?" button described by a tooltip.
 * The button's accessible name says what it explains, so screen readers hear "About perplexity".
 */
export function Explain({ about, text, href }: { about: string; text: string; href?: string }) {
  const id = useId();
  return (
    <span className="explain">
      <button type="button" className="explain-button" aria-label={`About ${about}`} aria-describedby={id}>
        ?
      </button>
      <span role="tooltip" id={id} className="explain-tip">
        {text}
        {href && (
          <>
            {' '}
            <a href={href} target="_blank" rel="noreferrer">
              More in the docs
            </a>
          </>
        )}
      </span>
    </span>
  );
}
