import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { fromLaunchTemplate, isInstanceLike } from "../../lib/ec2";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

export const ec2Imdsv2Required: ResourceValidationPolicy & Implements = {
    name: "ec2-imdsv2-required",
    description: "EC2 instances, spot instance requests and launch templates require IMDSv2 (metadataOptions.httpTokens \"required\") or disable the metadata endpoint.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub EC2.8",
    ],
    validateResource: (args, reportViolation) => {
        if (!isInstanceLike(args.type) && args.type !== T.launchTemplate) return;
        const unchecked = new Unchecked();
        const tokens = str(args.props, "metadataOptions.httpTokens");
        const endpoint = str(args.props, "metadataOptions.httpEndpoint");
        if (tokens === UNKNOWN || endpoint === UNKNOWN) unchecked.add(`metadataOptions of ${label(args)}`);
        else if (tokens === undefined && endpoint === undefined && fromLaunchTemplate(args.type, args.props)) {
            // EC2 takes the metadata options the instance leaves unset from its launch template, which this policy checks on its own.
        } else if (tokens !== "required" && endpoint !== "disabled") {
            reportViolation(
                `${label(args)} allows IMDSv1 (metadataOptions.httpTokens is ${tokens ?? "unset, which defaults to optional"}), ` +
                    "letting SSRF reach the instance role's credentials. Set metadataOptions: { httpTokens: \"required\" }.",
            );
        }
        unchecked.finish();
    },
};

