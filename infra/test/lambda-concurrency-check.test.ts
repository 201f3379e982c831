import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import { concurrencyProblem, ConcurrencyRequest, LambdaConcurrencyCheckProvider } from "../components/lambda-concurrency-check";

const sdk = { region: "us-east-1" };
const account = (limit: number, unreserved: number) => ({ AccountLimit: { ConcurrentExecutions: limit, UnreservedConcurrentExecutions: unreserved } });

describe("Lambda account concurrency check (dynamic provider)", () => {
    const provider = new LambdaConcurrencyCheckProvider(() => new LambdaClient({ region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } }));
    // Mocking patches every LambdaClient in the process: only while this suite runs, so other suites (and their own
    // mocks of a client instance) are left alone.
    let lambda: AwsClientStub<LambdaClient>;
    before(() => (lambda = mockClient(LambdaClient)));
    after(() => lambda.restore());
    beforeEach(() => lambda.reset());

    it("refuses any reservation on a new account (limit 10), naming the limit and the way out, before the function exists", async () => {
        lambda.on(GetAccountSettingsCommand).resolves(account(10, 10));
        const error = await provider.create({ sdk, reservedConcurrency: 5, provisionedConcurrency: 1 }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            "api.reservedConcurrency 5 does not fit this account's Lambda concurrency in us-east-1: its limit is 10 concurrent executions, " +
                "10 unreserved, and AWS keeps 100 of them unreserved, so at most 0 can go to this function. Remove api.reservedConcurrency " +
                "(no reservation), lower api.reservedConcurrency, or ask AWS for a higher \"Concurrent executions\" quota (Service Quotas, Lambda, L-B99A9384)",
        );
    });

    it("judges provisioned concurrency without a reservation against the same pool", () => {
        const request: ConcurrencyRequest = { sdk, provisionedConcurrency: 3 };
        expect(concurrencyProblem(request, { limit: 10, unreserved: 10 }, 0)).to.match(/^api\.provisionedConcurrency 3 does not fit .* limit is 10/);
        expect(concurrencyProblem(request, { limit: 1000, unreserved: 1000 }, 0)).to.equal(undefined);
        expect(concurrencyProblem(request, { limit: 1000, unreserved: 102 }, 0)).to.match(/at most 2 can go/);
    });

    it("passes a request the account can hold, and counts this function's own reservation as free on update", async () => {
        lambda.on(GetAccountSettingsCommand).resolves(account(1000, 110));
        const olds: ConcurrencyRequest = { sdk, reservedConcurrency: 20, provisionedConcurrency: 3 };
        expect((await provider.create({ sdk, reservedConcurrency: 10, provisionedConcurrency: 3 })).outs).to.include({ reservedConcurrency: 10 });
        // 110 unreserved + the 20 this function holds - 100 kept = 30: 25 fits, although 25 > 110 - 100.
        expect((await provider.update("id", olds, { ...olds, reservedConcurrency: 25 })).outs).to.include({ reservedConcurrency: 25 });
        const error = await provider.update("id", olds, { ...olds, reservedConcurrency: 31 }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(/api\.reservedConcurrency 31 does not fit .* at most 30 can go/);
    });

    it("checks again only when the requested concurrency or region changes", async () => {
        const olds: ConcurrencyRequest = { sdk, reservedConcurrency: 20, provisionedConcurrency: 3 };
        expect(await provider.diff("id", olds, { ...olds })).to.include({ changes: false });
        expect(await provider.diff("id", olds, { ...olds, provisionedConcurrency: 4 })).to.include({ changes: true });
        expect(await provider.diff("id", olds, { sdk, provisionedConcurrency: 3 })).to.include({ changes: true });
    });
});
