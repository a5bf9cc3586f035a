// What the bench's child servers and the parent say to each other: JSON lines on stdout marked with MARK.
export const MARK = '@@bench ';

export type Json = Record<string, unknown>;
