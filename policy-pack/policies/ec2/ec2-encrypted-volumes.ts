import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { fromLaunchTemplate, isInstanceLike } from "../../lib/ec2";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { bool, collect, get, list, UNKNOWN, Unchecked } from "../../lib/unknown";

export const ec2EncryptedVolumes: ResourceValidationPolicy & Implements = {
    name: "ec2-encrypted-volumes",
    description: "EC2 instance and spot request root and EBS block devices, launch template block devices and standalone EBS volumes are encrypted.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub EC2.3/EC2.7",
    ],
    validateResource: (args, reportViolation) => {
        const unchecked = new Unchecked();
        const devices: [string, unknown][] = [];
        if (isInstanceLike(args.type)) {
            const root = bool(args.props, "rootBlockDevice.encrypted");
            // Unset, the root volume is encrypted as the launch template's mapping says; the template is checked on its own.
            if (root !== undefined || !fromLaunchTemplate(args.type, args.props)) devices.push(["rootBlockDevice.encrypted", root]);
            devices.push(...collect(args.props, "ebsBlockDevices[].encrypted").map(([p, v]) => [p, v === UNKNOWN ? v : bool({ v }, "v")] as [string, unknown]));
        } else if (args.type === T.launchTemplate) {
            const mappings = list(args.props, "blockDeviceMappings");
            if (mappings === UNKNOWN) unchecked.add(`blockDeviceMappings of ${label(args)}`);
            (Array.isArray(mappings) ? mappings : []).forEach((m, i) => {
                if (m !== UNKNOWN && get(m, "ebs") === undefined) return;
                devices.push([`blockDeviceMappings[${i}].ebs.encrypted`, m === UNKNOWN ? UNKNOWN : bool(m, "ebs.encrypted")]);
            });
        } else if (args.type === T.volume) {
            devices.push(["encrypted", bool(args.props, "encrypted")]);
        } else {
            return;
        }
        for (const [where, encrypted] of devices) {
            if (encrypted === UNKNOWN) unchecked.add(`${where} of ${label(args)}`);
            else if (encrypted !== true) {
                reportViolation(
                    `${label(args)} has an unencrypted volume (${where} is ${encrypted ?? "unset"}). Set ${where}: true (optionally with a KMS key).`,
                );
            }
        }
        unchecked.finish();
    },
};

