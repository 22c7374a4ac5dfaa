// The allocation floor of the AST: what it costs merely to build, for every rule line, the
// objects grammar/ast.ts says a rule has — the rule and its span; per `-m` module a match
// node, its span and options list; per option a RawOption, its values list and its span; the
// target likewise; an object per -p/-s/-d/-i/-o — with no validation, no error reporting, no
// Chevrotain, no typed option values and no -I/-D/-R bookkeeping.
//
// It is not a parser (it trusts the input and understands only what iptables-save writes);
// it exists so the parse section can say how much of parse()'s time the shape of the AST
// alone accounts for, measured in the same run on the same files. parse() can approach this
// figure, never beat it, while the AST keeps that shape.

/** Builds the floor object graph for `text`; returns the number of rule nodes built. */
export function buildAstFloor(text, file) {
  const chains = new Map();
  const words = [];
  const starts = [];
  let rules = 0;
  let line = 0;
  let pos = 0;
  const span = (from, to) => ({ file, line, column: from + 1, endColumn: to + 1 });
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    line++;
    // `iptables-save -c` writes `[packets:bytes] -A …`.
    const counted = text.charCodeAt(pos) === 91 /* [ */ ? text.indexOf('] ', pos) : -1;
    const command = counted === -1 || counted > end ? pos : counted + 2;
    if (text.charCodeAt(command) === 45 /* - */ && text.charCodeAt(command + 1) === 65 /* A */) {
      const count = splitWords(text, command + 3, end, words, starts);
      const rule = {
        span: span(0, end - pos), table: 'filter', chain: words[0], counters: undefined, protocol: undefined,
        source: undefined, destination: undefined, inInterface: undefined, outInterface: undefined, fragment: undefined,
        matches: [], target: undefined,
      };
      for (let k = 1; k < count; k++) {
        const word = words[k];
        if (word === '-m' || word === '-j' || word === '-g') {
          const head = starts[k] - pos;
          const name = words[++k];
          const options = [];
          while (k + 1 < count && words[k + 1].startsWith('--')) {
            const optionStart = starts[++k] - pos;
            const optionName = words[k];
            const values = [];
            while (k + 1 < count && !words[k + 1].startsWith('-')) values.push(words[++k]);
            options.push({ name: optionName, values, negated: false, span: span(optionStart, starts[k] - pos + words[k].length) });
          }
          const node = { kind: name, module: name, options, span: span(head, starts[k] - pos + words[k].length) };
          if (word === '-m') rule.matches.push(node); else rule.target = node;
        } else if (k + 1 < count) {
          const value = { name: words[++k], negated: false };
          if (word === '-p') rule.protocol = value;
          else if (word === '-s') rule.source = value;
          else if (word === '-d') rule.destination = value;
          else if (word === '-i') rule.inInterface = value;
          else if (word === '-o') rule.outInterface = value;
        }
      }
      let list = chains.get(rule.chain);
      if (!list) chains.set(rule.chain, (list = []));
      list.push(rule);
      rules++;
    }
    pos = end + 1;
  }
  return rules;
}

/** Space-separated words of text[from, to), a double-quoted word without its quotes. */
function splitWords(text, from, to, words, starts) {
  let count = 0;
  let i = from;
  while (i < to) {
    while (i < to && text.charCodeAt(i) === 32) i++;
    if (i >= to) break;
    const start = i;
    if (text.charCodeAt(i) === 34 /* " */) {
      i++;
      while (i < to && text.charCodeAt(i) !== 34) i++;
      i++;
      words[count] = text.slice(start + 1, i - 1);
    } else {
      while (i < to && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 13) i++;
      words[count] = text.slice(start, i);
    }
    starts[count++] = start;
  }
  return count;
}
