/**
 * Defers loading modules @pulumi/pulumi loads as soon as it loads until something uses them: @npmcli/arborist (and
 * through it pacote, npm-registry-fetch, sigstore and the rest of npm's install machinery) and normalize-package-data,
 * required by runtime/closure/codePaths.js for packaging a closure with its node_modules, which neither a program
 * under preview nor a policy pack does; TypeScript itself, through the SDK's typescript-shim, for parsing a closure's
 * source, which the preview needs only when it serializes dynamic providers (provider-check.ts); and the Automation
 * API, which the SDK's index loads for `pulumi.automation`. Together most of the SDK's load time. Whatever uses them
 * gets the real module at first use.
 * For the policy pack's process, deferTypeScriptRegistration does the same for the runner's ts-node registration;
 * for the program under preview, deferAwsSdk for the AWS SDK clients its dynamic providers use.
 *
 * Plain JavaScript, so the policy pack's process (plain node, see pack-runner.js) can load it as well as the
 * capture process (capture-child.ts).
 */
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

/** The stand-ins deferModule put in the require cache, until their module loads. */
const deferredStubs = new WeakSet();

/**
 * Puts a stand-in for the module at `resolved` in the require cache; the real module loads at its first use. With
 * `keepStandIn` the stand-in stays in the cache after that, so the module's exports keep one identity (what
 * closure serialization looks up in the require cache to write `require(...)` for a captured module). With
 * `exportsFunction` the module's exports are a CommonJS function (`module.exports = fn`), which the stand-in is too.
 */
function deferModule(resolved, { keepStandIn = false, exportsFunction = false } = {}) {
    if (require.cache[resolved]) return false;
    let real;
    let stub;
    const load = () => {
        if (real === undefined) {
            delete require.cache[resolved];
            real = require(resolved);
            if (keepStandIn) require.cache[resolved] = stub;
        }
        return real;
    };
    stub = new Module(resolved, null);
    stub.filename = resolved;
    stub.loaded = true;
    stub.paths = Module._nodeModulePaths(path.dirname(resolved));
    // TypeScript's __importStar reads __esModule first: answered without loading, so the namespace it keeps is this
    // proxy, and the first real use (new arborist.Arborist(...), ts.createSourceFile(...)) loads the module. Its
    // __importDefault reads it too: a function's stand-in answers that it is none, so `.default` is the stand-in itself.
    // (An arrow function as the target: it has no `prototype`, whose descriptor a proxy could not report as configurable.)
    stub.exports = new Proxy(exportsFunction ? () => undefined : {}, {
        apply: (_, thisArg, args) => Reflect.apply(load(), thisArg, args),
        get: (_, key) => (key === "__esModule" ? !exportsFunction : Reflect.get(load(), key)),
        has: (_, key) => Reflect.has(load(), key),
        ownKeys: () => Reflect.ownKeys(load()),
        getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
            return descriptor && { ...descriptor, configurable: true };
        },
    });
    require.cache[resolved] = stub;
    deferredStubs.add(stub);
    return true;
}

/**
 * A deferred module's exports with some properties answered without loading it. The proxy's target is an empty
 * object, not the deferred exports: a proxy over them would check its answers against them, which loads the module.
 */
function withOverrides(lazy, overrides) {
    return new Proxy({}, {
        get: (_, key) => (Object.hasOwn(overrides, key) ? overrides[key] : Reflect.get(lazy, key)),
        has: (_, key) => Object.hasOwn(overrides, key) || Reflect.has(lazy, key),
        ownKeys: () => Reflect.ownKeys(lazy),
        getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(lazy, key),
    });
}

/** The directory of the @pulumi/pulumi that `fromDir` resolves, if any. */
function sdkDirFrom(fromDir) {
    try {
        return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [fromDir] }));
    } catch {
        return undefined;
    }
}

/** Defers them for the @pulumi/pulumi that `fromDir` resolves; returns the modules deferred. */
function deferSdkModules(fromDir) {
    const sdkDir = sdkDirFrom(fromDir);
    if (sdkDir === undefined) return [];
    const deferred = [];
    for (const [name, resolve, options] of [
        ["@npmcli/arborist", () => require.resolve("@npmcli/arborist", { paths: [sdkDir] })],
        ["normalize-package-data", () => require.resolve("normalize-package-data", { paths: [sdkDir] }), { exportsFunction: true }],
        ["typescript", () => path.join(sdkDir, "typescript-shim.js")],
        ["@pulumi/pulumi/automation", () => require.resolve(path.join(sdkDir, "automation"))],
    ]) {
        try {
            if (deferModule(resolve(), options)) deferred.push(name);
        } catch {
            // Not installed where this SDK looks: nothing to defer.
        }
    }
    return deferred;
}

