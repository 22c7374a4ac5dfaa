// Config loading for the CLI: the file (given or found upward), plugins, rule
// settings, and the flags that override it.

import { relative, resolve, sep } from 'node:path';
import { findConfig, readConfig } from '../config/load.ts';
import { loadPlugins, resolveRuleConfig } from '../config/resolve.ts';
import type { ConfigFile, ConfigProblem, FailureThreshold } from '../config/types.ts';
import type { RuleConfig } from '../engine/engine.ts';
import { ENGINE_RULES } from '../engine/engine-rules.ts';
import type { ConfigSuppression } from '../engine/suppressions.ts';
import type { LintRule, LintSettings } from '../engine/types.ts';
import type { CliIO } from './io.ts';

export interface EffectiveConfig {
  /** Display path of the config file, if one was used. */
  readonly file?: string;
  readonly text?: string;
  readonly config: ConfigFile;
  /** Built-in plus plugin rules. */
  readonly rules: readonly LintRule[];
  readonly ruleConfig: RuleConfig;
  readonly suppressions: readonly ConfigSuppression[];
}

export class ConfigFailure extends Error {
  constructor(readonly problem: ConfigProblem) {
    super(problem.message);
  }
}

function show(io: CliIO, path: string): string {
  const rel = relative(io.cwd, path) || path;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** Loads `--config FILE` or the nearest `.dockfw-lint.json`; none is fine. Throws ConfigFailure. */
export async function loadEffectiveConfig(io: CliIO, configOption: string | undefined, builtin: readonly LintRule[]): Promise<EffectiveConfig> {
  const path = configOption !== undefined ? resolve(io.cwd, configOption) : findConfig(io.cwd);
  if (path === undefined) return { config: {}, rules: builtin, ruleConfig: {}, suppressions: [] };
  const file = show(io, path);
  const loaded = readConfig(path);
  if (!loaded.ok) throw new ConfigFailure({ ...loaded.problem, file });
  const { config, text } = loaded.value;
  const plugins = await loadPlugins(config, path, [...ENGINE_RULES, ...builtin]);
  if (!plugins.ok) throw new ConfigFailure({ ...plugins.problem, file });
  const rules = [...builtin, ...plugins.value];
  // The engine's own diagnostics (DFW001 …) are configured like rules.
  const ruleConfig = await resolveRuleConfig(config, [...ENGINE_RULES, ...rules], file);
  if (!ruleConfig.ok) throw new ConfigFailure(ruleConfig.problem);
  return { file, text, config, rules, ruleConfig: ruleConfig.value, suppressions: config.suppressions ?? [] };
}

export interface HostFlags {
  readonly extIf?: readonly string[];
  readonly localAddr?: readonly string[];
}

/** Flags override the config (a flag given replaces the config's list). */
export function lintSettings(config: ConfigFile, flags: HostFlags): LintSettings {
  return {
    externalInterfaces: flags.extIf && flags.extIf.length > 0 ? flags.extIf : config.externalInterfaces ?? [],
    localAddresses: flags.localAddr && flags.localAddr.length > 0 ? flags.localAddr : config.localAddresses ?? [],
    intendedPublicPorts: config.intendedPublicPorts ?? [],
  };
}

export function failureThreshold(flag: FailureThreshold | undefined, config: ConfigFile): FailureThreshold {
  return flag ?? config.failureThreshold ?? 'error';
}
