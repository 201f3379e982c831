/**
 * What `npm run status` looks at for a stack: the endpoint, and the training or tuning job. Names come from
 * the stack's outputs (`pulumi stack output --json`, or a file of it) where the stack has them, and otherwise
 * from what the program would name them, computed from Pulumi.yaml and Pulumi.<stack>.yaml: during the first
 * `pulumi up` of a tuning stack, the hours the user most wants to watch, the stack has no outputs yet.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectName, readStackConfig } from "../preview/capture";
import { stackBaseName, trainingJobPrefix } from "../../infra/names";

export type TrainingMode = "existing" | "single" | "tuning";

export interface StackTargets {
    stack: string;
    region: string;
    environment: string;
    trainingMode: TrainingMode;
    endpointName: string;
    /** Job names from the outputs; without them the status looks up the stack's newest job by prefix. */
    tuningJobName?: string;
    trainingJobName?: string;
    jobPrefix: string;
    /** The EC2 training run, from the outputs only (an instance id cannot be computed). */
    ec2InstanceId?: string;
    ec2ModelArtifact?: string;
    /** The stack's model package group (named like the endpoint), and the version its endpoint serves if outputs say. */
    modelPackageGroup: string;
    servedModelPackage?: string;
    /** Where the names came from, shown to the user. */
    source: string;
}

/** A problem with the invocation or the stack's files, reported in one line (exit 2). */
export class TargetError extends Error {}

export interface TargetOptions {
    stack: string;
    projectDir: string;
    outputsFile?: string;
    region?: string;
    /** Runs `pulumi stack output --json --stack <name>`; resolves undefined when the CLI is absent or fails. */
    readPulumiOutputs?: (stack: string, cwd: string) => Promise<Record<string, unknown> | undefined>;
}

export async function resolveTargets(o: TargetOptions): Promise<StackTargets> {
    const projectFile = path.join(o.projectDir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) throw new TargetError(`no Pulumi.yaml in ${o.projectDir}`);
    const project = projectName(projectFile);
    const stackFile = path.join(o.projectDir, `Pulumi.${o.stack}.yaml`);
    let config: Record<string, string>;
    try {
        config = await readStackConfig(stackFile, project);
    } catch (error) {
        throw new TargetError(`--stack ${o.stack}: ${(error as Error).message}`);
    }
    const environment = config[`${project}:environment`] ?? o.stack;
    const trainingMode = readTrainingMode(config[`${project}:training`], stackFile);
    const region = o.region ?? config["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new TargetError(`no region: set aws:region in ${path.basename(stackFile)}, AWS_REGION, or pass --region`);

    let outputs: Record<string, unknown> | undefined;
    let source: string;
    if (o.outputsFile) {
        outputs = readOutputsFile(o.outputsFile);
        source = `outputs from ${o.outputsFile}`;
    } else {
        outputs = await (o.readPulumiOutputs ?? readPulumiOutputs)(o.stack, o.projectDir);
        source = outputs ? "stack outputs (pulumi stack output)" : `names computed from ${path.basename(stackFile)} (no stack outputs)`;
    }
    const text = (key: string) => (typeof outputs?.[key] === "string" && outputs[key] ? (outputs[key] as string) : undefined);
    return {
        stack: o.stack,
        region,
        environment,
        trainingMode: (text("trainingMode") as TrainingMode | undefined) ?? trainingMode,
        endpointName: text("endpointName") ?? stackBaseName(project, o.stack),
        tuningJobName: text("tuningJobName"),
        // In a tuning stack `trainingJobName` is the best job the tuning job picked, not a job to watch.
        trainingJobName: trainingMode === "single" ? text("trainingJobName") : undefined,
        jobPrefix: trainingJobPrefix(environment),
        ec2InstanceId: text("ec2InstanceId"),
        ec2ModelArtifact: text("ec2ModelArtifact"),
        modelPackageGroup: text("modelPackageGroup") ?? stackBaseName(project, o.stack),
        servedModelPackage: text("servedModelPackage"),
        source,
    };
}

function readTrainingMode(raw: string | undefined, stackFile: string): TrainingMode {
    if (raw === undefined) return "tuning";
    let mode: unknown;
    try {
        mode = (JSON.parse(raw) as { mode?: unknown }).mode ?? "tuning";
    } catch {
        throw new TargetError(`${path.basename(stackFile)}: training must be a map`);
    }
    if (mode !== "existing" && mode !== "single" && mode !== "tuning") {
        throw new TargetError(`${path.basename(stackFile)}: training.mode must be existing, single or tuning, got ${JSON.stringify(mode)}`);
    }
    return mode;
}

function readOutputsFile(file: string): Record<string, unknown> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new TargetError(`--outputs ${file} does not exist or cannot be read`);
    }
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (error) {
        throw new TargetError(`--outputs ${file} is not JSON (write it with pulumi stack output --json): ${(error as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        throw new TargetError(`--outputs ${file} must be a JSON object of stack outputs, as pulumi stack output --json writes`);
    }
    return doc as Record<string, unknown>;
}

async function readPulumiOutputs(stack: string, cwd: string): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
        execFile("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd, timeout: 60_000 }, (error, stdout) => {
            if (error) return resolve(undefined);
            try {
                const doc = JSON.parse(stdout) as unknown;
                resolve(typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined);
            } catch {
                resolve(undefined);
            }
        });
    });
}
