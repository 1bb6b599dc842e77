/**
 * A least-recently-used map bounded by total weight (e.g. bytes): adding past the bound
 * evicts the oldest entries. An entry heavier than the whole bound is not kept.
 */
export class Lru<K, V> {
  readonly #map = new Map<K, { value: V; weight: number }>();
  #total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    this.#map.delete(key);
    this.#map.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return;
    this.#map.set(key, { value, weight });
    this.#total += weight;
    for (const [oldest, entry] of this.#map) {
      if (this.#total <= this.maxWeight) break;
      this.#map.delete(oldest);
      this.#total -= entry.weight;
    }
  }

  delete(key: K): void {
    const entry = this.#map.get(key);
    if (!entry) return;
    this.#map.delete(key);
    this.#total -= entry.weight;
  }
}
