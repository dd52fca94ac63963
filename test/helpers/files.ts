import { readFileSync } from 'node:fs';

/** A file's text, or '' while it does not exist yet: for polling files that jobs write. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
