// A small drawing grid for an image classifier's input (the digits set's 8 × 8 pixels, raw values
// 0 … maxValue): each pixel is a button, so the drawing works with a mouse, a pen, a finger or the
// keyboard. Painting adds ink a step at a time (two strokes make a pixel fully dark, as the set's
// scanned digits have soft edges); the eraser, a right click or Shift clears a pixel.
import { useId, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import './attentionImage.css';

export interface DigitCanvasProps {
  /** Raw values, row-major, `height` × `width`. */
  pixels: readonly number[];
  height: number;
  width: number;
  /** The darkest value (the set's largest raw value: 16 for the digits). */
  maxValue: number;
  onChange: (pixels: number[]) => void;
}

type Tool = 'ink' | 'erase';

/** The pixels after one stroke of `tool` on pixel `index`: ink adds half the range, the eraser clears. */
export function paintPixel(pixels: readonly number[], index: number, tool: Tool, maxValue: number): number[] {
  const next = [...pixels];
  next[index] = tool === 'erase' ? 0 : Math.min(maxValue, next[index] + Math.ceil(maxValue / 2));
  return next;
}

const CELL_PX = 28;

export function DigitCanvas({ pixels, height, width, maxValue, onChange }: DigitCanvasProps) {
  const ids = useId();
  const [tool, setTool] = useState<Tool>('ink');
  const [focused, setFocused] = useState(0);
  const cells = useRef<(HTMLButtonElement | null)[]>([]);
  // The stroke under way: its tool and the pixels it already painted (each gets ink once per stroke).
  const stroke = useRef<{ tool: Tool; painted: Set<number> } | null>(null);
  const latest = useRef(pixels);
  latest.current = pixels;

  const paint = (index: number, how: Tool) => {
    const next = paintPixel(latest.current, index, how, maxValue);
    latest.current = next;
    onChange(next);
  };
  const strokeOver = (index: number) => {
    const s = stroke.current;
    if (!s || s.painted.has(index)) return;
    s.painted.add(index);
    paint(index, s.tool);
  };
  const pixelAt = (e: PointerEvent) => {
    // Touch and pen capture the pointer on the first button: find the pixel under it by position.
    const el = document.elementFromPoint(e.clientX, e.clientY);
    const index = el instanceof HTMLElement ? el.dataset.pixel : undefined;
    return index === undefined ? undefined : Number(index);
  };
  const onPointerDown = (e: PointerEvent, index: number) => {
    e.preventDefault(); // no text selection or focus jump while dragging
    stroke.current = { tool: e.button === 2 || e.shiftKey ? 'erase' : tool, painted: new Set() };
    setFocused(index);
    strokeOver(index);
  };
  const onPointerMove = (e: PointerEvent) => {
    const index = stroke.current ? pixelAt(e) : undefined;
    if (index !== undefined) strokeOver(index);
  };
  const moveFocus = (index: number) => {
    setFocused(index);
    cells.current[index]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent, index: number) => {
    const [row, col] = [Math.floor(index / width), index % width];
    const to: Record<string, number | undefined> = {
      ArrowUp: row > 0 ? index - width : undefined,
      ArrowDown: row < height - 1 ? index + width : undefined,
      ArrowLeft: col > 0 ? index - 1 : undefined,
      ArrowRight: col < width - 1 ? index + 1 : undefined,
      Home: row * width,
      End: row * width + width - 1,
    };
    if (e.key in to) {
      e.preventDefault();
      if (to[e.key] !== undefined) moveFocus(to[e.key]!);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      paint(index, 'erase');
    }
  };

  return (
    <div className="digit-canvas">
      <p id={`${ids}-help`} className="field-hint">
        Click or drag to add ink (twice for full ink); the eraser, a right click or Shift-drag clears. Keyboard: arrow keys move, Space or Enter adds ink (Shift: clears), Delete clears.
      </p>
      <div className="digit-canvas-tools">
        <span role="radiogroup" aria-label="Drawing tool" className="digit-canvas-tools">
          {(['ink', 'erase'] as const).map((t) => (
            <label key={t} className="field check">
              <input type="radio" name={`${ids}-tool`} checked={tool === t} onChange={() => setTool(t)} />
              {t === 'ink' ? 'Ink' : 'Eraser'}
            </label>
          ))}
        </span>
        <button type="button" onClick={() => onChange(Array(pixels.length).fill(0))}>
          Clear
        </button>
      </div>
      <div
        className="digit-canvas-grid"
        role="group"
        aria-label={`Drawing, ${height} × ${width} pixels`}
        aria-describedby={`${ids}-help`}
        style={{ gridTemplateColumns: `repeat(${width}, ${CELL_PX}px)` }}
        onPointerMove={onPointerMove}
        onPointerUp={() => (stroke.current = null)}
        onPointerLeave={() => (stroke.current = null)}
        onPointerCancel={() => (stroke.current = null)}
        onContextMenu={(e) => e.preventDefault()}
        data-testid="digit-canvas"
      >
        {pixels.map((value, index) => {
          const level = Math.round(255 * (1 - Math.min(1, value / maxValue)));
          return (
            <button
              key={index}
              ref={(el) => {
                cells.current[index] = el;
              }}
              type="button"
              className="digit-canvas-pixel"
              data-pixel={index}
              data-value={value}
              tabIndex={index === focused ? 0 : -1}
              aria-label={`row ${Math.floor(index / width) + 1}, column ${(index % width) + 1}: ${value} of ${maxValue}`}
              style={{ background: `rgb(${level},${level},${level})` }}
              onPointerDown={(e) => onPointerDown(e, index)}
              // A pointer paints on pointerdown; a click with detail 0 is the keyboard's Space or Enter.
              onClick={(e) => e.detail === 0 && paint(index, e.shiftKey || tool === 'erase' ? 'erase' : 'ink')}
              onKeyDown={(e) => onKeyDown(e, index)}
              onFocus={() => setFocused(index)}
            />
          );
        })}
      </div>
    </div>
  );
}
