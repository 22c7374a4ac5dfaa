// Public face of the grammar stage: text → AST → text.
export type * from './ast.ts';
export { parse } from './parse.ts';
export { printRuleset, printRule } from './printer.ts';
