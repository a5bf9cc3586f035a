// PII is checked again, with the detectors redaction uses: an item with anything left in its
// messages, response or target never leaves the store. Pure.
import { detectPii, mergeCounts, type PiiCounts } from '../../capture/redact.js';
import type { CurationItem } from '../types.js';

export interface PiiFinding {
  item: CurationItem;
  found: PiiCounts;
  /** Where it was found: messages[i], response, target. */
  fields: string[];
}

export interface PiiResult {
  clean: CurationItem[];
  excluded: PiiFinding[];
  /** Findings over all excluded items, by PII type. */
  byType: PiiCounts;
}

const any = (c: PiiCounts) => Object.keys(c).length > 0;

/** The item's findings (empty when clean). */
export function findPii(item: CurationItem): { found: PiiCounts; fields: string[] } {
  const parts: [string, string][] = [
    ...item.messages.map((m, i): [string, string] => [`messages[${i}]`, m.content]),
    ['response', item.response],
    ['target', item.target?.text ?? ''],
  ];
  let found: PiiCounts = {};
  const fields: string[] = [];
  for (const [field, text] of parts) {
    const f = detectPii(text);
    if (any(f)) (fields.push(field), (found = mergeCounts(found, f)));
  }
  return { found, fields };
}

export function checkPii(items: readonly CurationItem[]): PiiResult {
  const clean: CurationItem[] = [];
  const excluded: PiiFinding[] = [];
  let byType: PiiCounts = {};
  for (const item of items) {
    const { found, fields } = findPii(item);
    if (!any(found)) clean.push(item);
    else (excluded.push({ item, found, fields }), (byType = mergeCounts(byType, found)));
  }
  return { clean, excluded, byType };
}

/** "EMAIL×2, PHONE×1 in messages[1], target". */
export function describeFinding(f: Pick<PiiFinding, 'found' | 'fields'>): string {
  const types = Object.entries(f.found).map(([t, n]) => `${t}×${n}`).join(', ');
  return `PII left: ${types} in ${f.fields.join(', ')}`;
}
