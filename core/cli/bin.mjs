#!/usr/bin/env node
// The `taskdeck` command: registers tsx so the TypeScript sources (and .ts plugins) run without a build.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
