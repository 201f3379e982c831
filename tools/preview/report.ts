/** The preview's report: the resource tree and the violations, as text (like `pulumi preview`) or JSON. */
import type { Violation } from "./analyzer";
import type { CapturedResource } from "./capture";

export interface PreviewReport {
    project: string;
    stack: string;
    program: string;
    policyPacks: { name: string; version: string }[];
    resources: CapturedResource[];
    violations: Violation[];
}

export interface Summary {
    resources: number;
    mandatory: number;
    advisory: number;
}

export function summarize(report: PreviewReport): Summary {
    return {
        resources: report.resources.length,
        mandatory: report.violations.filter((v) => v.enforcementLevel === "mandatory").length,
        advisory: report.violations.filter((v) => v.enforcementLevel === "advisory").length,
    };
}

/** Internal keys ("__provider" of a dynamic resource is a serialized function) are never shown. */
function visible(props: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(props).filter(([key]) => !key.startsWith("__")));
}

export function toJson(report: PreviewReport): string {
    const summary = summarize(report);
    return JSON.stringify(
        {
            project: report.project,
            stack: report.stack,
            program: report.program,
            policyPacks: report.policyPacks,
            resources: report.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                custom: r.custom,
                parent: r.parent,
                provider: r.provider,
                inputs: visible(r.inputs),
                dependencies: r.dependencies,
                propertyDependencies: r.propertyDependencies,
                options: r.options,
            })),
            violations: report.violations.map((v) => ({
                policyPack: v.policyPack,
                policyPackVersion: v.policyPackVersion,
                policyName: v.policyName,
                enforcementLevel: v.enforcementLevel,
                message: v.message,
                urn: v.urn,
                resourceType: v.resourceType,
                resourceName: v.resourceName,
            })),
            summary,
        },
        null,
        2,
    );
}

function tree(resources: CapturedResource[]): string[] {
    const known = new Set(resources.map((r) => r.urn));
    const children = new Map<string | undefined, CapturedResource[]>();
    for (const r of resources) {
        const parent = r.parent && known.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const typeWidth = Math.max(4, ...resources.map((r) => r.type.length)) + 2;
    const lines = [`     ${"Type".padEnd(typeWidth + 6)}Name`];
    const walk = (parent: string | undefined, prefix: string, depth: number) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
            const label = `${prefix}${branch}${r.type}`;
            lines.push(` +   ${label.padEnd(typeWidth + 6)}${r.name}`);
            walk(r.urn, depth === 0 ? prefix : prefix + (last ? "   " : "│  "), depth + 1);
        });
    };
    walk(undefined, "", 0);
    return lines;
}

function indent(text: string, by: string): string {
    return text.split("\n").map((line) => by + line).join("\n");
}

export function toText(report: PreviewReport): string {
    const summary = summarize(report);
    const out: string[] = [
        `Previewing update (${report.stack}) of project ${report.project}, offline`,
        `Program: ${report.program}`,
        "",
        ...tree(report.resources),
        "",
    ];
    if (report.violations.length === 0) {
        out.push(`Policy packs run: ${report.policyPacks.map((p) => `${p.name}@v${p.version}`).join(", ")}: no violations.`, "");
    } else {
        out.push("Policy Violations:");
        const byPolicy = new Map<string, Violation[]>();
        for (const v of report.violations) {
            const key = `${v.policyPack}@v${v.policyPackVersion}\0${v.policyName}\0${v.enforcementLevel}`;
            byPolicy.set(key, [...(byPolicy.get(key) ?? []), v]);
        }
        const ordered = [...byPolicy.values()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].policyName.localeCompare(b[0].policyName));
        for (const group of ordered) {
            const v0 = group[0];
            out.push(`    [${v0.enforcementLevel}]  ${v0.policyPack}@v${v0.policyPackVersion}  ${v0.policyName} (${group.length})`);
            for (const v of group) {
                const where = v.urn ? `${v.resourceType} (${v.resourceName})` : "stack";
                out.push(`        ${where}`, indent(v.message, "            "));
            }
        }
        out.push("");
    }
    out.push(
        `Resources: ${summary.resources} to create. Policy violations: ${summary.mandatory} mandatory, ${summary.advisory} advisory.`,
    );
    return out.join("\n");
}

function rank(v: Violation): number {
    return v.enforcementLevel === "mandatory" ? 0 : 1;
}
