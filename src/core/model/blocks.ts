// Transformer block indices: from module names when the export kept them ('layers.3', '/h.0/'),
// else from structure — attention sites in topological order are blocks 0, 1, ...; a linear
// layer belongs to the block whose first projection precedes it most closely.
import { blockFromName, modulePathFromNode } from './names.ts';
import type { AttentionSite, BlockInfo, LinearLayer } from './types.ts';

export interface BlockAssignment {
  linears: LinearLayer[];
  attention: AttentionSite[];
  blocks: BlockInfo[];
  source: 'name' | 'structure' | 'none';
}

function linearNameBlock(layer: LinearLayer): number | null {
  return blockFromName(layer.nodeName) ?? blockFromName(layer.weight);
}

const IN_BLOCK_ROLE = /^(attn|mlp)\./;

function maxOf(values: Iterable<number>, empty: number): number {
  // A loop, not Math.max(...values): a spread of 10⁵ arguments overflows the stack.
  let max = empty;
  for (const value of values) if (value > max) max = value;
  return max;
}

interface Segments {
  /** Segment starts ascending, and the site each belongs to (the later site on equal starts). */
  starts: number[];
  sites: number[];
  lastEnd: number;
}

/** Start of each site's segment (its earliest Q/K/V projection) and where the last one ends. */
function segments(sites: readonly AttentionSite[], linears: readonly LinearLayer[]): Segments {
  const orderOf = new Map(linears.map((layer) => [layer.id, layer.order]));
  const starts = sites.map((site) => {
    let start = site.order;
    for (const id of [site.q, site.k, site.v]) start = Math.min(start, orderOf.get(id ?? '') ?? site.order);
    return start;
  });
  const lastStart = starts.length > 0 ? maxOf(starts, -Infinity) : Infinity;
  // The last block ends at its last attention/MLP layer; what follows (pooler, head) is outside.
  const lastEnd = Math.max(
    maxOf(sites.map((site) => site.order), -Infinity),
    maxOf(linears.filter((l) => l.order >= lastStart && IN_BLOCK_ROLE.test(l.role)).map((l) => l.order), -Infinity),
  );
  const bySite = starts.map((_, k) => k).sort((a, b) => starts[a] - starts[b] || a - b);
  return { starts: bySite.map((k) => starts[k]), sites: bySite, lastEnd };
}

/**
 * Index of the site whose segment holds `order` — the latest start at or before it — or null
 * (before the first, after the last). A binary search, so placing every layer is O(L log S).
 */
function segmentOf(order: number, seg: Segments): number | null {
  if (order > seg.lastEnd) return null;
  let lo = 0;
  let hi = seg.starts.length; // first start > order
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seg.starts[mid] <= order) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : seg.sites[lo - 1];
}

export function assignBlocks(linears: readonly LinearLayer[], sites: readonly AttentionSite[]): BlockAssignment {
  const byOrder = [...sites].sort((a, b) => a.order - b.order);
  const byId = new Map(linears.map((layer) => [layer.id, layer]));
  const usingNames =
    linears.some((layer) => linearNameBlock(layer) !== null) || byOrder.some((s) => blockFromName(s.softmaxNode) !== null);
  const attention = byOrder.map((site, k) => {
    const q = site.q === null ? undefined : byId.get(site.q);
    const named = blockFromName(site.softmaxNode) ?? (q ? linearNameBlock(q) : null);
    return { ...site, block: named ?? (usingNames ? null : k) };
  });
  const seg = segments(attention, linears);
  const assigned = linears.map((layer) => {
    if (layer.role === 'head' || layer.role === 'embed') return { ...layer, block: null };
    const named = linearNameBlock(layer);
    // A layer whose name has a scope but no block index (a pooler) is outside the blocks; only
    // unscoped layers fall back to structure.
    if (named !== null || (usingNames && modulePathFromNode(layer.nodeName) !== '')) return { ...layer, block: named };
    const k = segmentOf(layer.order, seg);
    return { ...layer, block: k === null ? null : attention[k].block };
  });
  const source = usingNames ? 'name' : attention.length > 0 ? 'structure' : 'none';
  return { linears: assigned, attention, blocks: collectBlocks(assigned, attention), source };
}

function collectBlocks(linears: readonly LinearLayer[], sites: readonly AttentionSite[]): BlockInfo[] {
  const blocks = new Map<number, BlockInfo>();
  const get = (index: number) => {
    if (!blocks.has(index)) blocks.set(index, { index, linears: [], attention: [] });
    return blocks.get(index)!;
  };
  for (const layer of [...linears].sort((a, b) => a.order - b.order)) {
    if (layer.block !== null) get(layer.block).linears.push(layer.id);
  }
  for (const site of sites) if (site.block !== null) get(site.block).attention.push(site.softmaxNode);
  return [...blocks.values()].sort((a, b) => a.index - b.index);
}
