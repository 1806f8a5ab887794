// Where a ViT's tokens come from in its input image: which token is the class token and which
// patch of the image each other token embeds, so the attention view can label tokens "CLS",
// "r0c0" … and draw them over the image. Derived from the model card's architecture
// (patchSize, clsToken) and the image shape, or — for a model without a card — from the image
// shape and the token count alone; when neither fits, there is no layout and the view falls back
// to token indices.
//
// Token order, as the bundled ViT's patchify makes it (scripts/train/digits_vit.py: reshape to
// (B, rows, p, cols, p), permute to (B, rows, cols, p, p)) and as a stride-p Conv2d followed by
// flatten(2) makes it in most ViT exports: the class token first (Dosovitskiy et al. 2021,
// torch.cat([cls, patches])), then the patches row-major.

export interface PatchLayout {
  /** Patches per column and per row of the image. */
  gridRows: number;
  gridCols: number;
  /** Pixels per patch, vertically and horizontally. */
  patchHeight: number;
  patchWidth: number;
  /** Whether token 0 is a class token (then patch k is token k + 1). */
  clsToken: boolean;
}

/** The parts of a model card's `architecture` this reads; anything else is ignored. */
export interface PatchArchitecture {
  patchSize?: unknown;
  clsToken?: unknown;
}

const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** The [height, width] of an image of shape [..., height, width], or undefined. */
function imageSide(shape: readonly number[]): [number, number] | undefined {
  if (shape.length < 2) return undefined;
  const [height, width] = shape.slice(-2);
  return positiveInt(height) && positiveInt(width) ? [height, width] : undefined;
}

/** The layout of patches of `patchHeight` × `patchWidth`, if they tile the image and give `tokens` tokens. */
function tile(height: number, width: number, patchHeight: number, patchWidth: number, clsToken: boolean, tokens: number): PatchLayout | undefined {
  if (height % patchHeight !== 0 || width % patchWidth !== 0) return undefined;
  const layout = { gridRows: height / patchHeight, gridCols: width / patchWidth, patchHeight, patchWidth, clsToken };
  return patchCount(layout) + (clsToken ? 1 : 0) === tokens ? layout : undefined;
}

/**
 * The patch layout of a ViT with `tokens` tokens on images of `imageShape`, from the card's
 * patchSize (an integer or [height, width]) and clsToken when it has them; otherwise the square
 * patch size that tiles the image into `tokens` − 1 patches (class token first) or `tokens`
 * patches (none). Undefined when nothing fits: the caller labels tokens by index.
 */
export function patchLayout(imageShape: readonly number[], tokens: number, architecture: PatchArchitecture = {}): PatchLayout | undefined {
  const side = imageSide(imageShape);
  if (!side || !positiveInt(tokens)) return undefined;
  const [height, width] = side;
  const size = architecture.patchSize;
  const declared = positiveInt(size) ? [size, size] : Array.isArray(size) && size.length === 2 && size.every(positiveInt) ? (size as number[]) : undefined;
  const clsChoices = typeof architecture.clsToken === 'boolean' ? [architecture.clsToken] : [true, false];
  for (const clsToken of clsChoices) {
    if (declared) {
      const layout = tile(height, width, declared[0], declared[1], clsToken, tokens);
      if (layout) return layout;
      continue;
    }
    for (let p = 1; p <= Math.min(height, width); p++) {
      const layout = tile(height, width, p, p, clsToken, tokens);
      if (layout) return layout;
    }
  }
  return undefined;
}

export function patchCount(layout: PatchLayout): number {
  return layout.gridRows * layout.gridCols;
}

/** The token that embeds the patch in grid row `row`, column `col`. */
export function patchToken(layout: PatchLayout, row: number, col: number): number {
  return (layout.clsToken ? 1 : 0) + row * layout.gridCols + col;
}

/** One label per token: "CLS" for the class token, "r{row}c{col}" for a patch. */
export function patchTokenLabels(layout: PatchLayout): string[] {
  const labels = layout.clsToken ? ['CLS'] : [];
  for (let row = 0; row < layout.gridRows; row++) for (let col = 0; col < layout.gridCols; col++) labels.push(`r${row}c${col}`);
  return labels;
}

/** Labels for an image model's `tokens` tokens: by patch position when the layout is known, else "0", "1", …. */
export function imageTokenLabels(imageShape: readonly number[], tokens: number, architecture?: PatchArchitecture): string[] {
  const layout = patchLayout(imageShape, tokens, architecture);
  return layout ? patchTokenLabels(layout) : Array.from({ length: tokens }, (_, k) => String(k));
}
