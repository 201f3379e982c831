/** The account, region and partition the stack deploys to, looked up once and handed to every component. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AwsContext {
    accountId: pulumi.Output<string>;
    region: pulumi.Output<string>;
    partition: pulumi.Output<string>;
}

export function lookupAwsContext(): AwsContext {
    const identity = aws.getCallerIdentityOutput();
    return {
        accountId: identity.accountId,
        region: aws.getRegionOutput().region,
        partition: aws.getPartitionOutput().partition,
    };
}