/**
 * For the program under preview: the AWS SDK v3 packages its package.json depends on (@aws-sdk/client-*, used by
 * dynamic providers, which only the engine's provider plugin runs), about half a second of CPU at every capture.
 * A provider that is serialized (provider-check.ts) still captures each as `require(...)` of the same module.
 */
function deferAwsSdk(fromDir) {
    let dir = path.resolve(fromDir);
    while (!fs.existsSync(path.join(dir, "package.json"))) {
        if (path.dirname(dir) === dir) return [];
        dir = path.dirname(dir);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const deferred = [];
    for (const name of Object.keys(manifest.dependencies ?? {}).filter((dependency) => dependency.startsWith("@aws-sdk/"))) {
        try {
            if (deferModule(require.resolve(name, { paths: [fromDir] }), { keepStandIn: true })) deferred.push(name);
        } catch {
            // Declared but not installed: the program's own require reports it.
        }
    }
    return deferred;
}

/**
 * For the policy pack's process: the runner the CLI starts (@pulumi/pulumi/cmd/run-policy-pack) registers ts-node,
 * type-checking, before it loads any pack, and reads TypeScript's version to configure it; a compiled pack never
 * requires a .ts file, yet loading both costs about half a second of CPU at every start. Here `register(options)`
 * installs require hooks that load the real ts-node and register it with the same options when the first
 * TypeScript file is required, and TypeScript's version is read from its package.json. A pack in TypeScript is
 * compiled and type-checked exactly as before, from its first .ts module on.
 */
function deferTypeScriptRegistration(fromDir) {
    const sdkDir = sdkDirFrom(fromDir);
    if (sdkDir === undefined) return [];
    const deferred = [];
    let typescript;
    try {
        typescript = require.resolve("typescript", { paths: [sdkDir] });
    } catch {
        // The runner falls back to the SDK's vendored TypeScript: nothing to defer.
    }
    if (typescript && !require.cache[typescript]) {
        const version = JSON.parse(fs.readFileSync(path.join(path.dirname(typescript), "..", "package.json"), "utf8")).version;
        if (deferModule(typescript)) {
            require.cache[typescript].exports = withOverrides(require.cache[typescript].exports, { version });
            deferred.push("typescript");
        }
    }
    // The runner reads the pack's tsconfig.json with TypeScript's parser (tsutils.loadTypeScriptCompilerOptions); a
    // file that is plain JSON parses to the same object without loading TypeScript, one with comments still loads it.
    const shim = require.cache[path.join(sdkDir, "typescript-shim.js")];
    if (shim && deferredStubs.has(shim)) {
        const lazy = shim.exports;
        const parseConfigFileTextToJson = (fileName, text) => {
            try {
                return { config: JSON.parse(text) };
            } catch {
                return lazy.parseConfigFileTextToJson(fileName, text);
            }
        };
        shim.exports = withOverrides(lazy, { parseConfigFileTextToJson });
    }
    let tsNode;
    try {
        tsNode = require.resolve("ts-node", { paths: [sdkDir] });
    } catch {
        return deferred;
    }
    if (require.cache[tsNode]) return deferred;
    const stub = new Module(tsNode, null);
    stub.filename = tsNode;
    stub.loaded = true;
    stub.exports = {
        register(options) {
            const extensions = [".ts", ".tsx", ".mts", ".cts"];
            const before = new Map(extensions.map((extension) => [extension, require.extensions[extension]]));
            const firstTypeScriptModule = (module, filename) => {
                for (const [extension, hook] of before) {
                    if (hook) require.extensions[extension] = hook;
                    else delete require.extensions[extension];
                }
                delete require.cache[tsNode];
                require(tsNode).register(options);
                return require.extensions[path.extname(filename)](module, filename);
            };
            for (const extension of extensions) require.extensions[extension] = firstTypeScriptModule;
        },
    };
    require.cache[tsNode] = stub;
    deferredStubs.add(stub);
    deferred.push("ts-node");
    return deferred;
}

/** Whether the module at `resolved` is still a stand-in, its real module not loaded. */
function isDeferred(resolved) {
    return require.cache[resolved] !== undefined && deferredStubs.has(require.cache[resolved]);
}

module.exports = { deferAwsSdk, deferModule, deferSdkModules, deferTypeScriptRegistration, isDeferred };
