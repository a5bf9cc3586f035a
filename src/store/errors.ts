// What a store error means for the rows that caused it. Pure: reads the error's ClickHouse code/type.

/**
 * ClickHouse error types that reject the data itself: the same rows will fail again however often
 * they are retried. Anything else (a table missing, memory, a timeout, a process restarting) is
 * the store's trouble, and the rows are kept for later.
 */
const ROW_REJECTIONS = [
  /^CANNOT_PARSE/,
  /^CANNOT_CONVERT_TYPE$/,
  /^CANNOT_INSERT_NULL/,
  /^CANNOT_READ_ALL_DATA$/,
  /^TYPE_MISMATCH$/,
  /^INCORRECT_DATA$/,
  /^INCORRECT_NUMBER_OF_COLUMNS$/,
  /^VIOLATED_CONSTRAINT$/,
  /^VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE$/,
  /^ARGUMENT_OUT_OF_BOUND$/,
  /^TOO_LARGE_STRING_SIZE$/,
  /^ILLEGAL_TYPE_OF_ARGUMENT$/,
  /^UNKNOWN_FIELD/,
];

export interface StoreErrorInfo {
  message: string;
  code?: string;
  type?: string;
}

export function storeErrorInfo(err: unknown): StoreErrorInfo {
  const e = err as { message?: unknown; code?: unknown; type?: unknown };
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: e?.code === undefined ? undefined : String(e.code),
    type: typeof e?.type === 'string' ? e.type : undefined,
  };
}

/** True when the store refused these rows for what they contain (retrying cannot help). */
export function isRowRejection(err: unknown): boolean {
  const { type } = storeErrorInfo(err);
  return type !== undefined && ROW_REJECTIONS.some((pattern) => pattern.test(type));
}
