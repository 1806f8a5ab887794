// The run's per-layer widths (mixed precision, or widths set by hand) as the page shows and edits
// them: grouped by block, with the user's edits from the recipe's bitsByLayer over the run's widths
// and the average code bits those widths give. Pure: the component is MixedWidths.tsx.
import type { LayerQuantReport, LayerWidthReport } from '../core/compress/report';

export interface WidthRow {
  name: string;
  /** The run's width and where it came from. */
  ran: LayerWidthReport;
  /** What the next run will use for this layer when the user set it; undefined: the allocation's. */
  edited?: number;
  numel: number;
}

export interface WidthGroup {
  label: string;
  rows: WidthRow[];
}

/** The rows with a width, grouped by block in model order ('other' for layers outside blocks). */
export function widthGroups(rows: readonly LayerQuantReport[], bitsByLayer: Readonly<Record<string, number>> | undefined): WidthGroup[] {
  const groups = new Map<string, WidthRow[]>();
  for (const row of rows) {
    if (!row.width) continue;
    const label = row.block === null ? 'other' : `block ${row.block}`;
    const edited = bitsByLayer?.[row.name];
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push({ name: row.name, ran: row.width, numel: row.shape[0] * row.shape[1], ...(edited === undefined ? {} : { edited }) });
  }
  return [...groups].map(([label, rows]) => ({ label, rows }));
}

/** bitsByLayer with one layer set (or cleared, with `bits` undefined); undefined when nothing is left set. */
export function withLayerWidth(bitsByLayer: Readonly<Record<string, number>> | undefined, name: string, bits: number | undefined): Record<string, number> | undefined {
  const next: Record<string, number> = { ...bitsByLayer };
  if (bits === undefined) delete next[name];
  else next[name] = bits;
  return Object.keys(next).length === 0 ? undefined : next;
}

/** Average code bits per weight of the run's widths with the user's edits applied. */
export function averageWithEdits(groups: readonly WidthGroup[]): number {
  const rows = groups.flatMap((g) => g.rows);
  const numel = rows.reduce((s, r) => s + r.numel, 0);
  return numel === 0 ? 0 : rows.reduce((s, r) => s + (r.edited ?? r.ran.bits) * r.numel, 0) / numel;
}

/** The measured sensitivity of a row at `bits`, when the run measured it. */
export const sensitivityAt = (row: WidthRow, bits: number): number | undefined => row.ran.sensitivity?.find((s) => s.bits === bits)?.error;
