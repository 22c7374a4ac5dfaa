// The Chevrotain parser: the statement structure of an iptables-save stream.
//
// One statement per line; `Newline` is the re-synchronisation point, so one
// bad line costs one error and the rest of the file is still read.

import { EmbeddedActionsParser, type IOrAlt, type IRecognitionException, type IToken } from 'chevrotain';
import {
  allTokens, ChainDecl, ChainLine, CommandLine, Comment, Commit, Counters, Newline, TableHeader, Word,
  type ChainStatement, type CommandStatement, type Place,
} from './lexer.ts';

export type { CommandName, Place } from './lexer.ts';

export type Statement =
  | { readonly kind: 'comment'; readonly text: string; readonly at: Place }
  | { readonly kind: 'table'; readonly name: string; readonly at: Place; readonly extra?: Place }
  | ChainStatement
  | { readonly kind: 'commit'; readonly at: Place; readonly extra?: Place }
  | CommandStatement;


// Chevrotain leaves NaN in the positions of tokens it inserts while recovering, so its
// position fields hold boxed doubles; `| 0` turns the real ones back into small integers,
// or every span built from them would box its numbers too (48 bytes a span).
function place(token: IToken): Place {
  const line = token.startLine ?? 1;
  const column = token.startColumn ?? 1;
  if (!Number.isInteger(line) || !Number.isInteger(column)) return { line: Number.NaN, column: Number.NaN, endColumn: Number.NaN };
  return { line: line | 0, column: column | 0, endColumn: (column + token.image.length) | 0 };
}

class StatementParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 2, skipValidations: true });
    this.performSelfAnalysis();
  }

  public document = this.RULE('document', (): Statement[] => {
    const statements: Statement[] = [];
    this.MANY(() => {
      const statement = this.SUBRULE(this.statement);
      if (statement) statements.push(statement);
    });
    return statements;
  });

  // Built once, not per statement: Chevrotain's advice for OR in hot rules (a fresh array of
  // six closures for each of 230,000 lines was a tenth of a large file's garbage).
  private statementAlternatives?: IOrAlt<Statement | undefined>[];

  private statement = this.RULE('statement', (): Statement | undefined => this.OR(this.statementAlternatives ??= [
    { ALT: () => { this.CONSUME(Newline); return undefined; } },
    { ALT: () => this.SUBRULE(this.comment) },
    { ALT: () => this.SUBRULE(this.table) },
    { ALT: () => this.SUBRULE(this.chain) },
    { ALT: () => this.SUBRULE(this.commit) },
    { ALT: () => this.CONSUME(CommandLine).payload as CommandStatement },
    { ALT: () => this.CONSUME(ChainLine).payload as ChainStatement },
  ]), { recoveryValueFunc: () => undefined });

  private comment = this.RULE('comment', (): Statement => {
    const token = this.CONSUME(Comment);
    this.CONSUME2(Newline);
    return { kind: 'comment', text: token.image, at: place(token) };
  });

  private table = this.RULE('table', (): Statement => {
    const header = this.CONSUME(TableHeader);
    this.CONSUME3(Newline);
    return { kind: 'table', name: header.image.slice(1), at: place(header) };
  });

  private chain = this.RULE('chain', (): Statement => {
    const decl = this.CONSUME(ChainDecl);
    const policy = this.CONSUME(Word);
    let counters: IToken | undefined;
    this.OPTION(() => { counters = this.CONSUME(Counters); });
    this.CONSUME4(Newline);
    return {
      kind: 'chain', name: decl.image.slice(1), at: place(decl),
      policy: policy.image, policyAt: place(policy), counters: counters?.image,
    };
  });

  private commit = this.RULE('commit', (): Statement => {
    const token = this.CONSUME(Commit);
    this.CONSUME5(Newline);
    return { kind: 'commit', at: place(token) };
  });
}

let shared: StatementParser | undefined;

export interface StatementParseResult {
  readonly statements: readonly Statement[];
  readonly errors: readonly IRecognitionException[];
}

/** One parser instance for the process: self-analysis is the expensive part of start-up. */
export function parseStatements(tokens: IToken[]): StatementParseResult {
  shared ??= new StatementParser();
  shared.input = tokens;
  const statements = shared.document();
  return { statements, errors: shared.errors };
}

export const tokenNames = {
  [Newline.name]: 'end of line', [Word.name]: 'a word', [Counters.name]: 'counters [packets:bytes]',
  [CommandLine.name]: 'a command',
} as Readonly<Record<string, string>>;
