import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's x-request-id when well-formed (so their logs join ours), else a fresh one. */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** A request's id, and the client's own when it could not be used as is. */
export interface AssignedId {
  id: string;
  /** The client's x-request-id when it was already in use (it goes to the sample's meta as client_request_id). */
  clientId: string | null;
}

/**
 * Request ids used recently, so no two samples share one. The client's x-request-id is kept when it
 * is well-formed and new (their logs join ours); one seen in the last `capacity` requests gets a fresh
 * id, and the client's is kept beside it. Memory is bounded: a ring of the last `capacity` ids plus a
 * Set over them (100k ids of 36 characters take about 8 MB). Each request costs a Set lookup, an
 * insert and a delete.
 */
export class RequestIds {
  private readonly ring: (string | undefined)[];
  private readonly seen = new Set<string>();
  private next = 0;

  constructor(readonly capacity = 100_000) {
    this.ring = new Array(capacity);
  }

  assign(header: unknown): AssignedId {
    if (typeof header === 'string' && REQUEST_ID.test(header)) {
      if (!this.seen.has(header)) return { id: this.remember(header), clientId: null };
      return { id: this.remember(randomUUID()), clientId: header };
    }
    // A malformed header is not kept: it may be anything up to the header size limit.
    return { id: this.remember(randomUUID()), clientId: null };
  }

  private remember(id: string): string {
    const old = this.ring[this.next];
    if (old !== undefined) this.seen.delete(old);
    this.ring[this.next] = id;
    this.seen.add(id);
    this.next = (this.next + 1) % this.capacity;
    return id;
  }
}
