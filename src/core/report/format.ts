// Number formatting shared by the UI and the CLI, so both print the same digits.
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]} (${bytes.toLocaleString('en-US')} bytes)`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatMetric(value: number, kind: 'ratio' | 'plain'): string {
  return kind === 'ratio' ? `${(value * 100).toFixed(2)} %` : value.toFixed(4);
}
