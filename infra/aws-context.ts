/** The account, region and partition the stack deploys to, looked up once and handed to every component. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AwsContext {
    accountId: pulumi.Output<string>;
    region: pulumi.Output<string>;
    partition: pulumi.Output<string>;
    /** `amazonaws.com`, or `amazonaws.com.cn` in the China partition. */
    dnsSuffix: pulumi.Output<string>;
}

export function lookupAwsContext(): AwsContext {
    const identity = aws.getCallerIdentityOutput();
    const partition = aws.getPartitionOutput();
    return {
        accountId: identity.accountId,
        region: aws.getRegionOutput().region,
        partition: partition.partition,
        dnsSuffix: partition.dnsSuffix,
    };
}
