/** Prints benchmark results as an aligned text table, one row per measurement. */
export interface BenchRow {
    [column: string]: string | number;
}

export function formatNumber(value: number, digits = 2): string {
    return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** An aligned Markdown table (header, rule, one line per row): reads as text and renders as a table. */
export function formatTable(rows: BenchRow[]): string[] {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const cells = rows.map((row) =>
        columns.map((column) => {
            const value = row[column];
            if (value === undefined) return "";
            return typeof value === "number" ? formatNumber(value) : value;
        }),
    );
    const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i].length)));
    const line = (values: string[]) => "| " + values.map((v, i) => v.padEnd(widths[i])).join(" | ") + " |";
    return [line(columns), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...cells.map(line)];
}

export function printTable(title: string, rows: BenchRow[]): void {
    console.log(`\n${title}`);
    for (const line of formatTable(rows)) console.log(line);
}

/** Percentile of a sample by nearest rank, in the sample's unit. */
export function percentile(samples: number[], p: number): number {
    if (samples.length === 0) throw new Error("percentile of an empty sample");
    const sorted = [...samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
}
