/**
 * `node --require ts-register.js`: the capture process's TypeScript loader. Each .ts module the program requires is
 * compiled by esbuild (the transform tsx runs) with the nearest tsconfig.json's compiler options, and nothing else is
 * touched: JavaScript, the SDK and node_modules load as plain Node.js loads them. tsx also scans every JavaScript file
 * it loads for ES module syntax, which under a Pulumi program (thousands of @pulumi/aws modules) costs more than
 * compiling the program. Like ts-node, which `pulumi preview` runs a TypeScript program with, it does not type-check.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

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
    const { code } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
        loader: filename.endsWith(".tsx") ? "tsx" : "ts",
        format: "cjs",
        target: `node${process.versions.node.split(".")[0]}`,
        sourcefile: filename,
        tsconfigRaw: options ? { compilerOptions: options } : undefined,
    });
    module._compile(code, filename);
}

for (const extension of [".ts", ".cts", ".tsx"]) require.extensions[extension] = compile;
