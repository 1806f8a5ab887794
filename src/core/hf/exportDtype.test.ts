import { describe, expect, test } from 'vitest';
import type { LayerQuantReport } from '../compress/report.ts';
import { exportDtype } from './exportDtype.ts';

const layer = (format: string, exported: 'packed' | 'simulated') => ({ format, export: exported }) as LayerQuantReport;

describe('exportDtype', () => {
  test('pruned only, or simulated quantization: fp32 to the runtime', () => {
    expect(exportDtype({ quantized: [] })).toBe('fp32');
    expect(exportDtype({ quantized: [layer('MXFP4 (E2M1)', 'simulated')] })).toBe('fp32');
  });
  test('packed 4-bit MatMulNBits is transformers.js’s q4; packed 8-bit goes under q8', () => {
    expect(exportDtype({ quantized: [layer('4-bit asym, groups of 32', 'packed'), layer('4-bit asym, groups of 32', 'packed')] })).toBe('q4');
    expect(exportDtype({ quantized: [layer('4-bit asym, groups of 32', 'packed'), layer('8-bit asym, groups of 32', 'packed')] })).toBe('q8');
  });
});
