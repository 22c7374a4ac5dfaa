// import(), in one place. In the bundled CLI, scripts/build-options.mjs swaps
// this module for the loader's own import() (scripts/cli-launcher.mjs): code
// compiled from V8's code cache has no import() of its own in Node 20.

/** The module at `specifier` (a package name, or a file: URL). */
export function importModule(specifier: string): Promise<unknown> {
  return import(specifier);
}
