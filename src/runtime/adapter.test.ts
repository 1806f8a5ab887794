import { describe, expect, test } from 'vitest';
import { autoFallbackReason, classifyAdapter } from './adapter';

describe('classifyAdapter', () => {
  test('Chromium SwiftShader is software, named SwiftShader', () => {
    const v = classifyAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)' });
    expect(v).toEqual({ kind: 'software', name: 'SwiftShader' });
    expect(autoFallbackReason(v)).toBe('software GPU found (SwiftShader); using the CPU, which is faster here');
  });
  test('Mesa llvmpipe and a flagged fallback adapter are software', () => {
    expect(classifyAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).kind).toBe('software');
    expect(classifyAdapter({ vendor: 'intel', architecture: 'gen-12lp' }, true).kind).toBe('software');
  });
  test('a hardware adapter is used', () => {
    const v = classifyAdapter({ vendor: 'nvidia', architecture: 'hopper', description: '' });
    expect(v).toEqual({ kind: 'hardware', name: 'nvidia hopper' });
    expect(autoFallbackReason(v)).toBeUndefined();
  });
});
