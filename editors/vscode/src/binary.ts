// Finding the daemon's executable: the astfill.path setting, else `astfill` on
// PATH. When it is not there the message names every place tried and the
// setting to change. Pure apart from the injected file check.
import * as path from 'node:path';

export type BinaryLookup = { ok: true; path: string } | { ok: false; tried: string[]; message: string };

export function findBinary(
  setting: string,
  envPath: string | undefined,
  isExecutable: (file: string) => boolean,
): BinaryLookup {
  if (setting) {
    if (isExecutable(setting)) return { ok: true, path: setting };
    return {
      ok: false,
      tried: [setting],
      message: `astfill: the daemon was not found: "${setting}" (the astfill.path setting) is not an executable file. ` +
        'Build it with scripts/build (it is build/cli/astfill in the astfill checkout) and set astfill.path to it.',
    };
  }
  const tried = (envPath ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'astfill'));
  for (const candidate of tried) if (isExecutable(candidate)) return { ok: true, path: candidate };
  return {
    ok: false,
    tried,
    message: 'astfill: the daemon was not found: astfill.path is not set and there is no "astfill" on PATH. ' +
      'Build it with scripts/build (it is build/cli/astfill in the astfill checkout) and set astfill.path to it.',
  };
}
