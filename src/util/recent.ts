/**
 * `build` memoised for the most recent `max` keys, oldest out: a context or system prompt that
 * comes again costs one lookup. Pure as long as `build` is.
 */
export function recent<T>(max: number, build: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = build(key);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(key, value);
    }
    return value;
  };
}
