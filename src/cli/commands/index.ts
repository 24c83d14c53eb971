import type { Command } from 'commander';
import { register as emulate } from './emulate.ts';
import { register as faq } from './faq.ts';
import { register as migrate } from './migrate.ts';
import { register as qr } from './qr.ts';
import { register as start } from './start.ts';

/** Every command group of the CLI, in the order `--help` lists them. */
export const commands: Array<(program: Command) => void> = [start, migrate, emulate, faq, qr];
