// Interprets a rule's argument words the way iptables' command parser does:
// top-level options, `-m` modules whose options may appear anywhere after
// them, implicit protocol matches (`-p tcp --dport 22`), the target and its
// options, negation before an option (and the deprecated form after it).

import type {
  AddressMatch, Counters, Family, InterfaceMatch, Match, ParseError, ProtocolMatch, RawOption, Span, TableName, Target,
} from './ast.ts';
import {
  buildMatch, buildTarget, internModuleName, type BuildContext, isKnownTarget, matchOptionSpecs, targetOptionSpecs,
  type OptionSpec,
} from './modules.ts';
import { readAddressList, readInterface, readProtocol } from './values.ts';
import type { Word } from './words.ts';

export interface RuleSpec {
  readonly counters?: Counters;
  readonly protocol?: ProtocolMatch;
  /** Empty: any. More than one: iptables makes one rule per combination. */
  readonly sources: readonly AddressMatch[];
  readonly destinations: readonly AddressMatch[];
  readonly inInterface?: InterfaceMatch;
  readonly outInterface?: InterfaceMatch;
  readonly fragment?: { readonly negated: boolean };
  readonly matches: readonly Match[];
  readonly target?: Target;
}

export interface RuleContext {
  readonly file: string;
  readonly line: number;
  readonly family: Family;
  readonly table: TableName;
  /** The table's chains at this point of the file (a jump needs its chain declared first). */
  readonly chains: ReadonlyMap<string, { readonly name: string; readonly builtin: boolean }>;
}

type TopLevel = 'protocol' | 'source' | 'destination' | 'in' | 'out' | 'fragment' | 'match' | 'jump' | 'goto' | 'counters';

const TOP_LEVEL: ReadonlyMap<string, TopLevel> = new Map([
  ['-p', 'protocol'], ['--protocol', 'protocol'],
  ['-s', 'source'], ['--source', 'source'], ['--src', 'source'],
  ['-d', 'destination'], ['--destination', 'destination'], ['--dst', 'destination'],
  ['-i', 'in'], ['--in-interface', 'in'],
  ['-o', 'out'], ['--out-interface', 'out'],
  ['-f', 'fragment'], ['--fragment', 'fragment'],
  ['-m', 'match'], ['--match', 'match'],
  ['-j', 'jump'], ['--jump', 'jump'],
  ['-g', 'goto'], ['--goto', 'goto'],
  ['-c', 'counters'], ['--set-counters', 'counters'],
]);

/**
 * The top-level option a word names, if any. iptables-save writes the short
 * forms, so they are told apart by their letter; only long forms need the map
 * (and a hash of a fresh string for every word of every rule).
 */
function topLevelOption(word: string): TopLevel | undefined {
  if (word.length === 2) {
    switch (word.charCodeAt(1)) {
      case 112: return 'protocol'; // p
      case 115: return 'source'; // s
      case 100: return 'destination'; // d
      case 105: return 'in'; // i
      case 111: return 'out'; // o
      case 102: return 'fragment'; // f
      case 109: return 'match'; // m
      case 106: return 'jump'; // j
      case 103: return 'goto'; // g
      case 99: return 'counters'; // c
      default: return undefined;
    }
  }
  return word.charCodeAt(1) === 45 /* - */ ? TOP_LEVEL.get(word) : undefined;
}

const SHORT_NAMES: Readonly<Record<TopLevel, string>> = {
  protocol: '-p', source: '-s', destination: '-d', in: '-i', out: '-o', fragment: '-f',
  match: '-m', jump: '-j', goto: '-g', counters: '-c',
};

/** `-p` values that load a match module implicitly when its options appear. */
const PROTOCOL_MODULES: Readonly<Record<string, string>> = {
  tcp: 'tcp', udp: 'udp', udplite: 'udplite', sctp: 'sctp', dccp: 'dccp', icmp: 'icmp', 'ipv6-icmp': 'icmp6',
};

