/** An estimate as the issue's JSON document, as a table a person reads at a glance, and as the preview's one-line summary. */
import { formatTable } from "../../bench/table";
import type { Estimate } from "../../policy-pack/cost/estimate";
import { ageInDays, HOURS_PER_MONTH } from "../../policy-pack/cost/prices";

/** Dollars to the micro-dollar: enough for a per-second price times an hour, without float noise. */
const round = (value: number) => Math.round(value * 1e6) / 1e6;

export function toJson(estimate: Estimate): object {
    return {
        region: estimate.region,
        currency: estimate.currency,
        resources: estimate.resources.map((r) => ({
            name: r.name,
            type: r.type,
            hourlyUsd: round(r.hourlyUsdAtMin),
            monthlyUsd: round(r.hourlyUsdAtMin * HOURS_PER_MONTH),
            oneOffUsd: round(r.oneOffUsd),
            basis: r.basis,
        })),
        totals: {
            hourlyUsdAtMin: round(estimate.totals.hourlyUsdAtMin),
            hourlyUsdAtMax: round(estimate.totals.hourlyUsdAtMax),
            monthlyUsdAtMin: round(estimate.totals.monthlyUsdAtMin),
            monthlyUsdAtMax: round(estimate.totals.monthlyUsdAtMax),
            oneOffUsdMax: round(estimate.totals.oneOffUsdMax),
        },
    };
}

export function dollars(value: number): string {
    if (value === 0) return "0";
    if (value < 0.01) return value.toPrecision(2);
    return value.toFixed(value < 10 ? 3 : 2);
}

/** "compute:Type" -> "Type": the column stays narrow; the basis says what it is. */
const shortType = (type: string) => type.split(":").pop() ?? type;

/** The per-resource table (Markdown, so docs/cost.md shows the same table the tool prints). */
export function costTable(estimate: Estimate): string[] {
    const rows = estimate.resources.map((r) => ({
        resource: r.name,
        type: shortType(r.type),
        "$/h idle": dollars(r.hourlyUsdAtMin),
        "$/h max": dollars(r.hourlyUsdAtMax),
        "$/month idle": dollars(r.hourlyUsdAtMin * HOURS_PER_MONTH),
        "one-off max $": dollars(r.oneOffUsd),
    }));
    const t = estimate.totals;
    rows.push({
        resource: "**total**",
        type: "",
        "$/h idle": dollars(t.hourlyUsdAtMin),
        "$/h max": dollars(t.hourlyUsdAtMax),
        "$/month idle": dollars(t.monthlyUsdAtMin),
        "one-off max $": dollars(t.oneOffUsdMax),
    });
    return formatTable(rows);
}

/** Where each price came from and how old it is, one line per price. */
export function priceSources(estimate: Estimate, now: Date): string[] {
    return estimate.prices.map((p) => {
        const age = ageInDays(p.asOf, now);
        return `  ${p.key}: $${p.usd} per ${p.unit} - ${p.source}${p.sku ? `, sku ${p.sku}` : ""}; as of ${p.asOf} (${age === 0 ? "today" : `${age} day${age === 1 ? "" : "s"} old`})`;
    });
}

export function toText(estimate: Estimate, heading: string, now: Date): string {
    const lines = [heading, "", ...costTable(estimate), "", "How each figure is reached:"];
    for (const r of estimate.resources) lines.push(`  ${r.name}: ${r.basis}`);
    if (estimate.unpriced.length > 0) {
        lines.push("", "Not priced (they may cost money):");
        for (const u of estimate.unpriced) lines.push(`  ${u.name} (${u.type}): ${u.reason}`);
    }
    lines.push("", `Prices (${estimate.currency}, on-demand, ${estimate.region}):`, ...priceSources(estimate, now));
    return lines.join("\n");
}

/** The few lines `npm run preview` ends with. */
export function summaryLines(estimate: Estimate): string[] {
    const t = estimate.totals;
    const day = (hourly: number) => dollars(hourly * 24);
    const dates = [...new Set(estimate.prices.map((p) => p.asOf))].sort();
    return [
        `Cost (${estimate.region}, on-demand USD, prices of ${dates.join(", ") || "none"}; \`npm run cost\` for the breakdown):`,
        `    idle $${dollars(t.hourlyUsdAtMin)}/h ($${day(t.hourlyUsdAtMin)}/day, $${dollars(t.monthlyUsdAtMin)}/month), at max scale $${dollars(t.hourlyUsdAtMax)}/h; one-off up to $${dollars(t.oneOffUsdMax)}` +
            (estimate.unpriced.length ? `; ${estimate.unpriced.length} resource(s) not priced` : ""),
    ];
}
