// Guided tours: a "Tours" menu in the header, and the walked tour's step as a non-modal dialog
// (the page stays usable, so a step can be run). Focus moves to each step's panel; Escape closes
// and gives focus back to the menu; the step's target gets a visible outline while on screen.
import { useEffect, useId, useRef, useState } from 'react';
import { closeTour, openTourStep, startTour } from '../shareController';
import { runRecipe } from '../runController';
import { useLab } from '../store';
import { findTour, tours, type TourStep } from '../tours';
import './share.css';

/** Outlines the step's target whenever it is on screen (it may appear only after a run or a tab change). Targets are the tours' own ids (a-z, dashes). */
function useHighlight(target: string): boolean {
  const [found, setFound] = useState(false);
  useEffect(() => {
    let marked: Element | null = null;
    let scrolled = false;
    const mark = () => {
      const element = (target ? document.querySelector(`[data-testid="${target}"]`) : null);
      if (element === marked) return;
      marked?.removeAttribute('data-tour-target');
      marked = element;
      element?.setAttribute('data-tour-target', '');
      if (element && !scrolled) {
        element.scrollIntoView?.({ block: 'nearest' });
        scrolled = true;
      }
      setFound(element !== null);
    };
    mark();
    const timer = setInterval(mark, 400);
    return () => {
      clearInterval(timer);
      marked?.removeAttribute('data-tour-target');
    };
  }, [target]);
  return found;
}

function StepBody({ step, found }: { step: TourStep; found: boolean }) {
  const running = useLab((s) => s.runs.some((r) => r.status === 'running'));
  const ready = useLab((s) => s.model.status === 'ready');
  return (
    <>
      <p>{step.text}</p>
      {!found && <p className="muted">The highlighted part appears once the recipe has run (or the page has loaded).</p>}
      {step.run && (
        <button type="button" className="tour-run" disabled={!ready || running} onClick={() => void runRecipe()}>
          {running ? 'Running…' : 'Run this recipe'}
        </button>
      )}
    </>
  );
}

export function TourDialog({ returnFocus }: { returnFocus: () => void }) {
  const walking = useLab((s) => s.tour);
  const tour = walking && findTour(walking.id);
  const step = tour?.steps[walking!.step];
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const found = useHighlight(step?.target ?? '');
  const close = () => {
    closeTour();
    returnFocus();
  };
  useEffect(() => {
    if (!walking) return;
    panel.current?.focus();
  }, [walking?.id, walking?.step]);
  useEffect(() => {
    if (!walking) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });
  if (!walking || !tour || !step) return null;
  const last = walking.step === tour.steps.length - 1;
  return (
    <div className="tour-dialog" role="dialog" aria-labelledby={titleId} aria-describedby={`${titleId}-where`} ref={panel} tabIndex={-1} data-testid="tour-dialog" data-step={walking.step}>
      <p className="tour-where muted" id={`${titleId}-where`}>
        {tour.title} — step {walking.step + 1} of {tour.steps.length}
      </p>
      <h2 id={titleId}>{step.title}</h2>
      <StepBody step={step} found={found} />
      <div className="row tour-buttons">
        <button type="button" disabled={walking.step === 0} onClick={() => openTourStep(tour.id, walking.step - 1)}>
          Back
        </button>
        {last ? (
          <button type="button" onClick={close}>
            Finish
          </button>
        ) : (
          <button type="button" onClick={() => openTourStep(tour.id, walking.step + 1)}>
            Next
          </button>
        )}
        <button type="button" onClick={close} aria-label="Close the tour">
          Close
        </button>
      </div>
    </div>
  );
}

/** The header's menu of tours; a tour also starts from the address (`#tour=<id>`). */
export function ToursMenu() {
  const menu = useRef<HTMLDetailsElement>(null);
  const start = (id: string) => {
    if (menu.current) menu.current.open = false;
    startTour(id);
  };
  return (
    <>
      <details className="tours-menu" ref={menu} data-testid="tours-menu">
        <summary>Tours</summary>
        <ul>
          {tours.map((t) => (
            <li key={t.id}>
              <button type="button" onClick={() => start(t.id)}>
                {t.title}
              </button>{' '}
              <a href={`#tour=${t.id}`} className="muted" aria-label={`Link to the tour “${t.title}”`}>
                link
              </a>
            </li>
          ))}
        </ul>
      </details>
      <TourDialog returnFocus={() => menu.current?.querySelector('summary')?.focus()} />
    </>
  );
}
