// The ONNX messages as a declarative table: field number → name, kind, cardinality.
// Transcribed from onnx/onnx.proto (proto2, IR version 10/11); numbers checked against the
// onnx.proto shipped in Debian's libonnx-dev 1.12 and, for later fields (overload,
// metadata_props, attribute_proto, value_info, opaque_type), against current upstream.

import type {
  AttributeProto,
  Dimension,
  FunctionProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  SparseTensorProto,
  StringStringEntry,
  TensorAnnotation,
  TensorProto,
  TensorSegment,
  TensorShapeProto,
  TrainingInfoProto,
  TypeProto,
  TypeProtoMap,
  TypeProtoOpaque,
  TypeProtoOptional,
  TypeProtoSequence,
  TypeProtoTensor,
  ValueInfoProto,
} from './types.ts';

/** The decoded JS type of each message, keyed by its schema name. */
export interface MessageTypes {
  ModelProto: ModelProto;
  OperatorSetIdProto: OperatorSetId;
  StringStringEntryProto: StringStringEntry;
  GraphProto: GraphProto;
  NodeProto: NodeProto;
  AttributeProto: AttributeProto;
  ValueInfoProto: ValueInfoProto;
  TensorProto: TensorProto;
  'TensorProto.Segment': TensorSegment;
  SparseTensorProto: SparseTensorProto;
  TypeProto: TypeProto;
  'TypeProto.Tensor': TypeProtoTensor;
  'TypeProto.Sequence': TypeProtoSequence;
  'TypeProto.Map': TypeProtoMap;
  'TypeProto.Optional': TypeProtoOptional;
  'TypeProto.SparseTensor': TypeProtoTensor;
  'TypeProto.Opaque': TypeProtoOpaque;
  TensorShapeProto: TensorShapeProto;
  'TensorShapeProto.Dimension': Dimension;
  TensorAnnotation: TensorAnnotation;
  TrainingInfoProto: TrainingInfoProto;
  FunctionProto: FunctionProto;
}
export type MessageName = keyof MessageTypes;

export type ScalarKind = 'int32' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes' | 'enum';

/**
 * - 'optional': one value (proto2 presence).
 * - 'repeated': JS array; scalars are emitted unpacked, as protobuf C++ does for proto2.
 * - 'packed': declared [packed=true]; a typed array (Float32Array, Int32Array, ...), emitted packed.
 */
export type Cardinality = 'optional' | 'repeated' | 'packed';

export interface FieldSpec {
  number: number;
  /** Name in onnx.proto (snake_case), used in error paths. */
  protoName: string;
  /** Property name in the JS object (camelCase). */
  key: string;
  kind: ScalarKind | 'message';
  /** Message type name when kind is 'message'. */
  message?: MessageName;
  cardinality: Cardinality;
  /** The wire type of one element (LEN for strings, bytes, messages). */
  wireType: number;
  /** Keys of the other members of this field's oneof: reading this field clears them. */
  oneofSiblings?: string[];
}

export interface MessageSpec {
  name: MessageName;
  /** Sorted by field number: the order the writer emits. */
  fields: FieldSpec[];
  /** Field number → spec (sparse array). */
  byNumber: (FieldSpec | undefined)[];
}

type FieldRow = readonly [number, string, ScalarKind | MessageName, Cardinality?];

const SS = 'StringStringEntryProto';

