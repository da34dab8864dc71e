#!/usr/bin/env node
// The `clipwise-accountant` bin: everything happens in cli/main.ts so tests can run it in-process.
import { main } from './cli/main';

process.exitCode = main(process.argv.slice(2));
