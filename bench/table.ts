/** Prints benchmark results as an aligned text table, one row per measurement. */
export interface BenchRow {
    [column: string]: string | number;
}

export function formatNumber(value: number, digits = 2): string {
    return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

export function printTable(title: string, rows: BenchRow[]): void {
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
    console.log(`\n${title}`);
    console.log(line(columns));
    console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
    for (const values of cells) console.log(line(values));
}

/** Percentile of a sample by nearest rank, in the sample's unit. */
export function percentile(samples: number[], p: number): number {
    if (samples.length === 0) throw new Error("percentile of an empty sample");
    const sorted = [...samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
}