const TABLE: Record<MessageName, readonly FieldRow[]> = {
  ModelProto: [
    [1, 'ir_version', 'int64'],
    [8, 'opset_import', 'OperatorSetIdProto', 'repeated'],
    [2, 'producer_name', 'string'],
    [3, 'producer_version', 'string'],
    [4, 'domain', 'string'],
    [5, 'model_version', 'int64'],
    [6, 'doc_string', 'string'],
    [7, 'graph', 'GraphProto'],
    [14, 'metadata_props', SS, 'repeated'],
    [20, 'training_info', 'TrainingInfoProto', 'repeated'],
    [25, 'functions', 'FunctionProto', 'repeated'],
  ],
  OperatorSetIdProto: [
    [1, 'domain', 'string'],
    [2, 'version', 'int64'],
  ],
  StringStringEntryProto: [
    [1, 'key', 'string'],
    [2, 'value', 'string'],
  ],
  GraphProto: [
    [1, 'node', 'NodeProto', 'repeated'],
    [2, 'name', 'string'],
    [5, 'initializer', 'TensorProto', 'repeated'],
    [15, 'sparse_initializer', 'SparseTensorProto', 'repeated'],
    [10, 'doc_string', 'string'],
    [11, 'input', 'ValueInfoProto', 'repeated'],
    [12, 'output', 'ValueInfoProto', 'repeated'],
    [13, 'value_info', 'ValueInfoProto', 'repeated'],
    [14, 'quantization_annotation', 'TensorAnnotation', 'repeated'],
    [16, 'metadata_props', SS, 'repeated'],
  ],
  NodeProto: [
    [1, 'input', 'string', 'repeated'],
    [2, 'output', 'string', 'repeated'],
    [3, 'name', 'string'],
    [4, 'op_type', 'string'],
    [7, 'domain', 'string'],
    [8, 'overload', 'string'],
    [5, 'attribute', 'AttributeProto', 'repeated'],
    [6, 'doc_string', 'string'],
    [9, 'metadata_props', SS, 'repeated'],
  ],
  AttributeProto: [
    [1, 'name', 'string'],
    [21, 'ref_attr_name', 'string'],
    [13, 'doc_string', 'string'],
    [20, 'type', 'enum'],
    [2, 'f', 'float'],
    [3, 'i', 'int64'],
    [4, 's', 'bytes'],
    [5, 't', 'TensorProto'],
    [6, 'g', 'GraphProto'],
    [22, 'sparse_tensor', 'SparseTensorProto'],
    [14, 'tp', 'TypeProto'],
    [7, 'floats', 'float', 'repeated'],
    [8, 'ints', 'int64', 'repeated'],
    [9, 'strings', 'bytes', 'repeated'],
    [10, 'tensors', 'TensorProto', 'repeated'],
    [11, 'graphs', 'GraphProto', 'repeated'],
    [23, 'sparse_tensors', 'SparseTensorProto', 'repeated'],
    [15, 'type_protos', 'TypeProto', 'repeated'],
  ],
  ValueInfoProto: [
    [1, 'name', 'string'],
    [2, 'type', 'TypeProto'],
    [3, 'doc_string', 'string'],
    [4, 'metadata_props', SS, 'repeated'],
  ],
  TensorProto: [
    [1, 'dims', 'int64', 'repeated'],
    [2, 'data_type', 'int32'],
    [3, 'segment', 'TensorProto.Segment'],
    [4, 'float_data', 'float', 'packed'],
    [5, 'int32_data', 'int32', 'packed'],
    [6, 'string_data', 'bytes', 'repeated'],
    [7, 'int64_data', 'int64', 'packed'],
    [8, 'name', 'string'],
    [12, 'doc_string', 'string'],
    [9, 'raw_data', 'bytes'],
    [13, 'external_data', SS, 'repeated'],
    [14, 'data_location', 'enum'],
    [10, 'double_data', 'double', 'packed'],
    [11, 'uint64_data', 'uint64', 'packed'],
    [16, 'metadata_props', SS, 'repeated'],
  ],
  'TensorProto.Segment': [
    [1, 'begin', 'int64'],
    [2, 'end', 'int64'],
  ],
  SparseTensorProto: [
    [1, 'values', 'TensorProto'],
    [2, 'indices', 'TensorProto'],
    [3, 'dims', 'int64', 'repeated'],
  ],
  // tensor_type … opaque_type form a oneof (ONEOFS below).
  TypeProto: [
    [1, 'tensor_type', 'TypeProto.Tensor'],
    [4, 'sequence_type', 'TypeProto.Sequence'],
    [5, 'map_type', 'TypeProto.Map'],
    [9, 'optional_type', 'TypeProto.Optional'],
    [8, 'sparse_tensor_type', 'TypeProto.SparseTensor'],
    [7, 'opaque_type', 'TypeProto.Opaque'],
    [6, 'denotation', 'string'],
  ],
  'TypeProto.Tensor': [
    [1, 'elem_type', 'int32'],
    [2, 'shape', 'TensorShapeProto'],
  ],
  'TypeProto.Sequence': [[1, 'elem_type', 'TypeProto']],
  'TypeProto.Map': [
    [1, 'key_type', 'int32'],
    [2, 'value_type', 'TypeProto'],
  ],
  'TypeProto.Optional': [[1, 'elem_type', 'TypeProto']],
  'TypeProto.SparseTensor': [
    [1, 'elem_type', 'int32'],
    [2, 'shape', 'TensorShapeProto'],
  ],
  'TypeProto.Opaque': [
    [1, 'domain', 'string'],
    [2, 'name', 'string'],
  ],
  TensorShapeProto: [[1, 'dim', 'TensorShapeProto.Dimension', 'repeated']],
  'TensorShapeProto.Dimension': [
    [1, 'dim_value', 'int64'],
    [2, 'dim_param', 'string'],
    [3, 'denotation', 'string'],
  ],
  TensorAnnotation: [
    [1, 'tensor_name', 'string'],
    [2, 'quant_parameter_tensor_names', SS, 'repeated'],
  ],
  TrainingInfoProto: [
    [1, 'initialization', 'GraphProto'],
    [2, 'algorithm', 'GraphProto'],
    [3, 'initialization_binding', SS, 'repeated'],
    [4, 'update_binding', SS, 'repeated'],
  ],
  FunctionProto: [
    [1, 'name', 'string'],
    [4, 'input', 'string', 'repeated'],
    [5, 'output', 'string', 'repeated'],
    [6, 'attribute', 'string', 'repeated'],
    [11, 'attribute_proto', 'AttributeProto', 'repeated'],
    [7, 'node', 'NodeProto', 'repeated'],
    [8, 'doc_string', 'string'],
    [9, 'opset_import', 'OperatorSetIdProto', 'repeated'],
    [10, 'domain', 'string'],
    [13, 'overload', 'string'],
    [12, 'value_info', 'ValueInfoProto', 'repeated'],
    [14, 'metadata_props', SS, 'repeated'],
  ],
};