/** A loaded module or the target: what an option may belong to. */
interface OptionOwner {
  /** Undefined: options are taken greedily (modules and targets without a table). */
  readonly table: ReadonlyMap<string, OptionSpec> | undefined;
  options: readonly RawOption[];
  readonly start: number;
  end: number;
}

interface LoadedModule extends OptionOwner {
  readonly module: string;
}

/**
 * iptables merges each newly loaded module's options in front of the older
 * ones, so the most recently loaded module (or target) that knows an option
 * gets it. A rule loads a handful of owners, so a backwards scan beats
 * building a name → owner map for every rule.
 */
function ownerOfOption(owners: ScratchList<OptionOwner>, name: string): OptionOwner | undefined {
  for (let k = owners.size - 1; k >= 0; k--) {
    const owner = owners.items[k]!;
    if (owner.table?.has(name)) return owner;
  }
  return undefined;
}

/** getopt_long's unambiguous-prefix rule over the option names the loaded owners know. */
function expandPrefix(owners: ScratchList<OptionOwner>, prefix: string): string | undefined {
  let found: string | undefined;
  for (let k = 0; k < owners.size; k++) {
    const owner = owners.items[k]!;
    if (!owner.table) continue;
    for (const name of owner.table.keys()) {
      if (!name.startsWith(prefix) || name === found) continue;
      if (found !== undefined) return undefined;
      found = name;
    }
  }
  return found;
}

const NO_OPTIONS: readonly RawOption[] = Object.freeze([]);
/** A chain target takes no options. */
const NO_SPECS: ReadonlyMap<string, OptionSpec> = new Map();

/** Options as the AST keeps them: a shared empty list, or an array without push's spare capacity. */
function exactOptions(options: readonly RawOption[]): readonly RawOption[] {
  return options.length <= 1 ? options : options.slice();
}

/** Bits of the top-level options seen so far (one each, but -m may repeat). */
const TOP_LEVEL_BIT: Readonly<Record<TopLevel, number>> = {
  protocol: 1, source: 2, destination: 4, in: 8, out: 16, fragment: 32, match: 64, jump: 128, goto: 256, counters: 512,
};

export type InterpretResult =
  | { readonly ok: true; readonly spec: RuleSpec }
  | { readonly ok: false; readonly errors: readonly ParseError[] };

function spanAt(context: RuleContext, from: number, to: number): Span {
  return { file: context.file, line: context.line, column: from + 1, endColumn: to + 1 };
}

// Helpers at module level, not closures: a closure over interpretRule's locals made it
// allocate a context and four functions for every rule.
function failAt(
  context: RuleContext, words: readonly Word[], wordCount: number, word: Word | undefined, message: string,
  extra: { expected?: string; hint?: string } = {},
): InterpretResult {
  const at = word ?? (wordCount > 0 ? words[wordCount - 1] : undefined);
  return {
    ok: false,
    errors: [{ span: at ? spanAt(context, at.start, at.end) : spanAt(context, 0, 1), message, found: word?.value, ...extra }],
  };
}

function isLoaded(modules: ScratchList<LoadedModule>, module: string): boolean {
  for (let k = 0; k < modules.size; k++) if (modules.items[k]!.module === module) return true;
  return false;
}

/** Loads a match module; the value word's end is where its options begin to count. */
function loadModule(modules: ScratchList<LoadedModule>, owners: ScratchList<OptionOwner>, module: string, at: Word): LoadedModule {
  const table = matchOptionSpecs(module);
  const loaded: LoadedModule = { module, table, options: NO_OPTIONS, start: at.start, end: at.end };
  modules.push(loaded);
  if (table) owners.push(loaded);
  return loaded;
}

/** A list reused from call to call: only the first `size` items are the current call's. */
class ScratchList<T> {
  readonly items: T[] = [];
  size = 0;

  reset(): void { this.size = 0; }

  push(item: T): void { this.items[this.size++] = item; }
}

