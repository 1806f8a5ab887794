// The project's own representation of an ONNX model: a field-faithful mirror of onnx.proto
// (IR version 10/11). Property names are the proto field names in camelCase. A property is
// present only when its field was present on the wire (proto2 presence), so read → write → read
// is lossless. Fields this schema does not know are kept as raw wire bytes in `$unknown`.
//
// int64 scalars are `number` when they are safe integers and `bigint` otherwise (Slice ends of
// INT64_MAX are common). Bulk numeric tensor payloads are typed arrays; `rawData` is a view into
// the file's bytes, never a copy.

export type Int64 = number | bigint;

/** Raw bytes of fields not in the schema (tag included), re-emitted verbatim by the writer. */
export interface UnknownFields {
  $unknown?: Uint8Array[];
}

export interface StringStringEntry extends UnknownFields {
  key?: string;
  value?: string;
}

export interface OperatorSetId extends UnknownFields {
  domain?: string;
  version?: Int64;
}

export interface TensorSegment extends UnknownFields {
  begin?: Int64;
  end?: Int64;
}

export interface TensorProto extends UnknownFields {
  dims?: Int64[];
  dataType?: number;
  segment?: TensorSegment;
  floatData?: Float32Array;
  int32Data?: Int32Array;
  stringData?: Uint8Array[];
  int64Data?: BigInt64Array;
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntry[];
  dataLocation?: number;
  doubleData?: Float64Array;
  uint64Data?: BigUint64Array;
  metadataProps?: StringStringEntry[];
}

export interface SparseTensorProto extends UnknownFields {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: Int64[];
}

export interface Dimension extends UnknownFields {
  dimValue?: Int64;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto extends UnknownFields {
  dim?: Dimension[];
}

export interface TypeProtoTensor extends UnknownFields {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TypeProtoSequence extends UnknownFields {
  elemType?: TypeProto;
}

export interface TypeProtoMap extends UnknownFields {
  keyType?: number;
  valueType?: TypeProto;
}

export interface TypeProtoOptional extends UnknownFields {
  elemType?: TypeProto;
}

export interface TypeProtoOpaque extends UnknownFields {
  domain?: string;
  name?: string;
}

export interface TypeProto extends UnknownFields {
  tensorType?: TypeProtoTensor;
  sequenceType?: TypeProtoSequence;
  mapType?: TypeProtoMap;
  optionalType?: TypeProtoOptional;
  sparseTensorType?: TypeProtoTensor;
  opaqueType?: TypeProtoOpaque;
  denotation?: string;
}

export interface ValueInfoProto extends UnknownFields {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps?: StringStringEntry[];
}

export interface AttributeProto extends UnknownFields {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
}

export interface NodeProto extends UnknownFields {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  docString?: string;
  metadataProps?: StringStringEntry[];
}

export interface TensorAnnotation extends UnknownFields {
  tensorName?: string;
  quantParameterTensorNames?: StringStringEntry[];
}

export interface GraphProto extends UnknownFields {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  quantizationAnnotation?: TensorAnnotation[];
  metadataProps?: StringStringEntry[];
}

export interface FunctionProto extends UnknownFields {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attributeProto?: AttributeProto[];
  node?: NodeProto[];
  docString?: string;
  opsetImport?: OperatorSetId[];
  domain?: string;
  overload?: string;
  valueInfo?: ValueInfoProto[];
  metadataProps?: StringStringEntry[];
}

export interface TrainingInfoProto extends UnknownFields {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initializationBinding?: StringStringEntry[];
  updateBinding?: StringStringEntry[];
}

export interface ModelProto extends UnknownFields {
  irVersion?: Int64;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntry[];
  trainingInfo?: TrainingInfoProto[];
  functions?: FunctionProto[];
}

/** TensorProto.DataType codes (onnx.proto). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType codes. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  SPARSE_TENSOR: 11,
  TYPE_PROTO: 13,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSORS: 12,
  TYPE_PROTOS: 14,
} as const;

/** The error every parser failure throws: says what was expected, where (byte offset), in which field. */
export class OnnxFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly fieldPath: string,
  ) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}
