/**
 * Lambda keeps at least 100 of an account's concurrent executions unreserved: a reservation, or provisioned
 * concurrency on a function without one, may only take what is unreserved beyond those 100. New accounts often
 * have a limit of 10, so any reservation fails there with an opaque API error halfway through `pulumi up`. This
 * dynamic resource runs before the function whenever the requested concurrency changes, reads the account's
 * limit and unreserved pool (Lambda GetAccountSettings, as the stack's provider identity) and fails first, naming
 * the limit, what is free and what to change.
 */
import * as pulumi from "@pulumi/pulumi";
import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";

/** AWS keeps this many concurrent executions of every account unreserved. */
export const MINIMUM_UNRESERVED = 100;

export interface ConcurrencyRequest {
    sdk: AwsSdkSettings;
    /** `api.reservedConcurrency`; absent: no reservation. */
    reservedConcurrency?: number;
    provisionedConcurrency: number;
}

export interface LambdaApi {
    send: LambdaClient["send"];
}

export type LambdaClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => LambdaApi;

/** The problem with a request, or undefined when the account can hold it. */
export function concurrencyProblem(
    request: ConcurrencyRequest,
    account: { limit: number; unreserved: number },
    alreadyReserved: number,
): string | undefined {
    // What this function already reserves comes back to the pool when its reservation changes.
    const free = account.unreserved + alreadyReserved - MINIMUM_UNRESERVED;
    const what = request.reservedConcurrency !== undefined
        ? { key: "api.reservedConcurrency", need: request.reservedConcurrency }
        : { key: "api.provisionedConcurrency", need: request.provisionedConcurrency };
    if (what.need <= free) return undefined;
    return `${what.key} ${what.need} does not fit this account's Lambda concurrency in ${request.sdk.region}: its limit is ${account.limit} ` +
        `concurrent executions, ${account.unreserved} unreserved, and AWS keeps ${MINIMUM_UNRESERVED} of them unreserved, ` +
        `so at most ${Math.max(free, 0)} can go to this function. ` +
        (request.reservedConcurrency !== undefined ? "Remove api.reservedConcurrency (no reservation), " : "") +
        `lower ${what.key}, or ask AWS for a higher "Concurrent executions" quota (Service Quotas, Lambda, L-B99A9384)`;
}

export class LambdaConcurrencyCheckProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: LambdaClientFactory = (sdk, identity) => new LambdaClient(sdkClientConfig(sdk, identity))) {
        super();
    }

    private async verify(request: ConcurrencyRequest, alreadyReserved: number): Promise<void> {
        const settings = await this.clientFactory(request.sdk, this.identity).send(new GetAccountSettingsCommand({}));
        const limit = settings.AccountLimit?.ConcurrentExecutions;
        const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions;
        if (limit === undefined || unreserved === undefined) throw new Error("Lambda GetAccountSettings returned no account limit");
        const problem = concurrencyProblem(request, { limit, unreserved }, alreadyReserved);
        if (problem) throw new Error(problem);
    }

    async create(inputs: ConcurrencyRequest): Promise<pulumi.dynamic.CreateResult<ConcurrencyRequest>> {
        await this.verify(inputs, 0);
        return { id: "lambda-concurrency", outs: inputs };
    }

    async diff(_id: string, olds: ConcurrencyRequest, news: ConcurrencyRequest): Promise<pulumi.dynamic.DiffResult> {
        const changes = olds.reservedConcurrency !== news.reservedConcurrency || olds.provisionedConcurrency !== news.provisionedConcurrency ||
            olds.sdk?.region !== news.sdk.region;
        return { changes, replaces: [], deleteBeforeReplace: false };
    }

    async update(_id: string, olds: ConcurrencyRequest, news: ConcurrencyRequest): Promise<pulumi.dynamic.UpdateResult<ConcurrencyRequest>> {
        await this.verify(news, olds.sdk?.region === news.sdk.region ? olds.reservedConcurrency ?? 0 : 0);
        return { outs: news };
    }
}

export interface LambdaConcurrencyCheckArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
    reservedConcurrency?: number;
    provisionedConcurrency: number;
}

export class LambdaConcurrencyCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: LambdaConcurrencyCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(new LambdaConcurrencyCheckProvider(), name, { ...args }, opts, "sagemaker-classifier", "LambdaConcurrencyCheck");
    }
}
