// Seeded pseudo-random numbers for the ruleset generators. Output must be identical
// on every machine and Node version, so this avoids Math.random and anything locale-
// or platform-dependent: mulberry32 over a 32-bit state derived from the seed.

/** FNV-1a over the seed's string form: any number or string becomes a 32-bit state. */
function seedState(seed) {
  const text = String(seed);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function createRandom(seed) {
  let state = seedState(seed);
  /** Uniform float in [0, 1). */
  function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max], both inclusive. */
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  const chance = (probability) => next() < probability;
  const pick = (items) => items[Math.floor(next() * items.length)];
  /** Picks by weight: entries are [value, weight]. */
  function weighted(entries) {
    let total = 0;
    for (const [, weight] of entries) total += weight;
    let roll = next() * total;
    for (const [value, weight] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return entries[entries.length - 1][0];
  }
  function shuffle(items) {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }
  const hex = (length) => {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdef'[Math.floor(next() * 16)];
    return out;
  };
  return { next, int, chance, pick, weighted, shuffle, hex };
}
