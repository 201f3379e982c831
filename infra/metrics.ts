/** The metric definitions train.py's output is parsed with; one file shared with the Python tests. */
import * as fs from "node:fs";
import * as path from "node:path";

export interface MetricDefinition {
    name: string;
    regex: string;
}

export interface TrainingMetrics {
    metricDefinitions: MetricDefinition[];
    objective: { metricName: string; type: "Minimize" | "Maximize" };
}

export function readTrainingMetrics(trainingScriptsDir: string): TrainingMetrics {
    const file = path.join(trainingScriptsDir, "metrics.json");
    const metrics = JSON.parse(fs.readFileSync(file, "utf8")) as TrainingMetrics;
    if (!metrics.metricDefinitions.some((m) => m.name === metrics.objective.metricName)) {
        throw new Error(`${file}: objective metric ${metrics.objective.metricName} has no metric definition`);
    }
    return metrics;
}
