// What the precompiled validators' errors mean for a user: a JSON pointer and
// a sentence, for the keywords every schema of ours uses (config, baseline).

export interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

export function describeAjvError(error: AjvError): { pointer: string; message: string } {
  const pointer = error.instancePath || '/';
  switch (error.keyword) {
    case 'additionalProperties':
      return { pointer: `${error.instancePath}/${String(error.params.additionalProperty)}`, message: `unknown key "${String(error.params.additionalProperty)}"` };
    case 'required':
      return { pointer: `${error.instancePath}/${String(error.params.missingProperty)}`, message: `"${String(error.params.missingProperty)}" is required` };
    case 'enum':
      return { pointer, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { pointer, message: error.message ?? 'is invalid' };
  }
}
