/**
 * Which addresses an image URL may point at: global unicast only. The ranges live in
 * training-scripts/classifier/address_policy.json, which the endpoint's fetcher (classifier/image_fetch.py) reads
 * too, so the Lambda's early refusal and the endpoint's authoritative check judge every address the same way.
 * An IPv6 address that carries an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) is judged by what it carries.
 */
import { isIPv4, isIPv6 } from "node:net";
import policy from "../../training-scripts/classifier/address_policy.json";

interface Block {
    network: bigint;
    prefix: number;
    cidr: string;
    kind: string;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;

function parseIPv4(text: string): bigint {
    return text.split(".").reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

/** Any textual IPv6 form Node accepts: compressed, upper case, with a dotted IPv4 tail, with a zone. */
function parseIPv6(text: string): bigint {
    let address = text.split("%")[0].toLowerCase();
    const dotted = address.lastIndexOf(".") >= 0 ? address.slice(address.lastIndexOf(":") + 1) : undefined;
    if (dotted !== undefined) {
        const ipv4 = parseIPv4(dotted);
        address = `${address.slice(0, address.length - dotted.length)}${(ipv4 >> 16n).toString(16)}:${(ipv4 & 0xffffn).toString(16)}`;
    }
    const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function block(cidr: string, kind: string): Block {
    const [address, prefixText] = cidr.split("/");
    const ipv6 = address.includes(":");
    return { network: ipv6 ? parseIPv6(address) : parseIPv4(address), prefix: Number(prefixText), cidr, kind };
}

function contains(range: Block, value: bigint, bits: number): boolean {
    const shift = BigInt(bits - range.prefix);
    return value >> shift === range.network >> shift;
}

const IPV4_NON_GLOBAL = policy.ipv4NonGlobal.map((entry) => block(entry.network, entry.kind));
const IPV6_NON_GLOBAL = policy.ipv6NonGlobal.map((entry) => block(entry.network, entry.kind));
const IPV6_GLOBAL_UNICAST = block(policy.ipv6GlobalUnicast, "global unicast");
const METADATA = new Set(policy.metadataAddresses.map((address) => (isIPv6(address) ? `6:${parseIPv6(address)}` : `4:${parseIPv4(address)}`)));
const LOCAL_NETWORKS = policy.localNetworks.networks.map((cidr) => block(cidr, "local"));

/** Where an embedding block keeps its IPv4 address(es) within the 128 bits (see address_policy.json). */
const IPV4_FIELDS: Record<string, (bits: bigint) => bigint> = {
    low32: (bits) => bits & 0xffffffffn,
    bits16to47: (bits) => (bits >> 80n) & 0xffffffffn,
    bits32to63: (bits) => (bits >> 64n) & 0xffffffffn,
    low32inverted: (bits) => ~bits & 0xffffffffn,
};
const IPV6_EMBEDDING_IPV4 = policy.ipv6EmbeddingIPv4.map((entry) => ({
    ...block(entry.network, entry.kind),
    fields: entry.ipv4.map((field) => {
        const extract = IPV4_FIELDS[field];
        if (extract === undefined) throw new Error(`address_policy.json: unknown IPv4 field ${field}`);
        return extract;
    }),
}));

function formatIPv4(value: bigint): string {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

function ipv4Refusal(value: bigint): string | undefined {
    const text = formatIPv4(value);
    if (METADATA.has(`4:${value}`)) return `${text} is the instance metadata address`;
    const range = IPV4_NON_GLOBAL.find((candidate) => contains(candidate, value, IPV4_BITS));
    return range && `${text} is ${range.kind} (${range.cidr})`;
}

function carriedIPv4(value: bigint): { kind: string; carried: bigint[] } | undefined {
    const embedding = IPV6_EMBEDDING_IPV4.find((candidate) => contains(candidate, value, IPV6_BITS));
    return embedding && { kind: embedding.kind, carried: embedding.fields.map((extract) => extract(value)) };
}

function ipv6Refusal(text: string, value: bigint): string | undefined {
    const embedding = carriedIPv4(value);
    if (embedding !== undefined) {
        for (const ipv4 of embedding.carried) {
            const reason = ipv4Refusal(ipv4);
            if (reason !== undefined) return `${text} is ${embedding.kind} and carries ${formatIPv4(ipv4)}: ${reason}`;
        }
        return undefined;
    }
    if (METADATA.has(`6:${value}`)) return `${text} is the instance metadata address`;
    const range = IPV6_NON_GLOBAL.find((candidate) => contains(candidate, value, IPV6_BITS));
    if (range !== undefined) return `${text} is ${range.kind} (${range.cidr})`;
    if (!contains(IPV6_GLOBAL_UNICAST, value, IPV6_BITS)) return `${text} is not a global unicast address (outside ${IPV6_GLOBAL_UNICAST.cidr})`;
    return undefined;
}

/** Whether `address` (an IP literal) is one the local-testing switch admits: local itself or IPv4-mapped, never metadata. */
function isLocal(address: string): boolean {
    if (isIPv4(address)) {
        const value = parseIPv4(address);
        return !METADATA.has(`4:${value}`) && LOCAL_NETWORKS.some((range) => !range.cidr.includes(":") && contains(range, value, IPV4_BITS));
    }
    const value = parseIPv6(address);
    const embedding = carriedIPv4(value);
    if (embedding !== undefined) {
        // Only IPv4-mapped is the IPv4 host itself; NAT64, 6to4 and Teredo go through a translator or relay.
        return embedding.kind === "IPv4-mapped" && isLocal(formatIPv4(embedding.carried[0]));
    }
    return !METADATA.has(`6:${value}`) && LOCAL_NETWORKS.some((range) => range.cidr.includes(":") && contains(range, value, IPV6_BITS));
}

/**
 * Why an image may not be fetched from `address` (an IPv4 or IPv6 literal, brackets allowed), or undefined when
 * it may. With `allowLocal` (IMAGE_FETCH_ALLOW_PRIVATE) loopback and private networks are admitted too.
 */
export function addressRefusal(address: string, allowLocal = false): string | undefined {
    const literal = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
    if (isIPv4(literal)) {
        if (allowLocal && isLocal(literal)) return undefined;
        return ipv4Refusal(parseIPv4(literal));
    }
    if (isIPv6(literal)) {
        if (allowLocal && isLocal(literal)) return undefined;
        return ipv6Refusal(literal, parseIPv6(literal));
    }
    return `${address.slice(0, 100)} is not an IP address`;
}
