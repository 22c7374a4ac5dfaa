// The config file `.dockfw-lint.json`, as its schema (schemas/config.schema.json) allows.

import type { ConfigSuppression } from '../engine/suppressions.ts';

export type RuleLevel = 'off' | 'error' | 'warning' | 'info';
export type FailureThreshold = 'error' | 'warning' | 'info' | 'none';

export interface ConfigFile {
  readonly $schema?: string;
  readonly rules?: Readonly<Record<string, RuleLevel | readonly [RuleLevel] | readonly [RuleLevel, Readonly<Record<string, unknown>>]>>;
  readonly externalInterfaces?: readonly string[];
  readonly localAddresses?: readonly string[];
  readonly intendedPublicPorts?: readonly string[];
  readonly suppressions?: readonly ConfigSuppression[];
  readonly plugins?: readonly string[];
  readonly failureThreshold?: FailureThreshold;
}

/** A config problem for the user: which file, where in it (JSON pointer), what is wrong. */
export interface ConfigProblem {
  readonly file: string;
  readonly pointer?: string;
  readonly message: string;
  readonly hint?: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: ConfigProblem };
