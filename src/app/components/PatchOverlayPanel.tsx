// Beside the ViT's zoomed map: the input digit with its patch grid shaded by the zoomed head's
// attention (charts/patchOverlay.ts). It follows the map's hover; the select does the same from
// the keyboard (the map itself is a mouse target), and hovering the map overrides it while it lasts.
import { useMemo, useState } from 'react';
import type { PatchLayout } from '../../core/attention/patches';
import type { HeadMap, MapHover } from '../charts/attentionMap';
import { overlayWeights, patchOverlayChart, patchOverlayDims } from '../charts/patchOverlay';
import { D3Chart } from './D3Chart';
import './attentionImage.css';

/** The image the maps were captured for, and how its tokens tile it. */
export interface PatchDigit {
  image: number[];
  shape: number[];
  maxValue: number;
  layout: PatchLayout;
}

const nothing: MapHover = { query: null, key: null };

const encode = (h: MapHover) => (h.query !== null ? `q${h.query}` : h.key !== null ? `k${h.key}` : 'mean');
const decode = (value: string): MapHover => (value[0] === 'q' ? { query: Number(value.slice(1)), key: null } : value[0] === 'k' ? { query: null, key: Number(value.slice(1)) } : nothing);

export function PatchOverlayPanel({ map, labels, sinks, digit, hover }: { map: HeadMap; labels: string[]; sinks: number[]; digit: PatchDigit; hover: MapHover }) {
  const [chosen, setChosen] = useState<MapHover>(nothing);
  const shown = hover.query !== null || hover.key !== null ? hover : chosen;
  // The caller builds `map` afresh each render; its data are the probabilities and the offset.
  const weights = useMemo(() => overlayWeights(map, shown), [map.probabilities, map.offset, shown.query, shown.key]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="patch-overlay-panel" data-testid="patch-overlay">
      <label className="field">
        Shade the digit by (hovering the map overrides this)
        <select value={encode(chosen)} onChange={(e) => setChosen(decode(e.target.value))}>
          <option value="mean">mean attention each token receives</option>
          <optgroup label="where a query attends (its row)">
            {labels.map((label, t) => (
              <option key={t} value={`q${t}`}>
                query {label}
              </option>
            ))}
          </optgroup>
          <optgroup label="who attends to a key (its column)">
            {labels.map((label, t) => (
              <option key={t} value={`k${t}`}>
                key {label}
              </option>
            ))}
          </optgroup>
        </select>
      </label>
      <D3Chart render={(doc) => patchOverlayChart({ ...digit, labels, weights, hover: shown, sinks }, patchOverlayDims(), doc)} deps={[digit, weights, sinks, labels]} />
      <p className="field-hint">Hover a query (row) or a key (column) of the map to see it here.</p>
    </div>
  );
}
