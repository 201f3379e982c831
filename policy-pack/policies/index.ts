/** Every policy of the pack, in the order the engine reports them. */
import { Policies } from "@pulumi/policy";
import { sagemakerEndpointAutoscaling } from "./autoscaling";
import { ec2EncryptedVolumes, ec2Imdsv2Required, ec2NoPublicIngress } from "./ec2";
import { lambdaRoleLeastPrivilege } from "./iam/lambda-least-privilege";
import { iamNoOverbroadManagedPolicies } from "./iam/managed-policies";
import { iamNoWildcardPermissions } from "./iam/wildcards";
import { allowedInstanceTypes } from "./instance-types";
import { lambdaFunctionUrlIamAuth, lambdaNoPublicInvoke, lambdaProvisionedConcurrency } from "./lambda";
import { s3PublicAccessBlocked, s3ServerSideEncryption } from "./s3";
import { sagemakerDataProtection } from "./sagemaker";

export const policies: Policies = [
    iamNoOverbroadManagedPolicies,
    iamNoWildcardPermissions,
    lambdaRoleLeastPrivilege,
    lambdaProvisionedConcurrency,
    sagemakerEndpointAutoscaling,
    allowedInstanceTypes,
    ec2Imdsv2Required,
    ec2EncryptedVolumes,
    ec2NoPublicIngress,
    lambdaNoPublicInvoke,
    lambdaFunctionUrlIamAuth,
    s3PublicAccessBlocked,
    s3ServerSideEncryption,
    sagemakerDataProtection,
];
