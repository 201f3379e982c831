/**
 * The stack's customer managed KMS keys: rotated yearly, 30 days' deletion window, administered by the account (so
 * IAM policies decide who else may use them) and usable by one AWS service only as each key's own statements allow.
 * logGroupKey is one CloudWatch log group's key: CloudWatch Logs may use it only for that group
 * (kms:EncryptionContext:aws:logs:arn), so reading its logs takes kms:Decrypt under a key policy the account controls.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsContext } from "../aws-context";
import { policyDocument, PolicyStatement } from "../iam";

/** A key the account administers, with `serviceStatements` saying which service may use it and how. */
export function accountAdministeredKey(name: string, description: pulumi.Input<string>, serviceStatements: PolicyStatement[],
    context: AwsContext, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): aws.kms.Key {
    return new aws.kms.Key(name, {
        description,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyDocument([
            {
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: pulumi.interpolate`arn:${context.partition}:iam::${context.accountId}:root` },
                Action: ["kms:*"],
                Resource: "*",
            },
            ...serviceStatements,
        ]),
        tags,
    }, opts);
}

export function logGroupKey(name: string, logGroupName: pulumi.Input<string>, context: AwsContext, tags: Record<string, string>,
    opts: pulumi.CustomResourceOptions): aws.kms.Key {
    const { partition, region, accountId } = context;
    return accountAdministeredKey(name, pulumi.interpolate`Encrypts the ${logGroupName} log group`, [
        {
            Sid: "CloudWatchLogsUsesTheKeyForThisLogGroup",
            Effect: "Allow",
            Principal: { Service: pulumi.all([partition, region]).apply(([p, r]) => `logs.${r}.${p === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`) },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}` } },
        },
    ], context, tags, opts);
}
