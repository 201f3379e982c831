/**
 * A customer managed KMS key for one CloudWatch log group: rotated yearly, 30 days' deletion window, usable by
 * CloudWatch Logs only for that group (kms:EncryptionContext:aws:logs:arn), so reading its logs takes kms:Decrypt
 * under a key policy the account controls.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsContext } from "../aws-context";
import { policyDocument } from "../iam";

export function logGroupKey(name: string, logGroupName: pulumi.Input<string>, context: AwsContext, tags: Record<string, string>,
    opts: pulumi.CustomResourceOptions): aws.kms.Key {
    const { partition, region, accountId } = context;
    return new aws.kms.Key(name, {
        description: pulumi.interpolate`Encrypts the ${logGroupName} log group`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyDocument([
            {
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${accountId}:root` },
                Action: ["kms:*"],
                Resource: "*",
            },
            {
                Sid: "CloudWatchLogsUsesTheKeyForThisLogGroup",
                Effect: "Allow",
                Principal: { Service: pulumi.all([partition, region]).apply(([p, r]) => `logs.${r}.${p === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`) },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}` } },
            },
        ]),
        tags,
    }, opts);
}
