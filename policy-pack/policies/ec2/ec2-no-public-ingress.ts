import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { list, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

/**
 * A block so wide it means "the internet": any IPv4 prefix shorter than /8 or IPv6 prefix shorter than /16,
 * however it is spelt (`::0/0`, `0.0.0.0/1` + `128.0.0.0/1` split in two, ...).
 */
const WIDEST_IPV4_PREFIX = 8;
const WIDEST_IPV6_PREFIX = 16;

export function isInternetWide(cidr: string): boolean {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
    if (!match) return false;
    const prefix = Number(match[2]);
    if (match[1].includes(":")) return prefix < WIDEST_IPV6_PREFIX && prefix <= 128;
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(match[1]) && prefix < WIDEST_IPV4_PREFIX;
}

function portText(from: unknown, to: unknown, protocol: unknown): string {
    if (protocol === "-1" || protocol === "all") return "all ports";
    if (typeof from === "number" && typeof to === "number") return from === to ? `port ${from}` : `ports ${from}-${to}`;
    return "some ports";
}

function coversSsh(from: unknown, to: unknown, protocol: unknown): boolean {
    if (protocol === "-1" || protocol === "all") return true;
    return typeof from === "number" && typeof to === "number" && from <= 22 && to >= 22;
}

export const ec2NoPublicIngress: ResourceValidationPolicy & Implements = {
    name: "ec2-no-public-ingress",
    description: "No security group (the VPC's default security group included) ingress from 0.0.0.0/0 or ::/0 (or any IPv4 block wider than /8, IPv6 wider than /16), on SSH or any other port.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub EC2.18/EC2.19",
    ],
    validateResource: (args, reportViolation) => {
        const unchecked = new Unchecked();
        const rules: { where: string; cidrs: unknown[]; from: unknown; to: unknown; protocol: unknown }[] = [];
        if (args.type === T.securityGroup || args.type === T.defaultSecurityGroup) {
            const ingress = list(args.props, "ingress");
            if (ingress === UNKNOWN) unchecked.add(`ingress of ${label(args)}`);
            (Array.isArray(ingress) ? ingress : []).forEach((rule, i) => {
                if (rule === UNKNOWN) return unchecked.add(`ingress[${i}] of ${label(args)}`);
                const cidrs = [...(asList(rule, "cidrBlocks") ?? []), ...(asList(rule, "ipv6CidrBlocks") ?? [])];
                rules.push({ where: `ingress[${i}]`, cidrs, from: num(rule, "fromPort"), to: num(rule, "toPort"), protocol: str(rule, "protocol") });
            });
        } else if (args.type === T.securityGroupRule) {
            const type = str(args.props, "type");
            if (type === UNKNOWN) unchecked.add(`type of ${label(args)}`);
            if (type !== "ingress") return unchecked.finish();
            const cidrs = [...(asList(args.props, "cidrBlocks") ?? []), ...(asList(args.props, "ipv6CidrBlocks") ?? [])];
            rules.push({ where: "rule", cidrs, from: num(args.props, "fromPort"), to: num(args.props, "toPort"), protocol: str(args.props, "protocol") });
        } else if (args.type === T.securityGroupIngressRule) {
            const cidrs = [str(args.props, "cidrIpv4"), str(args.props, "cidrIpv6")];
            rules.push({ where: "rule", cidrs, from: num(args.props, "fromPort"), to: num(args.props, "toPort"), protocol: str(args.props, "ipProtocol") });
        } else {
            return;
        }
        for (const rule of rules) {
            if (rule.cidrs.includes(UNKNOWN)) unchecked.add(`CIDR blocks of ${rule.where} in ${label(args)}`);
            const open = rule.cidrs.filter((c): c is string => typeof c === "string" && isInternetWide(c));
            if (open.length === 0) continue;
            const ports = portText(rule.from, rule.to, rule.protocol);
            const ssh = coversSsh(rule.from, rule.to, rule.protocol) ? " including SSH (22)" : "";
            reportViolation(
                `${label(args)} ${rule.where} allows ingress from ${open.join(" and ")} on ${ports}${ssh}: open to the whole internet. ` +
                    "Remove the rule (use SSM Session Manager instead of SSH) or restrict it to specific CIDRs or a source security group.",
            );
        }
        unchecked.finish();
    },
};

function asList(props: unknown, path: string): unknown[] | undefined {
    const value = list(props, path);
    return value === UNKNOWN ? [UNKNOWN] : value;
}
