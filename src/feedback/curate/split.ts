// The train/validation split, by conversation or user, never by row: a seeded hash of the group key
// decides, so a group never straddles and the split is stable as items are added. Pure.
import { hashKey } from '../../util/hash.js';
import type { CurationItem } from '../types.js';

export type SplitBy = 'conversation' | 'user';

/** The group an item belongs to: its user (splitBy user) or conversation; no user → conversation → request id. */
export function groupKey(item: CurationItem, by: SplitBy): string {
  if (by === 'user' && item.user !== '') return `user:${item.user}`;
  return item.conversation !== '' ? `conversation:${item.conversation}` : `request:${item.requestId}`;
}

/** The group's position in [0, 1) under this seed; below validationSplit → validation. */
export function groupPoint(key: string, seed: number): number {
  return hashKey(`${seed}\u0000${key}`) / 0x1_0000_0000;
}

export interface SplitResult {
  train: CurationItem[];
  validation: CurationItem[];
}

/**
 * The items' groups. By conversation: one group per conversation key. By user: items that share a
 * user or a conversation are one group (an item without a user joins its conversation's group), so
 * neither a user nor a conversation is ever cut. A group is placed by its smallest key.
 */
function groups(items: readonly CurationItem[], by: SplitBy): { key: string; items: CurationItem[] }[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  const add = (k: string) => parent.has(k) || parent.set(k, k);
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) ra < rb ? parent.set(rb, ra) : parent.set(ra, rb);
  };
  const conv = (item: CurationItem) => groupKey(item, 'conversation');
  for (const item of items) {
    add(groupKey(item, by));
    if (by === 'user') (add(conv(item)), union(groupKey(item, by), conv(item)));
  }
  const out = new Map<string, CurationItem[]>();
  for (const item of items) {
    const root = find(groupKey(item, by));
    out.set(root, [...(out.get(root) ?? []), item]);
  }
  return [...out.entries()].map(([key, members]) => ({ key, items: members }));
}

/**
 * Validation holds the groups whose point is below validationSplit, so its share of groups is
 * ≈ validationSplit and a group's side does not change when other groups are added (unless an
 * added item joins two groups). Few groups: with two or more groups and validationSplit > 0,
 * validation gets at least the lowest-point group and train keeps at least the highest-point one;
 * a single group all goes to train (validation empty). Both lists are sorted by request id.
 */
export function split(items: readonly CurationItem[], by: SplitBy, validationSplit: number, seed: number): SplitResult {
  const ordered = groups(items, by)
    .map((g) => ({ ...g, point: groupPoint(g.key, seed) }))
    .sort((a, b) => a.point - b.point || (a.key < b.key ? -1 : 1));
  let nValidation = ordered.filter((g) => g.point < validationSplit).length;
  if (ordered.length >= 2 && validationSplit > 0) nValidation = Math.min(Math.max(nValidation, 1), ordered.length - 1);
  if (ordered.length < 2) nValidation = 0;
  const byId = (a: CurationItem, b: CurationItem) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0);
  return {
    validation: ordered.slice(0, nValidation).flatMap((g) => g.items).sort(byId),
    train: ordered.slice(nValidation).flatMap((g) => g.items).sort(byId),
  };
}
