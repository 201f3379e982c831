/** Every policy of the pack, in the order the engine reports them. One policy per file, in a folder per service. */
import { Policies } from "@pulumi/policy";
import { allowedInstanceTypes } from "./compute/allowed-instance-types";
import { stackCostBudget } from "./cost/stack-cost-budget";
import { ec2EncryptedVolumes } from "./ec2/ec2-encrypted-volumes";
import { ec2Imdsv2Required } from "./ec2/ec2-imdsv2-required";
import { ec2NoPublicIngress } from "./ec2/ec2-no-public-ingress";
import { iamNoOverbroadManagedPolicies } from "./iam/iam-no-overbroad-managed-policies";
import { iamNoPrivilegeEscalation } from "./iam/iam-no-privilege-escalation";
import { iamNoWildcardPermissions } from "./iam/iam-no-wildcard-permissions";
import { iamServiceRoleLeastPrivilege } from "./iam/iam-service-role-least-privilege";
import { iamRoleTrustNoPublicOrForeignPrincipals } from "./iam/iam-role-trust-no-public-or-foreign-principals";
import { kmsKeyPolicyNoPublicAccess } from "./kms/kms-key-policy-no-public-access";
import { lambdaRoleLeastPrivilege } from "./iam/lambda-role-least-privilege";
import { lambdaFunctionUrlIamAuth } from "./lambda/lambda-function-url-iam-auth";
import { lambdaNoPublicInvoke } from "./lambda/lambda-no-public-invoke";
import { lambdaProvisionedConcurrency } from "./lambda/lambda-provisioned-concurrency";
import { observabilityAlarmsRequired } from "./observability/observability-alarms-required";
import { s3NoPublicOrCrossAccountGrants } from "./s3/s3-no-public-or-cross-account-grants";
import { s3PublicAccessBlocked } from "./s3/s3-public-access-blocked";
import { s3ServerSideEncryption } from "./s3/s3-server-side-encryption";
import { sagemakerDataProtection } from "./sagemaker/sagemaker-data-protection";
import { sagemakerEndpointAutoscaling } from "./sagemaker/sagemaker-endpoint-autoscaling";
import { sagemakerEndpointGuardedUpdates } from "./sagemaker/sagemaker-endpoint-guarded-updates";
import { sagemakerModelFromApprovedPackage } from "./sagemaker/sagemaker-model-from-approved-package";
import { sagemakerNotebookNoInternetRootOrAwsKey } from "./sagemaker/sagemaker-notebook-no-internet-root-or-aws-key";
import { sagemakerTrainingInstanceCount } from "./sagemaker/sagemaker-training-instance-count";

export const policies: Policies = [
    iamNoOverbroadManagedPolicies,
    iamNoWildcardPermissions,
    iamRoleTrustNoPublicOrForeignPrincipals,
    iamNoPrivilegeEscalation,
    lambdaRoleLeastPrivilege,
    iamServiceRoleLeastPrivilege,
    lambdaProvisionedConcurrency,
    sagemakerEndpointAutoscaling,
    allowedInstanceTypes,
    sagemakerTrainingInstanceCount,
    ec2Imdsv2Required,
    ec2EncryptedVolumes,
    ec2NoPublicIngress,
    lambdaNoPublicInvoke,
    lambdaFunctionUrlIamAuth,
    s3PublicAccessBlocked,
    s3ServerSideEncryption,
    s3NoPublicOrCrossAccountGrants,
    kmsKeyPolicyNoPublicAccess,
    sagemakerDataProtection,
    sagemakerNotebookNoInternetRootOrAwsKey,
    stackCostBudget,
    observabilityAlarmsRequired,
    sagemakerEndpointGuardedUpdates,
    sagemakerModelFromApprovedPackage,
];
