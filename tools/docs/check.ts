/**
 * Checks of README.md and docs/*.md that `npm test` runs (tools/docs/test/docs.test.ts): every relative link
 * resolves to a file and, with a #fragment, to a heading of that file as GitHub renders its anchor; no page
 * narrates history.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const README_MAX_LINES = 250;

/** README.md and every page under docs/, as absolute paths. */
export function documentationFiles(root = REPO_ROOT): string[] {
    const docs = path.join(root, "docs");
    const pages = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => path.join(docs, f)) : [];
    return [path.join(root, "README.md"), ...pages];
}

/** The page's lines outside fenced code blocks, with their 1-based numbers; inline code spans blanked. */
function proseLines(markdown: string): { line: number; text: string }[] {
    const out: { line: number; text: string }[] = [];
    let fence: string | undefined;
    markdown.split("\n").forEach((text, i) => {
        const opening = text.match(/^\s*(`{3,}|~{3,})/)?.[1];
        if (opening && (!fence || opening.startsWith(fence))) {
            fence = fence ? undefined : opening;
            return;
        }
        if (!fence) out.push({ line: i + 1, text: text.replace(/`[^`]*`/g, (code) => " ".repeat(code.length)) });
    });
    return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}

/** Every anchor a page's headings get, duplicates numbered as GitHub numbers them (`x`, `x-1`, ...). */
export function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    let fence: string | undefined;
    for (const text of markdown.split("\n")) {
        const opening = text.match(/^\s*(`{3,}|~{3,})/)?.[1];
        if (opening && (!fence || opening.startsWith(fence))) {
            fence = fence ? undefined : opening;
            continue;
        }
        const heading = fence ? undefined : text.match(/^#{1,6}\s+(.*?)\s*#*\s*$/)?.[1];
        if (heading === undefined) continue;
        const slug = headingSlug(heading);
        const n = seen.get(slug) ?? 0;
        seen.set(slug, n + 1);
        anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    return anchors;
}

/** Every broken relative link of `file`, as "file:line: target: what is wrong". */
export function brokenLinks(file: string, root = REPO_ROOT): string[] {
    const markdown = fs.readFileSync(file, "utf8");
    const problems: string[] = [];
    for (const { line, text } of proseLines(markdown)) {
        for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
            const target = match[1];
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and other absolute URLs
            const where = `${path.relative(root, file)}:${line}: ${target}`;
            const [linkPath, fragment] = target.split("#", 2) as [string, string | undefined];
            const resolved = linkPath === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(linkPath));
            if (!fs.existsSync(resolved)) {
                problems.push(`${where}: no such file`);
                continue;
            }
            if (fragment === undefined) continue;
            if (!resolved.endsWith(".md")) {
                problems.push(`${where}: an anchor into a file that is not Markdown`);
                continue;
            }
            if (!headingAnchors(fs.readFileSync(resolved, "utf8")).has(decodeURIComponent(fragment))) {
                problems.push(`${where}: ${path.relative(root, resolved)} has no heading with anchor #${fragment}`);
            }
        }
    }
    return problems;
}

/** Phrases that narrate how the project changed rather than say what holds. */
export const HISTORY_PHRASES: RegExp[] = [
    /\bused to\b/i,
    /\bpreviously\b/i,
    /\bno longer\b/i,
    /\bformerly\b/i,
    /\bbefore the change\b/i,
    /\bthe old (?:behaviou?r|version|default|code)\b/i,
    /\bwe (?:changed|switched|moved|replaced|found)\b/i,
];

/** Every line of `file` (outside code) with a history phrase, as "file:line: phrase". */
export function historyNarration(file: string, root = REPO_ROOT): string[] {
    const problems: string[] = [];
    for (const { line, text } of proseLines(fs.readFileSync(file, "utf8"))) {
        for (const phrase of HISTORY_PHRASES) {
            const found = text.match(phrase);
            if (found) problems.push(`${path.relative(root, file)}:${line}: "${found[0]}"`);
        }
    }
    return problems;
}

/** The README's command line starting with `prefix` (from its code blocks or inline code), its trailing `# comment`
 * removed: what a test runs so that a changed or removed command fails there rather than in a user's terminal. */
export function readmeCommand(prefix: string, root = REPO_ROOT): string {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const lines = readme.split("\n").map((l) => l.trim());
    const inline = [...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
    const command = [...lines, ...inline].find((l) => l.startsWith(prefix));
    if (!command) throw new Error(`README.md shows no command starting with "${prefix}"`);
    return command.replace(/\s+#.*$/, "");
}
