import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { bool, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-model-network-isolation";

/**
 * Implements AWS Security Hub SageMaker.5 ("SageMaker models should have network isolation enabled"), Checkov
 * CKV_AWS_370 and Prowler sagemaker_models_network_isolation_enabled. A model container with network access can
 * be made to reach the internet or the instance's credential endpoint by any SSRF or compromised dependency in
 * it; an isolated one reaches nothing (SageMaker still loads its artifact from S3).
 */
export const sagemakerModelNetworkIsolation: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker models run network-isolated (enableNetworkIsolation: true). Implements Security Hub SageMaker.5, Checkov CKV_AWS_370, " +
        "Prowler sagemaker_models_network_isolation_enabled.",
    enforcementLevel: "mandatory",
    controls: ["SecurityHub SageMaker.5", "Prowler sagemaker_models_network_isolation_enabled", "Checkov CKV_AWS_370"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.model) return;
        const isolated = bool(args.props, "enableNetworkIsolation");
        if (isolated === UNKNOWN) {
            const unchecked = new Unchecked();
            unchecked.add(`enableNetworkIsolation of ${label(args)}`);
            unchecked.finish();
        } else if (isolated !== true) {
            reportViolation(
                `${label(args)} runs with network access (enableNetworkIsolation is ${isolated ?? "unset"}), so anything that runs in its container ` +
                    "can reach the internet and the instance's credentials. Set enableNetworkIsolation: true (in this project: " +
                    "endpoint.networkIsolation: true, with endpoint.urlInput off; the API's Lambda fetches images itself).",
            );
        }
    },
};
