/**
 * Loaded into each service by the end-to-end benchmark only (`node --expose-gc --require
 * bench/e2e/gc-hook.js dist/apps/<name>/main.js`); nothing in apps/ or libs/ knows of it.
 *
 * On SIGUSR2 (which neither the services nor kafkajs, prom-client, pino or Nest listen to: Nest
 * only would with `enableShutdownHooks()` without arguments, which no service calls) it runs two
 * full collections (`global.gc()`) and writes `process.memoryUsage()` from before and after them,
 * as JSON, to the file named by BENCH_GC_REPORT_FILE (written to a temporary name, then renamed,
 * so the harness never reads half a file). Without that variable or without `--expose-gc` it does
 * nothing.
 */
'use strict';
const { renameSync, writeFileSync } = require('node:fs');

const file = process.env.BENCH_GC_REPORT_FILE;
if (file && typeof global.gc === 'function') {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage();
    const t0 = performance.now();
    global.gc();
    global.gc();
    const gcMs = performance.now() - t0;
    const after = process.memoryUsage();
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ pid: process.pid, at: Date.now(), gcMs, before, after }));
    renameSync(tmp, file);
  });
}
