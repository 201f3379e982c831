/** Every policy of the pack, in the order the engine reports them. One policy per file, in a folder per service. */
import { PackPolicy } from "../lib/controls";
import { apigatewayRouteAuthAndThrottling } from "./apigateway/apigateway-route-auth-and-throttling";
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
import { sagemakerModelNetworkIsolation } from "./sagemaker/sagemaker-model-network-isolation";
import { sagemakerEndpointGuardedUpdates } from "./sagemaker/sagemaker-endpoint-guarded-updates";
import { sagemakerModelFromApprovedPackage } from "./sagemaker/sagemaker-model-from-approved-package";
import { sagemakerNotebookNoInternetRootOrAwsKey } from "./sagemaker/sagemaker-notebook-no-internet-root-or-aws-key";
import { sagemakerTrainingInstanceCount } from "./sagemaker/sagemaker-training-instance-count";
import { iamServiceTrustNoConfusedDeputy } from "./iam/iam-service-trust-no-confused-deputy";
import { kmsKeyRotationAndDeletionWindow } from "./kms/kms-key-rotation-and-deletion-window";
import { lambdaCodeSigningRequired } from "./lambda/lambda-code-signing-required";
import { lambdaEnvironmentEncryptedWithCmk } from "./lambda/lambda-environment-encrypted-with-cmk";
import { lambdaExplicitMemoryAndTimeout } from "./lambda/lambda-explicit-memory-and-timeout";
import { lambdaFunctionUrlNoWildcardCors } from "./lambda/lambda-function-url-no-wildcard-cors";
import { lambdaNoForeignLayers } from "./lambda/lambda-no-foreign-layers";
import { lambdaReservedConcurrencySet } from "./lambda/lambda-reserved-concurrency-set";
import { lambdaSupportedRuntime } from "./lambda/lambda-supported-runtime";
import { lambdaXrayTracingActive } from "./lambda/lambda-xray-tracing-active";
import { cloudwatchAlarmActionsEnabled } from "./observability/cloudwatch-alarm-actions-enabled";
import { cloudwatchLogGroupEncryptedWithKms } from "./observability/cloudwatch-log-group-encrypted-with-kms";
import { cloudwatchLogGroupRetention } from "./observability/cloudwatch-log-group-retention";
import { s3BucketPolicyRequiresTls } from "./s3/s3-bucket-policy-requires-tls";
import { s3ServerAccessLogging } from "./s3/s3-server-access-logging";
import { sagemakerDistributedJobsEncryptInterContainerTraffic } from "./sagemaker/sagemaker-distributed-jobs-encrypt-inter-container-traffic";
import { sagemakerModelsAndJobsInVpc } from "./sagemaker/sagemaker-models-and-jobs-in-vpc";
import { sagemakerNotebookVpcImdsv2AndSupportedPlatform } from "./sagemaker/sagemaker-notebook-vpc-imdsv2-and-supported-platform";
import { noPlaintextSecrets } from "./security/no-plaintext-secrets";

export const policies: PackPolicy[] = [
    iamNoOverbroadManagedPolicies,
    iamNoWildcardPermissions,
    iamRoleTrustNoPublicOrForeignPrincipals,
    iamNoPrivilegeEscalation,
    iamServiceTrustNoConfusedDeputy,
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
    lambdaFunctionUrlNoWildcardCors,
    lambdaSupportedRuntime,
    noPlaintextSecrets,
    lambdaNoForeignLayers,
    lambdaReservedConcurrencySet,
    lambdaXrayTracingActive,
    lambdaEnvironmentEncryptedWithCmk,
    lambdaCodeSigningRequired,
    lambdaExplicitMemoryAndTimeout,
    apigatewayRouteAuthAndThrottling,
    s3PublicAccessBlocked,
    s3ServerSideEncryption,
    s3NoPublicOrCrossAccountGrants,
    s3BucketPolicyRequiresTls,
    s3ServerAccessLogging,
    kmsKeyPolicyNoPublicAccess,
    kmsKeyRotationAndDeletionWindow,
    sagemakerDataProtection,
    sagemakerModelsAndJobsInVpc,
    sagemakerDistributedJobsEncryptInterContainerTraffic,
    sagemakerModelNetworkIsolation,
    sagemakerNotebookNoInternetRootOrAwsKey,
    sagemakerNotebookVpcImdsv2AndSupportedPlatform,
    stackCostBudget,
    observabilityAlarmsRequired,
    cloudwatchAlarmActionsEnabled,
    cloudwatchLogGroupRetention,
    cloudwatchLogGroupEncryptedWithKms,
    sagemakerEndpointGuardedUpdates,
    sagemakerModelFromApprovedPackage,
];