/**
 * The oneofs of onnx.proto, by field name. When several members appear on the wire the last one
 * wins and the others are cleared, as in every protobuf runtime (protobuf's encoding guide,
 * "Oneofs": "if multiple members of the same oneof appear, the parser keeps only the last").
 * A member message seen twice in a row is still merged, like any singular message.
 */
const ONEOFS: Partial<Record<MessageName, readonly (readonly string[])[]>> = {
  TypeProto: [['tensor_type', 'sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type', 'opaque_type']],
  'TensorShapeProto.Dimension': [['dim_value', 'dim_param']],
};

const SCALAR_WIRE_TYPE: Record<ScalarKind, number> = {
  int32: 0,
  int64: 0,
  uint64: 0,
  enum: 0,
  float: 5,
  double: 1,
  string: 2,
  bytes: 2,
};

function isScalarKind(kind: string): kind is ScalarKind {
  return kind in SCALAR_WIRE_TYPE;
}

function camelCase(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function buildField([number, protoName, kind, cardinality = 'optional']: FieldRow): FieldSpec {
  const scalar = isScalarKind(kind);
  return {
    number,
    protoName,
    key: camelCase(protoName),
    kind: scalar ? kind : 'message',
    message: scalar ? undefined : kind,
    cardinality,
    wireType: scalar ? SCALAR_WIRE_TYPE[kind] : 2,
  };
}

function buildMessage(name: MessageName, rows: readonly FieldRow[]): MessageSpec {
  const fields = rows.map(buildField).sort((a, b) => a.number - b.number);
  for (const members of ONEOFS[name] ?? []) {
    const keys = members.map(camelCase);
    for (const field of fields) {
      if (members.includes(field.protoName)) field.oneofSiblings = keys.filter((key) => key !== field.key);
    }
  }
  const byNumber: (FieldSpec | undefined)[] = [];
  for (const f of fields) byNumber[f.number] = f;
  return { name, fields, byNumber };
}

export const SCHEMA = Object.fromEntries(
  Object.entries(TABLE).map(([name, rows]) => [name, buildMessage(name as MessageName, rows)]),
) as Record<MessageName, MessageSpec>;

export function messageSpec(name: MessageName): MessageSpec {
  return SCHEMA[name];
}
