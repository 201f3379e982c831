/**
 * `node pack-runner.js <run-policy-pack script> <engine address> <pack dir>`, in the pack's directory: runs the
 * policy pack runner the CLI's analyzer plugin runs (@pulumi/pulumi/cmd/run-policy-pack, resolved from the pack),
 * with the arguments the CLI gives it, once the SDK modules a pack never uses, and the TypeScript registration a
 * compiled pack never needs, are deferred (defer-modules.js).
 */
"use strict";
const { deferSdkModules, deferTypeScriptRegistration } = require("./defer-modules");

const [runner, ...args] = process.argv.slice(2);
deferSdkModules(process.cwd());
deferTypeScriptRegistration(process.cwd());
// The runner reads its arguments from process.argv as when the CLI starts it: `node <runner> <engine> <pack dir>`.
process.argv = [process.argv[0], runner, ...args];
require(runner);
