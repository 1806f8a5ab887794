// Uniform allocation: every layer at the target. Its plain and parameter-weighted means agree.
import { validateTarget } from './redistribute.ts';

export function uniformAllocation(layerCount: number, target: number): number[] {
  validateTarget(target, 'uniform allocation');
  return Array.from({ length: layerCount }, () => target);
}
