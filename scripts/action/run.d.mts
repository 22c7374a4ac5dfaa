// Types for the helpers run.mjs exports (its main part runs only when executed).
export function mdText(text: string): string;
export function mdCode(text: string): string;
