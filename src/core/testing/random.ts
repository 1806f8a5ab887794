// Seeded test data, so every failure reproduces from its seed. The generator is calibration's
// mulberry32 (src/core/calibrate/random.ts): core keeps one seeded PRNG.
export { mulberry32 as seededUniform } from '../calibrate/random.ts';
