/**
 * Loading scenarios from disk: scenarios/<name>/scenario.json plus its rules file.
 *
 * IO lives here (reading files); validation and checking are pure (src/core/scenario-*.ts).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../cli/errors.js';
import type { ParseResult } from '../core/model.js';
import { parseRuleset } from '../core/parse/index.js';
import type { Scenario } from '../core/scenario.js';
import { validateScenario } from '../core/scenario-validate.js';
import type { LoadedSource } from './types.js';

/** A scenario read from its folder, with its rules parsed. */
export interface LoadedScenario {
  scenario: Scenario;
  /** The scenario folder (as given). */
  dir: string;
  /** Path of the rules file. */
  rulesPath: string;
  rulesText: string;
  parse: ParseResult;
}

/** True when `dir` is a folder holding a scenario.json. */
export async function isScenarioDir(dir: string): Promise<boolean> {
  try {
    const s = await stat(join(dir, 'scenario.json'));
    return s.isFile();
  } catch {
    return false;
  }
}

/**
 * Read and validate `DIR/scenario.json`, read and parse its rules file (family from the scenario).
 * Throws CliError (exit 2) naming the file for a missing folder, invalid JSON or an invalid scenario.
 */
export async function loadScenario(dir: string): Promise<LoadedScenario> {
  const file = join(dir, 'scenario.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(`${file}: cannot read scenario (is ${dir} a scenario folder?)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { scenario, errors } = validateScenario(raw, file);
  if (!scenario) throw new CliError(errors.length === 1 ? errors[0] : `${errors[0]} (and ${errors.length - 1} more problem(s))`);
  const rulesPath = join(dir, scenario.rules);
  let rulesText: string;
  try {
    rulesText = await readFile(rulesPath, 'utf8');
  } catch {
    throw new CliError(`${file}: rules file ${rulesPath} cannot be read`);
  }
  const parse = parseRuleset(rulesText, { file: rulesPath, family: scenario.family });
  return { scenario, dir, rulesPath, rulesText, parse };
}

/**
 * The scenario folders directly under `root` (those holding a scenario.json), sorted by name.
 * Throws CliError when `root` cannot be read.
 */
export async function listScenarios(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    throw new CliError(`${root}: cannot read the scenarios folder`);
  }
  const dirs: string[] = [];
  for (const name of names.sort()) {
    const dir = join(root, name);
    if (await isScenarioDir(dir)) dirs.push(dir);
  }
  return dirs;
}

/** A loaded scenario as a SOURCE (its rules and its host context), e.g. for `iptscope trace DIR`. */
export function scenarioSource(loaded: LoadedScenario): LoadedSource {
  return {
    kind: 'directory',
    label: `scenario ${loaded.scenario.name}`,
    path: loaded.rulesPath,
    rulesets: { [loaded.scenario.family]: loaded.parse },
    texts: { [loaded.scenario.family]: loaded.rulesText },
    context: loaded.scenario.context,
    notes: [],
  };
}

/** Where the bundled scenarios live: `scenarios/` at the package root (src/sources and dist/sources are both two levels down). */
export function defaultScenariosRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../scenarios');
}

/** Path of the built-in demo scenario (scenarios/seed-kube-proxy). */
export function demoScenarioDir(): string {
  return join(defaultScenariosRoot(), 'seed-kube-proxy');
}
