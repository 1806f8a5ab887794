// Partial evaluation of the small int64 tensors that feed Reshape's `shape` input. Exports with
// dynamic axes build them at run time, e.g. Concat(Unsqueeze(Gather(Shape(x), 0)), [4], [8]);
// the batch and sequence entries are unknown (null) but the head count and head size are
// constants, which is what the attention analysis needs.
import { constantTensor, producerNode, type GraphIndex } from './graphIndex.ts';
import { attrInt, intValues, typeShape } from './proto.ts';

/** Values of a 1-D (or scalar) integer tensor, null entries where unknown; null if the length is. */
export type PartialValues = (number | null)[] | null;

const MAX_DEPTH = 12;
/**
 * Tensors (and values) one evaluation may visit. A shape is a handful of small tensors; the cap
 * keeps a hostile Concat of 10⁵ inputs, or a lattice of Concats sharing inputs (exponential
 * under plain recursion), from costing more than a constant per Reshape.
 */
const MAX_WORK = 256;

export function shapeTensorValues(index: GraphIndex, name: string): PartialValues {
  return evaluate(index, name, 0, { work: 0 });
}

function evaluate(index: GraphIndex, name: string, depth: number, budget: { work: number }): PartialValues {
  if (++budget.work > MAX_WORK) return null;
  const constant = constantTensor(index, name);
  if (constant) {
    const dims = constant.dims ?? [];
    const length = dims.length === 0 ? 1 : Number(dims[0]);
    if (dims.length > 1 || !(length <= MAX_WORK - budget.work)) return null; // not a shape vector
    budget.work += length;
    return intValues(constant);
  }
  const node = producerNode(index, name);
  if (!node || depth > MAX_DEPTH) return null;
  const inputs = node.input ?? [];
  if (inputs.length > MAX_WORK) return null;
  const recurse = (input: string | undefined) => (input ? evaluate(index, input, depth + 1, budget) : null);
  switch (node.opType) {
    case 'Concat': {
      const parts = inputs.map(recurse);
      return parts.every((part) => part !== null) ? (parts as (number | null)[][]).flat() : null;
    }
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Cast':
    case 'Identity':
      // Shape tensors are 1-D, so an unsqueezed input was a scalar: one unknown entry.
      return recurse(inputs[0]) ?? (node.opType === 'Unsqueeze' ? [null] : null);
    case 'Gather':
      return gatherValues(recurse(inputs[0]), recurse(inputs[1]));
    case 'Shape':
      return shapeOf(index, inputs[0] ?? '', attrInt(node, 'start', 0));
    case 'Mul':
    case 'Div':
    case 'Add':
    case 'Sub':
      return elementwise(node.opType, recurse(inputs[0]), recurse(inputs[1]));
    default:
      return null;
  }
}

function gatherValues(data: PartialValues, indices: PartialValues): PartialValues {
  if (!indices) return null;
  return indices.map((i) => (data && i !== null ? (data[i < 0 ? data.length + i : i] ?? null) : null));
}

function shapeOf(index: GraphIndex, tensor: string, start: number): PartialValues {
  const shape = typeShape(index.valueInfo.get(tensor)?.type);
  if (!shape) return null;
  return shape.slice(start).map((dim) => (typeof dim === 'number' ? dim : null));
}

function elementwise(op: string, a: PartialValues, b: PartialValues): PartialValues {
  if (!a || !b) return null;
  const length = Math.max(a.length, b.length);
  if (a.length !== length && a.length !== 1) return null;
  if (b.length !== length && b.length !== 1) return null;
  const result: (number | null)[] = [];
  for (let i = 0; i < length; i++) {
    const x = a[a.length === 1 ? 0 : i];
    const y = b[b.length === 1 ? 0 : i];
    if (x === null || y === null) result.push(null);
    else if (op === 'Mul') result.push(x * y);
    else if (op === 'Add') result.push(x + y);
    else if (op === 'Sub') result.push(x - y);
    else result.push(y === 0 ? null : Math.trunc(x / y));
  }
  return result;
}