// Reused by every call (interpretRule is synchronous and keeps neither): two fresh
// arrays per rule each grew a 17-slot store on their first push.
const loadedModules = new ScratchList<LoadedModule>();
const optionOwners = new ScratchList<OptionOwner>();

/**
 * `words` may be a reused buffer longer than this rule: only the first
 * `wordCount` belong to it, and none is kept after the call.
 */
export function interpretRule(words: readonly Word[], context: RuleContext, wordCount: number = words.length): InterpretResult {

  let protocol: ProtocolMatch | undefined;
  let sources: readonly AddressMatch[] = [];
  let destinations: readonly AddressMatch[] = [];
  let inInterface: InterfaceMatch | undefined;
  let outInterface: InterfaceMatch | undefined;
  let fragment: { negated: boolean } | undefined;
  let counters: Counters | undefined;
  let seenTopLevel = 0;
  const modules = loadedModules;
  modules.reset();
  /** Modules and the target that have option tables, in load order. */
  const owners = optionOwners;
  owners.reset();
  let lastGreedyModule: LoadedModule | undefined;
  let target: (OptionOwner & { name: string; goto: boolean }) | undefined;
  let negation: Word | undefined;


  let i = 0;
  while (i < wordCount) {
    const word = words[i]!;
    if (!word.quoted && word.value === '!') {
      if (negation) return failAt(context, words, wordCount, word, 'two "!" in a row', { hint: 'a single "!" negates the option after it' });
      negation = word;
      i++;
      continue;
    }
    if (word.quoted || !word.value.startsWith('-') || word.value === '-') {
      return failAt(context, words, wordCount, word, `unexpected argument "${word.value}"`, { expected: 'an option such as -p, -s, -m, -j', hint: 'values follow the option they belong to; is an option missing or misspelled?' });
    }
    const topLevel = topLevelOption(word.value);
    if (topLevel) {
      const name = SHORT_NAMES[topLevel];
      const bit = TOP_LEVEL_BIT[topLevel];
      if ((seenTopLevel & bit) !== 0 && topLevel !== 'match') {
        return failAt(context, words, wordCount, word, `${name} given twice`, { hint: `iptables allows one ${name} per rule` });
      }
      seenTopLevel |= bit;
      let negated = negation !== undefined;
      const negationWord = negation;
      negation = undefined;
      if (topLevel === 'fragment') {
        if (context.family === 'ipv6') return failAt(context, words, wordCount, word, '-f is not valid in ip6tables', { hint: 'use -m frag in ip6tables' });
        fragment = { negated };
        i++;
        continue;
      }
      if (topLevel === 'match' || topLevel === 'jump' || topLevel === 'goto' || topLevel === 'counters') {
        if (negated) return failAt(context, words, wordCount, negationWord, `"!" cannot negate ${name}`);
      }
      if (topLevel === 'counters') {
        const values = words.slice(i + 1, Math.min(i + 3, wordCount));
        if (values.length < 2 || !/^\d+$/.test(values[0]!.value) || !/^\d+$/.test(values[1]!.value)) {
          return failAt(context, words, wordCount, word, `${name} needs two numbers`, { expected: 'PACKETS BYTES' });
        }
        counters = { packets: Number(values[0]!.value), bytes: Number(values[1]!.value) };
        i += 3;
        continue;
      }
      let valueIndex = i + 1;
      // Deprecated, still accepted: `-s ! 10.0.0.0/8`.
      const maybeBang = valueIndex < wordCount ? words[valueIndex] : undefined;
      if (maybeBang && !maybeBang.quoted && maybeBang.value === '!' && topLevel !== 'match' && topLevel !== 'jump' && topLevel !== 'goto') {
        if (negated) return failAt(context, words, wordCount, maybeBang, 'two "!" for one option');
        negated = true;
        valueIndex++;
      }
      const valueWord = valueIndex < wordCount ? words[valueIndex] : undefined;
      if (!valueWord) return failAt(context, words, wordCount, word, `${name} needs a value`, { expected: `a value after ${word.value}` });
      const value = valueWord.value;
      i = valueIndex + 1;
      switch (topLevel) {
        case 'protocol': {
          const r = readProtocol(value, negated);
          if (!r.ok) return failAt(context, words, wordCount, valueWord, r.reason, { hint: r.hint });
          if (r.value.number === 0 && negated) return failAt(context, words, wordCount, valueWord, 'rule would never match protocol', { hint: '"! -p all" matches nothing' });
          protocol = r.value.number === 0 && !negated ? undefined : r.value;
          break;
        }
        case 'source': case 'destination': {
          const r = readAddressList(value, context.family, negated);
          if (!r.ok) return failAt(context, words, wordCount, valueWord, r.reason, { hint: r.hint ?? 'expected an address with an optional /prefix or /mask' });
          if (negated && r.value.length > 1) return failAt(context, words, wordCount, valueWord, `"!" is not allowed with several addresses`);
          if (topLevel === 'source') sources = r.value; else destinations = r.value;
          break;
        }
        case 'in': case 'out': {
          const r = readInterface(value, negated);
          if (!r.ok) return failAt(context, words, wordCount, valueWord, r.reason, { hint: r.hint });
          if (topLevel === 'in') inInterface = r.value; else outInterface = r.value;
          break;
        }
        case 'match': {
          const module = value;
          if (!/^[A-Za-z0-9_]+$/.test(module)) return failAt(context, words, wordCount, valueWord, `invalid match name "${module}"`);
          const loaded = loadModule(modules, owners, internModuleName(module), valueWord);
          if (!loaded.table) lastGreedyModule = loaded;
          break;
        }
        case 'jump': case 'goto': {
          if (target) return failAt(context, words, wordCount, word, 'a rule has only one target', { hint: '-j and -g cannot be combined or repeated' });
          if (topLevel === 'jump' && (seenTopLevel & TOP_LEVEL_BIT.goto) !== 0) return failAt(context, words, wordCount, word, 'a rule has only one target');
          if (topLevel === 'goto' && (seenTopLevel & TOP_LEVEL_BIT.jump) !== 0) return failAt(context, words, wordCount, word, 'a rule has only one target');
          const goto = topLevel === 'goto';
          const extension = !goto && isKnownTarget(value);
          if (!extension) {
            const chain = context.chains.get(value);
            if (chain?.builtin) {
              return failAt(context, words, wordCount, valueWord, `cannot ${goto ? 'goto' : 'jump to'} built-in chain "${value}"`);
            }
            if (!chain) {
              return failAt(context, words, wordCount, valueWord, `${goto ? 'goto' : 'jump'} to chain "${value}", which does not exist`, {
                expected: 'a declared chain or a target (ACCEPT, DROP, REJECT, RETURN, LOG, DNAT …)',
                hint: `declare it before use with ":${value} - [0:0]", or check the spelling`,
              });
            }
          }
          const table = extension ? targetOptionSpecs(value) : NO_SPECS;
          // A chain's own name string is shared by every jump to it (large files jump a lot).
          const targetName = extension ? value : context.chains.get(value)!.name;
          target = { name: targetName, goto, options: NO_OPTIONS, table, start: word.start, end: valueWord.end };
          if (table) owners.push(target);
          break;
        }
        default:
          break;
      }
      continue;
    }

    // An option of a module or of the target.
    let optionName = word.value;
    let owner = ownerOfOption(owners, optionName);
    if (!owner && optionName.startsWith('--')) {
      // getopt_long accepts any unambiguous prefix of a long option (`--mac` for `--mac-source`).
      const expanded = expandPrefix(owners, optionName);
      if (expanded) {
        optionName = expanded;
        owner = ownerOfOption(owners, optionName);
      }
    }
    if (!owner && protocol) {
      const implicit = PROTOCOL_MODULES[protocol.name];
      if (implicit && !isLoaded(modules, implicit) && matchOptionSpecs(implicit)?.has(optionName)) {
        loadModule(modules, owners, implicit, word);
        owner = ownerOfOption(owners, optionName);
      }
    }
    // Modules and targets without a table take any option: the target first, else the latest such module.
    if (!owner && target && target.table === undefined) owner = target;
    if (!owner) owner = lastGreedyModule;
    if (!owner) {
      const hint = /^--(s|d)port$/.test(optionName)
        ? `${optionName} belongs to a protocol match: add "-p tcp" (or udp, sctp, dccp) before it`
        : /^--(src|dst)-range$/.test(optionName)
          ? `${optionName} belongs to the iprange match: add "-m iprange" before it`
          : 'check the spelling, and that the -m module (or -j target) this option belongs to comes first';
      return failAt(context, words, wordCount, word, `unknown option "${optionName}"`, { hint });
    }
    const spec = owner.table?.get(optionName);
    const negated = negation !== undefined;
    if (negated && spec && !spec.invertible) {
      return failAt(context, words, wordCount, negation, `"!" cannot negate ${optionName}`);
    }
    negation = undefined;
    let count: number;
    if (spec) {
      count = spec.arity;
      if (i + count > wordCount - 1) return failAt(context, words, wordCount, word, `option "${optionName}" needs ${count === 1 ? 'a value' : `${count} values`}`);
    } else {
      count = 0;
      for (let j = i + 1; j < wordCount; j++) {
        const w = words[j]!;
        if (!w.quoted && (w.value.charCodeAt(0) === 45 /* - */ || w.value === '!')) break;
        count++;
      }
    }
    const canonical = spec?.canonical ?? optionName;
    if (spec) {
      for (let k = 0; k < owner.options.length; k++) if (owner.options[k]!.name === canonical) return failAt(context, words, wordCount, word, `option "${optionName}" given twice`, { hint: 'each option may appear once per module' });
    }
    const values: string[] = new Array<string>(count);
    for (let j = 0; j < count; j++) values[j] = words[i + 1 + j]!.value;
    const end = count > 0 ? words[i + count]!.end : word.end;
    const option: RawOption = { name: canonical, values, negated, span: spanAt(context, word.start, end) };
    // Most owners get one option: a one-element literal has no spare capacity to trim later.
    if (owner.options.length === 0) owner.options = [option]; else (owner.options as RawOption[]).push(option);
    if (end > owner.end) owner.end = end;
    i += 1 + count;
  }
  if (negation) return failAt(context, words, wordCount, negation, '"!" at the end of the rule', { expected: 'an option after "!"' });

  const protocolName = protocol && !protocol.negated ? protocol.name : undefined;
  const negatedProtocol = protocol?.negated ? protocol.name : undefined;
  const matches: Match[] = new Array<Match>(modules.size);
  const buildContext: BuildContext = { family: context.family, protocol: protocolName, negatedProtocol };
  for (let k = 0; k < modules.size; k++) {
    const m = modules.items[k]!;
    const built = buildMatch(m.module, exactOptions(m.options), spanAt(context, m.start, m.end), buildContext);
    if (!built.ok) {
      const at = built.problem.option?.span ?? spanAt(context, m.start, m.end);
      return { ok: false, errors: [{ span: at, message: built.problem.message, hint: built.problem.hint }] };
    }
    matches[k] = built.value;
  }
  let builtTarget: Target | undefined;
  if (target) {
    const built = buildTarget(target.name, exactOptions(target.options), spanAt(context, target.start, target.end), buildContext, target.goto);
    if (!built.ok) {
      return { ok: false, errors: [{ span: built.problem.option?.span ?? spanAt(context, target.start, target.end), message: built.problem.message, hint: built.problem.hint }] };
    }
    builtTarget = built.value;
  }
  return {
    ok: true,
    spec: { counters, protocol, sources, destinations, inInterface, outInterface, fragment, matches, target: builtTarget },
  };
}
