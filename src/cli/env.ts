/** Loads an optional `.env` (never overriding variables already set) for the commands that run. */
import fs from 'node:fs';
import dotenv from 'dotenv';

export function loadDotEnv(file = '.env'): void {
  if (fs.existsSync(file)) dotenv.config({ path: file, override: false, quiet: true } as dotenv.DotenvConfigOptions);
}
