/**
 * How a reader knows a file on a partner's server is complete: the connection declares the
 * producer's habit (fact sheet §5). Never mtime alone.
 *
 * - `rename`: the producer writes under a temporary name (`.tmp`, `.part`, WinSCP's `.filepart`,
 *   `.incomplete`) and renames when done; every other file is complete.
 * - `marker`: the producer writes `X.csv`, then an empty `X.csv.done` (or `.ok`); `X.csv` is
 *   complete once its marker exists. The marker travels with the file to archive or error.
 * - `stable-size`: for producers that can do neither: a file is complete when its size and
 *   modification time are the same in two polls. The previous poll's observation is the
 *   caller's state (it is returned to be kept, e.g. in a job's data or a table).
 */
export type CompletionConvention =
  | { kind: 'rename'; tempSuffixes?: readonly string[] }
  | { kind: 'marker'; markerSuffixes?: readonly string[] }
  | { kind: 'stable-size' };

export const DEFAULT_TEMP_SUFFIXES = ['.tmp', '.part', '.filepart', '.incomplete'] as const;
export const DEFAULT_MARKER_SUFFIXES = ['.done', '.ok'] as const;

/** A regular file of a listing. `modifiedAt` is epoch ms (SFTP v3 has whole seconds). */
export interface RemoteEntry {
  name: string;
  size: number;
  modifiedAt: number;
}

/** A complete file, with the marker that made it complete (`marker` convention). */
export interface CompleteFile extends RemoteEntry {
  marker?: string;
}

/** Size and modification time per file name, as seen by one poll (`stable-size`). */
export type StableSizeObservation = Record<string, { size: number; modifiedAt: number }>;

/**
 * The complete files of one directory listing by `convention`, in name order (partners' names
 * carry a timestamp and a sequence, so name order is production order), and the observation to
 * keep for the next poll (`stable-size`; empty otherwise).
 */
export function pickCompleteFiles(
  entries: readonly RemoteEntry[],
  convention: CompletionConvention,
  previous: StableSizeObservation = {},
): { complete: CompleteFile[]; observation: StableSizeObservation } {
  const tempSuffixes =
    convention.kind === 'rename' ? (convention.tempSuffixes ?? DEFAULT_TEMP_SUFFIXES) : DEFAULT_TEMP_SUFFIXES;
  const isTemporary = (name: string) =>
    name.startsWith('.') || tempSuffixes.some((suffix) => name.endsWith(suffix));
  const candidates = entries.filter((entry) => !isTemporary(entry.name));
  const byName = (a: RemoteEntry, b: RemoteEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  switch (convention.kind) {
    case 'rename':
      return { complete: [...candidates].sort(byName), observation: {} };
    case 'marker': {
      const suffixes = convention.markerSuffixes ?? DEFAULT_MARKER_SUFFIXES;
      const names = new Set(candidates.map((entry) => entry.name));
      const isMarker = (name: string) =>
        suffixes.some((suffix) => name.endsWith(suffix) && names.has(name.slice(0, -suffix.length)));
      const complete: CompleteFile[] = [];
      for (const entry of candidates) {
        if (isMarker(entry.name)) continue;
        const marker = suffixes.map((suffix) => entry.name + suffix).find((name) => names.has(name));
        if (marker) complete.push({ ...entry, marker });
      }
      return { complete: complete.sort(byName), observation: {} };
    }
    case 'stable-size': {
      const observation: StableSizeObservation = {};
      const complete: CompleteFile[] = [];
      for (const entry of candidates) {
        observation[entry.name] = { size: entry.size, modifiedAt: entry.modifiedAt };
        const before = previous[entry.name];
        if (before && before.size === entry.size && before.modifiedAt === entry.modifiedAt)
          complete.push(entry);
      }
      return { complete: complete.sort(byName), observation };
    }
  }
}
