/**
 * An endpoint whose creation ended `Failed` serves nothing, and SageMaker keeps it under its name. The provider
 * either keeps it in the state (then the next `up` changes nothing) or not (then the next `up` collides with the
 * name: "Cannot create already existing endpoint"), and `pulumi up --replace` collides with the fixed name too.
 * This dynamic resource runs before the endpoint: in Check (every preview and up) it looks the endpoint up, and
 * when it is `Failed` it records the failed endpoint's creation time, which makes the resource update; the update
 * deletes the failed endpoint and says so. The provider then creates the endpoint if it had no state of it, and
 * otherwise EndpointRollout (which takes `failedEndpointCreatedAt` as an input) creates it again.
 */
import * as pulumi from "@pulumi/pulumi";
import { DeleteEndpointCommand, DescribeEndpointCommand, DescribeEndpointCommandOutput, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";
import type { Clock, ProgressReporter, SageMakerApi } from "./endpoint-rollout";

export interface FailedEndpointCleanupInputs {
    sdk: AwsSdkSettings;
    endpointName: string;
    /** Creation time (ISO) of the last Failed endpoint this resource deleted, "" when it never had to. */
    failedEndpointCreatedAt: string;
}

export type CleanupClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => SageMakerApi;

async function describe(client: SageMakerApi, name: string): Promise<DescribeEndpointCommandOutput | undefined> {
    try {
        return await client.send(new DescribeEndpointCommand({ EndpointName: name }));
    } catch (error) {
        const err = error as { name?: string; message?: string };
        if (err?.name === "ValidationException" && /could not find endpoint/i.test(err.message ?? "")) return undefined;
        throw error;
    }
}

export class FailedEndpointCleanupProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(
        private readonly clientFactory: CleanupClientFactory = (sdk, identity) => new SageMakerClient(sdkClientConfig(sdk, identity)),
        private readonly clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
        private readonly report: ProgressReporter = (line) => console.log(line),
    ) {
        super();
    }

    async check(olds: FailedEndpointCleanupInputs, news: FailedEndpointCleanupInputs): Promise<pulumi.dynamic.CheckResult<FailedEndpointCleanupInputs>> {
        const endpoint = await describe(this.clientFactory(news.sdk, this.identity), news.endpointName);
        const failedAt = endpoint?.EndpointStatus === "Failed" ? (endpoint.CreationTime ?? new Date(0)).toISOString() : undefined;
        return { inputs: { ...news, failedEndpointCreatedAt: failedAt ?? olds?.failedEndpointCreatedAt ?? "" } };
    }

    async create(inputs: FailedEndpointCleanupInputs): Promise<pulumi.dynamic.CreateResult<FailedEndpointCleanupInputs>> {
        await this.deleteIfFailed(inputs);
        return { id: inputs.endpointName, outs: inputs };
    }

    async diff(_id: string, olds: FailedEndpointCleanupInputs, news: FailedEndpointCleanupInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = olds.endpointName !== news.endpointName || olds.sdk?.region !== news.sdk.region ? ["endpointName"] : [];
        return { changes: replaces.length > 0 || JSON.stringify(olds) !== JSON.stringify(news), replaces, deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: FailedEndpointCleanupInputs, news: FailedEndpointCleanupInputs): Promise<pulumi.dynamic.UpdateResult<FailedEndpointCleanupInputs>> {
        await this.deleteIfFailed(news);
        return { outs: news };
    }

    private async deleteIfFailed(inputs: FailedEndpointCleanupInputs): Promise<void> {
        const client = this.clientFactory(inputs.sdk, this.identity);
        const endpoint = await describe(client, inputs.endpointName);
        if (endpoint?.EndpointStatus !== "Failed") return;
        this.report(`endpoint ${inputs.endpointName} is Failed (${endpoint.FailureReason ?? "SageMaker gave no reason"}): ` +
            "deleting it, so that this pulumi up creates it again under the same name");
        await client.send(new DeleteEndpointCommand({ EndpointName: inputs.endpointName }));
        // Deleting takes a minute or two; the name is free only once DescribeEndpoint no longer finds it.
        const deadline = this.clock.now() + 15 * 60_000;
        while (await describe(client, inputs.endpointName)) {
            if (this.clock.now() >= deadline) throw new Error(`endpoint ${inputs.endpointName} is still being deleted after 15 minutes; run pulumi up again`);
            await this.clock.sleep(10_000);
        }
    }
}

export interface FailedEndpointCleanupArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
    endpointName: pulumi.Input<string>;
}

export class FailedEndpointCleanup extends pulumi.dynamic.Resource {
    declare readonly failedEndpointCreatedAt: pulumi.Output<string>;

    constructor(name: string, args: FailedEndpointCleanupArgs, opts?: pulumi.CustomResourceOptions) {
        super(new FailedEndpointCleanupProvider(), name, { ...args, failedEndpointCreatedAt: "" }, opts, "sagemaker-classifier", "FailedEndpointCleanup");
    }
}
