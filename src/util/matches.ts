/**
 * Every match of a global pattern, by an exec loop on the pattern itself. `String.prototype.matchAll`
 * clones the pattern on every call, which for the evaluators' long alternations costs more than the
 * matching (they run on every captured answer). The pattern's lastIndex is reset first, so an earlier
 * loop left unfinished does not matter.
 */
export function allMatches(re: RegExp, text: string): RegExpExecArray[] {
  if (!re.global) throw new TypeError(`allMatches needs a global pattern: /${re.source.slice(0, 40)}/${re.flags}`);
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(m);
    if (m[0] === '') re.lastIndex++;
  }
  return out;
}
