// Orders strings by UTF-16 code unit, as Array.prototype.sort does without a
// comparator. localeCompare and Intl.Collator follow the user's locale (Danish
// puts "aa" after "z", Lithuanian "y" after "i"), so any sort whose order shows
// in the output would make the same dump print differently on two hosts.

/** Code-unit order of two strings: negative, zero or positive, the same in every locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
