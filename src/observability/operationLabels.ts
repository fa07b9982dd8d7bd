/** What a well-formed operation name looks like; anything else is labelled `other`. */
export const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** How operation names become metric labels. */
export interface OperationLabelOptions {
  /** Names that always get their own label, however many others clients have sent. @default none */
  readonly registered?: Iterable<string>;
  /** Most other names that get a label of their own, first come first served; later ones are `other`. @default 100 */
  readonly maxUnregistered?: number;
}

/**
 * Creates the function that turns a request's operation name into its metric label: `anonymous`
 * without a name, the name itself when registered or among the first `maxUnregistered` others seen,
 * and `other` otherwise, so invented names can neither inflate the label set nor crowd out real ones.
 */
export function createOperationLabels(options: OperationLabelOptions = {}): (name: string | null | undefined) => string {
  const registered = new Set([...(options.registered ?? [])].filter((name) => OPERATION_NAME.test(name)));
  const max = options.maxUnregistered ?? 100;
  const seen = new Set<string>();
  return (name) => {
    if (name === null || name === undefined || name === '') return 'anonymous';
    if (registered.has(name) || seen.has(name)) return name;
    if (!OPERATION_NAME.test(name) || seen.size >= max) return 'other';
    seen.add(name);
    return name;
  };
}
