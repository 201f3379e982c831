/**
 * The industry controls (Security Hub FSBP, AWS Config, Prowler, Checkov, cdk-nag) a policy implements, by the
 * id "<catalog> <control>" of a row of policy-pack/controls/industry-controls.tsv. `when` names the config
 * setting under which the policy checks it, for a control the default config leaves off.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export interface ControlRef {
    id: string;
    when: string;
}

export interface Implements {
    controls: (string | ControlRef)[];
}

export type PackPolicy = (ResourceValidationPolicy | StackValidationPolicy) & Implements;

export function controlId(control: string | ControlRef): string {
    return typeof control === "string" ? control : control.id;
}
