import { useState } from 'react';
import type { FieldControlProps } from './Field';

/** A number input that keeps what the user typed (e.g. "" or "1.") while it is not yet a number. */
export function NumberInput({ value, onChange, props, step, min, max, testId, scale = 1 }: { value: number; onChange: (v: number) => void; props: FieldControlProps; step: number; min?: number; max?: number; testId?: string; scale?: number }) {
  const [draft, setDraft] = useState<string>();
  const shown = draft ?? (Number.isFinite(value) ? String(Number((value * scale).toPrecision(10))) : '');
  return (
    <input
      {...props}
      type="number"
      inputMode="decimal"
      value={shown}
      step={step}
      min={min}
      max={max}
      data-testid={testId}
      onChange={(e) => {
        setDraft(e.target.value);
        onChange(e.target.value === '' ? NaN : Number(e.target.value) / scale);
      }}
      onBlur={() => setDraft(undefined)}
    />
  );
}

