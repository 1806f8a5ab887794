export { findResidualStream, type ResidualStream, type StreamOutcome } from './structure.ts';
export { fuseNorms, type FusedModel } from './fuse.ts';
export { principalDirections, symmetricEigen, leadingColumns, type Eigen } from './pca.ts';
export { writeSlicedModel, shortcutMatrix, siteTensors, type Rotation, type SiteRotations } from './rewrite.ts';
export { sliceModel, slicedWidth, siteWidths, SliceError, type SliceOptions, type SliceResult, type GramSource, type SiteReport } from './slicegpt.ts';
