// A grid of coloured cells as one bitmap: a BMP data URL for an SVG <image>, one pixel per cell,
// scaled up by the browser with `image-rendering: pixelated`. The zoomed attention map of a
// 128-token input is 16,384 cells; as <rect>s every hover repaint re-rasterised all of them
// (50 ms median frames in headless Chromium, docs/attention.md), as one image it is one draw.
// BMP because it needs no compression: a 54-byte header and the rows, written in a few lines.
import * as d3 from 'd3';

const headerBytes = 54;

/** rows × cols cells, `color(row, col)` any CSS colour d3 parses; row 0 at the top. */
export function cellBitmap(rows: number, cols: number, color: (row: number, col: number) => string): string {
  const rowBytes = Math.ceil((cols * 3) / 4) * 4; // 24-bit pixels, rows padded to 4 bytes
  const bytes = new Uint8Array(headerBytes + rowBytes * rows);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]); // "BM"
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, headerBytes, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, cols, true);
  view.setInt32(22, -rows, true); // negative: rows stored top-down
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, rowBytes * rows, true);
  const rgbOf = new Map<string, d3.RGBColor>(); // a map has few distinct colours; parse each once
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const css = color(r, c);
      let rgb = rgbOf.get(css);
      if (!rgb) rgbOf.set(css, (rgb = d3.rgb(css)));
      const at = headerBytes + r * rowBytes + c * 3;
      bytes[at] = rgb.b;
      bytes[at + 1] = rgb.g;
      bytes[at + 2] = rgb.r;
    }
  }
  return `data:image/bmp;base64,${base64(bytes)}`;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000; // String.fromCharCode's argument list has a limit
  for (let k = 0; k < bytes.length; k += chunk) binary += String.fromCharCode(...bytes.subarray(k, k + chunk));
  return btoa(binary);
}

/** The colour of cell (row, col) of a cellBitmap URL, as "rgb(r, g, b)" — for tests and checks. */
export function cellBitmapPixel(url: string, row: number, col: number): string {
  const bytes = Uint8Array.from(atob(url.slice(url.indexOf(',') + 1)), (ch) => ch.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const cols = view.getInt32(18, true);
  const at = headerBytes + row * Math.ceil((cols * 3) / 4) * 4 + col * 3;
  return `rgb(${bytes[at + 2]}, ${bytes[at + 1]}, ${bytes[at]})`;
}
