// A recipe may name the model it was written for (`model.id`, `model.sha256`); running it on
// another model is refused, since every index and sparsity in it was chosen for that one.

/** A problem when the recipe names a model other than `actual`; undefined when it fits (or names none). */
export function modelMismatch(expected: { id?: string; sha256?: string } | undefined, actual: { id?: string; sha256?: string }): string | undefined {
  if (expected?.id !== undefined && actual.id !== undefined && expected.id !== actual.id) return `model.id: the recipe is for "${expected.id}", not "${actual.id}"`;
  if (expected?.sha256 !== undefined && actual.sha256 !== undefined && expected.sha256 !== actual.sha256) {
    return `model.sha256: the recipe is for a file with SHA-256 ${expected.sha256.slice(0, 12)}…, not ${actual.sha256.slice(0, 12)}…`;
  }
  return undefined;
}
