/** Training jobs and the definitions of tuning jobs, as their resource configs state them. */
import { collect, get, list, num, Unchecked, UNKNOWN } from "./unknown";

/**
 * The instances of one training job as its resource config states them: `instanceCount` of a homogeneous
 * cluster, or the sum over heterogeneous `instanceGroups`. UNKNOWN when any of it is unknown during preview.
 */
export function instancesOf(props: unknown, prefix: string, where: string, unchecked: Unchecked): number | undefined {
    const groups = list(props, `${prefix}resourceConfig.instanceGroups`);
    if (groups === UNKNOWN) {
        unchecked.add(`${prefix}resourceConfig.instanceGroups of ${where}`);
        return undefined;
    }
    if (groups !== undefined && groups.length > 0) {
        let total = 0;
        for (const [path, count] of collect(props, `${prefix}resourceConfig.instanceGroups[].instanceCount`)) {
            if (count === UNKNOWN) {
                unchecked.add(`${path} of ${where}`);
                return undefined;
            }
            total += typeof count === "number" ? count : 0;
        }
        return total;
    }
    const count = num(props, `${prefix}resourceConfig.instanceCount`);
    if (count === UNKNOWN) {
        unchecked.add(`${prefix}resourceConfig.instanceCount of ${where}`);
        return undefined;
    }
    // SageMaker requires the count with an instance type; a job without either is not a cluster to bound.
    return count;
}

/** The path prefixes ("trainingJobDefinition.", "trainingJobDefinitions.<i>.") of a tuning job's training job definitions. */
export function tuningDefinitions(props: unknown, subject: string, unchecked: Unchecked): string[] {
    const definitions: string[] = [];
    if (get(props, "trainingJobDefinition") !== undefined) definitions.push("trainingJobDefinition.");
    const plural = list(props, "trainingJobDefinitions");
    if (plural === UNKNOWN) unchecked.add(`trainingJobDefinitions of ${subject}`);
    else (plural ?? []).forEach((_, i) => definitions.push(`trainingJobDefinitions.${i}.`));
    return definitions;
}
