/**
 * Defers loading two modules @pulumi/pulumi loads as soon as it loads, for serializing function closures, until
 * something uses them: @npmcli/arborist (and through it pacote, npm-registry-fetch, sigstore and the rest of npm's
 * install machinery), required by runtime/closure/codePaths.js for packaging a closure with its node_modules, which
 * neither a program under preview nor a policy pack does; and TypeScript itself, through the SDK's typescript-shim,
 * for parsing a closure's source, which the preview needs only when it serializes dynamic providers
 * (provider-check.ts). Together most of the SDK's load time. Whatever uses them gets the real module at first use.
 *
 * Plain JavaScript, so the policy pack's process (plain node, see pack-runner.js) can load it as well as the
 * capture process (capture-child.ts).
 */
"use strict";
const Module = require("node:module");
const path = require("node:path");

/** Puts a stand-in for the module at `resolved` in the require cache; the real module loads at its first use. */
function deferModule(resolved) {
    if (require.cache[resolved]) return false;
    let real;
    const load = () => {
        if (real === undefined) {
            delete require.cache[resolved];
            real = require(resolved);
        }
        return real;
    };
    const stub = new Module(resolved, null);
    stub.filename = resolved;
    stub.loaded = true;
    stub.paths = Module._nodeModulePaths(path.dirname(resolved));
    // TypeScript's __importStar reads __esModule first: answered without loading, so the namespace it keeps is this
    // proxy, and the first real use (new arborist.Arborist(...), ts.createSourceFile(...)) loads the module.
    stub.exports = new Proxy({}, {
        get: (_, key) => (key === "__esModule" ? true : Reflect.get(load(), key)),
        has: (_, key) => Reflect.has(load(), key),
        ownKeys: () => Reflect.ownKeys(load()),
        getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
            return descriptor && { ...descriptor, configurable: true };
        },
    });
    require.cache[resolved] = stub;
    return true;
}

/** Defers both for the @pulumi/pulumi that `fromDir` resolves; returns the modules deferred. */
function deferSdkModules(fromDir) {
    let sdkDir;
    try {
        sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [fromDir] }));
    } catch {
        return [];
    }
    const deferred = [];
    for (const [name, resolve] of [
        ["@npmcli/arborist", () => require.resolve("@npmcli/arborist", { paths: [sdkDir] })],
        ["typescript", () => path.join(sdkDir, "typescript-shim.js")],
    ]) {
        try {
            if (deferModule(resolve())) deferred.push(name);
        } catch {
            // Not installed where this SDK looks: nothing to defer.
        }
    }
    return deferred;
}

module.exports = { deferModule, deferSdkModules };
