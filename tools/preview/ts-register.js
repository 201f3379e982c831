/**
 * `node --require ts-register.js`: the preview's TypeScript loader, for its CLI (`npm run preview`) and for the program's
 * capture process. Each .ts module required is compiled by esbuild (the transform tsx runs) with the nearest
 * tsconfig.json's compiler options, and nothing else is touched: JavaScript, the SDK and node_modules load as plain
 * Node.js loads them. tsx also scans every JavaScript file it loads for ES module syntax, which under a Pulumi program
 * (thousands of @pulumi/aws modules) costs more than compiling the program, and starts a loader thread and a launcher
 * process. Unlike the ts-node `pulumi preview` runs a TypeScript program with, it does not type-check (the CLI's
 * PULUMI_NODEJS_TRANSPILE_ONLY=true): `npm run build` type-checks the project.
 * What esbuild emits is kept in node_modules/.cache/preview-ts under a digest of everything that decides it (the
 * source, the transform's options and esbuild's version), so an unchanged module is not compiled again.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const esbuild = require("esbuild");

const CACHE_DIR = path.join(__dirname, "..", "..", "node_modules", ".cache", "preview-ts");
const TARGET = `node${process.versions.node.split(".")[0]}`;

const tsconfigs = new Map();

/** The compilerOptions of the tsconfig.json nearest to `dir`, as esbuild takes them (undefined without one). */
function compilerOptions(dir) {
    if (tsconfigs.has(dir)) return tsconfigs.get(dir);
    let options;
    const file = path.join(dir, "tsconfig.json");
    if (fs.existsSync(file)) {
        try {
            options = JSON.parse(fs.readFileSync(file, "utf8")).compilerOptions ?? {};
        } catch {
            options = {}; // A tsconfig.json with comments: esbuild's defaults, as for a program without one.
        }
    } else if (path.dirname(dir) !== dir) {
        options = compilerOptions(path.dirname(dir));
    }
    tsconfigs.set(dir, options);
    return options;
}

function compile(module, filename) {
    const options = compilerOptions(path.dirname(filename));
    const source = fs.readFileSync(filename, "utf8");
    const loader = filename.endsWith(".tsx") ? "tsx" : "ts";
    const transform = {
        loader,
        format: "cjs",
        target: TARGET,
        // As TypeScript and ts-node emit CommonJS: import() becomes require(), which this hook serves; left as import(),
        // Node's ES module loader would take it and cannot load TypeScript.
        supported: { "dynamic-import": false },
        sourcefile: filename,
        tsconfigRaw: options ? { compilerOptions: options } : undefined,
    };
    const digest = crypto.createHash("sha256").update(JSON.stringify([esbuild.version, transform])).update(source).digest("hex");
    const cached = path.join(CACHE_DIR, `${digest}.js`);
    let code;
    try {
        code = fs.readFileSync(cached, "utf8");
    } catch {
        ({ code } = esbuild.transformSync(source, transform));
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            // Written whole under another name first, so a concurrent preview never reads half a module.
            const partial = `${cached}.${process.pid}`;
            fs.writeFileSync(partial, code);
            fs.renameSync(partial, cached);
        } catch {
            // A read-only checkout: compile every time.
        }
    }
    module._compile(code, filename);
}

for (const extension of [".ts", ".cts", ".tsx"]) require.extensions[extension] = compile;
