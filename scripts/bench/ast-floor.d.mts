// Types for ast-floor.mjs (plain JavaScript so the bench runs without a build step).
export function buildAstFloor(text: string, file: string): number;
