/**
 * The EC2 training run in `npm run status`: the instance's state (EC2 DescribeInstances) and whether the run's
 * model is in S3 (HeadObject). The run is one-shot: it stops its instance when it ends, with a model when it
 * succeeded and without one when it failed (infra/components/ec2-training.ts).
 */
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";

export interface Ec2RunApis {
    ec2: Pick<EC2Client, "send">;
    s3: Pick<S3Client, "send">;
}

export interface Ec2RunProgress {
    kind: "ec2";
    instanceId: string;
    /** EC2's instance state: pending, running, stopping, stopped, shutting-down, terminated. */
    instanceState: string;
    modelUri: string;
    /** Undefined when S3 would not say (the reason is in `modelUnknown`). */
    modelExists?: boolean;
    modelUnknown?: string;
    /** InProgress while the instance runs; Completed or Failed once it stopped, by whether the model is there. */
    status: "InProgress" | "Completed" | "Failed" | "Unknown";
}

const RUNNING = new Set(["pending", "running", "stopping", "shutting-down"]);

export async function ec2RunProgress(apis: Ec2RunApis, instanceId: string, modelUri: string): Promise<Ec2RunProgress> {
    const described = await apis.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    const instanceState = instance?.State?.Name ?? "unknown";
    const base = { kind: "ec2" as const, instanceId, instanceState, modelUri };
    if (RUNNING.has(instanceState)) return { ...base, status: "InProgress" };
    const model = await modelState(apis.s3, modelUri);
    if (model.exists === undefined) return { ...base, modelUnknown: model.reason, status: "Unknown" };
    return { ...base, modelExists: model.exists, status: model.exists ? "Completed" : "Failed" };
}

async function modelState(s3: Ec2RunApis["s3"], uri: string): Promise<{ exists?: boolean; reason?: string }> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) return { reason: `${uri} is not an s3:// object URI` };
    try {
        await s3.send(new HeadObjectCommand({ Bucket: match[1], Key: match[2] }));
        return { exists: true };
    } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) return { exists: false };
        if (status === 403) return { reason: "S3 refused (the status needs s3:GetObject on it and s3:ListBucket on its bucket)" };
        return { reason: `S3 said ${(error as Error).name}: ${(error as Error).message}` };
    }
}

export function formatEc2Run(p: Ec2RunProgress): string {
    const head = `EC2 run ${p.instanceId}: `;
    switch (p.status) {
        case "InProgress":
            return `${head}${p.instanceState}, training; the model goes to ${p.modelUri}`;
        case "Completed":
            return `${head}finished, model at ${p.modelUri}; the instance is ${p.instanceState} (only its volume is billed: ` +
                "`pulumi config set --path ec2Training.enabled false` and `pulumi up` delete it)";
        case "Failed":
            return `${head}${p.instanceState} without a model at ${p.modelUri}: the run failed (its log, /var/log/ml-train.log, ` +
                "is on the instance's volume); after fixing the cause, `pulumi up --replace <the instance's URN>` runs it again";
        case "Unknown":
            return `${head}${p.instanceState}; whether ${p.modelUri} exists is unknown: ${p.modelUnknown}`;
    }
}

export function ec2RunClients(region: string): Ec2RunApis {
    return { ec2: new EC2Client({ region }), s3: new S3Client({ region }) };
}
