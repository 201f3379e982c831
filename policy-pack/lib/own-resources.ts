/**
 * The resources a stack's roles may reach: the ones the stack creates (buckets, log groups, repositories,
 * keys, SageMaker endpoints/models/jobs, parameters) and the ones its non-IAM resources name (s3:// and ECR
 * image URIs, ARNs), plus patterns from the pack config. A grant never justifies itself: IAM resources are
 * not read for references.
 */
import { PolicyResource } from "@pulumi/policy";
import { buckets } from "./buckets";
import { parsePolicyDocument } from "./iam";
import { StackIndex, T } from "./stack";
import { get, raw, str, UNKNOWN } from "./unknown";

/** Accounts and regions the simulation probes as "someone else's"; a stack using one gets the next. */
export const foreignAccounts = ["210987654321", "109876543210"];
export const foreignRegions = ["eu-north-1", "ap-southeast-2"];

export interface OwnResources {
    partition: string;
    /** The stack's account and region when it shows them (else a stand-in: probes then differ by name only). */
    homeAccount: string;
    homeRegion: string;
    accounts: Set<string>;
    regions: Set<string>;
    /** Services some of whose own resources have names unknown during preview. */
    incomplete: Set<string>;
    isOwn(arn: string): boolean;
    /** Identifies the set, for caching verdicts. */
    signature: string;
}

const s3Uri = /s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/g;
const ecrUri = /(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)/g;
const concreteArn = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:[^*?\s]+$/;

const iamTypes = new Set<string>([T.role, T.rolePolicy, T.policy]);

/** SageMaker resource types by the ARN type of their `name` (AWS lowercases names in SageMaker ARNs). */
const sagemakerTypes: [string, string[]][] = [
    [T.endpoint, ["endpoint"]],
    [T.endpointConfiguration, ["endpoint-config"]],
    [T.model, ["model"]],
    [T.trainingJob, ["training-job"]],
    // A tuning job's trials are training jobs named after it.
    [T.tuningJob, ["hyper-parameter-tuning-job", "training-job"]],
];

const namedTypes: [string, (name: string) => string[], string][] = [
    [T.logGroup, (n) => [`arn:\${Partition}:logs:\${Region}:\${Account}:log-group:${n}`, `arn:\${Partition}:logs:\${Region}:\${Account}:log-group:${n}:*`], "logs"],
    ["aws:ecr/repository:Repository", (n) => [`arn:\${Partition}:ecr:\${Region}:\${Account}:repository/${n}`], "ecr"],
    ["aws:ssm/parameter:Parameter", (n) => [`arn:\${Partition}:ssm:\${Region}:\${Account}:parameter/${n.replace(/^\//, "")}`], "ssm"],
    ...sagemakerTypes.map(
        ([type, arnTypes]): [string, (name: string) => string[], string] => [
            type,
            (n) => arnTypes.map((t) => `arn:\${Partition}:sagemaker:\${Region}:\${Account}:${t}/${n.toLowerCase()}${t === "training-job" && type === T.tuningJob ? "-*" : ""}`),
            "sagemaker",
        ],
    ),
];

/** Walks a value for the data it names: s3:// URIs, ECR image URIs, concrete ARNs. */
function references(value: unknown, out: { patterns: string[] }): void {
    const v = raw(value);
    if (typeof v === "string") {
        for (const m of v.matchAll(s3Uri)) out.patterns.push(...bucketPatterns(m[1]));
        for (const m of v.matchAll(ecrUri)) out.patterns.push(`arn:\${Partition}:ecr:${m[2]}:${m[1]}:repository/${m[3].replace(/[:@].*$/, "")}`);
        if (concreteArn.test(v)) out.patterns.push(v);
    } else if (Array.isArray(v)) {
        for (const item of v) references(item, out);
    } else if (v !== null && typeof v === "object") {
        for (const item of Object.values(v)) references(item, out);
    }
}

function escape(text: string): string {
    return text.replace(/[.+^${}()|[\]\\]/g, "\\$&");
}

/** The accounts and regions of the stack's own ARNs and the accounts its trust policies pin the caller to. */
export function homeOf(index: StackIndex): { accounts: Set<string>; regions: Set<string>; partition: string } {
    const accounts = new Set<string>();
    const regions = new Set<string>();
    let partition = "aws";
    for (const resource of index.resources) {
        const arn = str(resource.props, "arn");
        if (typeof arn === "string") {
            const parts = arn.split(":");
            if (parts[1]) partition = parts[1];
            if (/^\d{12}$/.test(parts[4] ?? "")) accounts.add(parts[4]);
            if (/^[a-z]{2}(-[a-z]+)+-\d$/.test(parts[3] ?? "")) regions.add(parts[3]);
        }
        if (resource.type === T.role) {
            const trust = parsePolicyDocument(get(resource.props, "assumeRolePolicy"));
            if (trust.kind !== "known") continue;
            for (const s of trust.statements) {
                const condition = s.condition as Record<string, Record<string, unknown>> | undefined;
                const value = condition?.StringEquals?.["aws:SourceAccount"];
                for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "string" && /^\d{12}$/.test(v)) accounts.add(v);
            }
        }
    }
    return { accounts, regions, partition };
}

/** The stack's home (accounts, regions, partition), read once per evaluation. */
export type Home = ReturnType<typeof homeOf>;

/** What a service role may reach: `configured` patterns, `extraBuckets`, and what the stack creates and names. */
export function ownResources(index: StackIndex, configured: string[], extraBuckets: string[]): OwnResources {
    const stack = stackResourcePatterns(index);
    return ownResourceSet(homeOf(index), [...configured, ...extraBuckets.flatMap(bucketPatterns), ...stack.patterns], stack.incomplete);
}

/** ARN patterns of what the stack creates and what its non-IAM resources name, and the services with names unknown during preview. */
export function stackResourcePatterns(index: StackIndex): { patterns: string[]; incomplete: Set<string> } {
    const incomplete = new Set<string>();
    const found = { patterns: [] as string[] };
    for (const bucket of buckets(index)) {
        const name = str(bucket.props, "bucket");
        if (typeof name === "string") found.patterns.push(...bucketPatterns(name));
        else incomplete.add("s3");
    }
    for (const [type, patterns, service] of namedTypes) {
        for (const resource of index.of(type)) {
            const name = str(resource.props, "name");
            if (typeof name === "string" && name !== "") found.patterns.push(...patterns(name));
            else if (name === UNKNOWN) incomplete.add(service);
        }
    }
    for (const key of index.of(T.kmsKey)) {
        const arn = str(key.props, "arn");
        if (typeof arn === "string") found.patterns.push(arn);
        else incomplete.add("kms");
    }
    for (const resource of index.resources) if (!iamTypes.has(resource.type)) references(resource.props, found);
    return { patterns: found.patterns, incomplete };
}

export function bucketPatterns(name: string): string[] {
    return [`arn:\${Partition}:s3:::${name}`, `arn:\${Partition}:s3:::${name}/*`];
}

/** Log group `name` and its streams, in the stack's account and region. */
export function logGroupPatterns(name: string): string[] {
    return namedTypes[0][1](name);
}

/** SageMaker endpoints of the stack (by their names), and whether a name is unknown. */
export function endpointPatterns(index: StackIndex): { patterns: string[]; complete: boolean } {
    const patterns: string[] = [];
    let complete = true;
    for (const endpoint of index.of(T.endpoint)) {
        const name = str(endpoint.props, "name");
        if (typeof name === "string" && name !== "") patterns.push(`arn:\${Partition}:sagemaker:\${Region}:\${Account}:endpoint/${name.toLowerCase()}`);
        else complete = false;
    }
    return { patterns, complete };
}

/**
 * The resources matching `patterns` (`${Partition}`, `${Region}`, `${Account}` stand for the stack's; `*`
 * and `?` are wildcards) in the stack's `home`; `incomplete` names services with own names unknown.
 */
export function ownResourceSet(home: Home, patterns: string[], incomplete: Set<string>): OwnResources {
    const { accounts, regions, partition } = home;
    // Without the stack's own account or region any will do, except the ones probes use as someone else's.
    const isForeign = (value: string, list: string[]) => `(?!(?:${list.join("|")})(?::|$))${value}`;
    const accountRe = accounts.size > 0 ? `(?:${[...accounts].join("|")})` : isForeign("\\d{12}", foreignAccounts);
    const regionRe = regions.size > 0 ? `(?:${[...regions].join("|")})` : isForeign("[a-z]{2}(?:-[a-z]+)+-\\d", foreignRegions);
    const unique = [...new Set(patterns)];
    // Indexed by service and the literal start of the resource part, so a lookup costs the length of an ARN, not the size of the stack.
    const byPrefix = new Map<string, RegExp[]>();
    const anywhere: RegExp[] = [];
    for (const p of unique) {
        const regex = new RegExp(
            "^" +
                p
                    .split(/(\$\{Partition\}|\$\{Region\}|\$\{Account\}|\*|\?)/)
                    .map((part) =>
                        part === "${Partition}" ? "aws[a-z-]*" : part === "${Region}" ? regionRe : part === "${Account}" ? accountRe : part === "*" ? ".*" : part === "?" ? "." : escape(part),
                    )
                    .join("") +
                "$",
        );
        const fields = p.split(":");
        const service = fields[2] ?? "";
        if (fields.length < 6 || /[*?$]/.test(service)) {
            anywhere.push(regex);
            continue;
        }
        const key = `${service}|${literalStart(fields.slice(5).join(":"))}`;
        const group = byPrefix.get(key);
        if (group) group.push(regex);
        else byPrefix.set(key, [regex]);
    }
    const isOwn = (arn: string): boolean => {
        if (anywhere.some((r) => r.test(arn))) return true;
        const fields = arn.split(":");
        const resource = fields.slice(5).join(":");
        for (let end = 0; end <= resource.length; end++) {
            const candidates = byPrefix.get(`${fields[2]}|${resource.slice(0, end)}`);
            if (candidates?.some((r) => r.test(arn))) return true;
        }
        return false;
    };
    return {
        partition,
        homeAccount: [...accounts][0] ?? "123456789012",
        homeRegion: [...regions][0] ?? "us-east-1",
        accounts,
        regions,
        incomplete,
        isOwn,
        signature: JSON.stringify([unique, [...accounts], [...regions], [...incomplete]]),
    };
}

/** `base` and `patterns` together; `base` is compiled once and shared, as when every role of a stack adds its own few patterns. */
export function extendOwn(base: OwnResources, home: Home, patterns: string[], incomplete: Set<string>): OwnResources {
    const extra = ownResourceSet(home, patterns, incomplete);
    return {
        ...extra,
        incomplete: new Set([...base.incomplete, ...incomplete]),
        isOwn: (arn) => base.isOwn(arn) || extra.isOwn(arn),
        signature: JSON.stringify([base.signature, extra.signature]),
    };
}

/** The text of a pattern before its first wildcard or placeholder. */
function literalStart(pattern: string): string {
    const at = pattern.search(/[*?]|\$\{/);
    return at < 0 ? pattern : pattern.slice(0, at);
}

/** The role's name for the simulated principal ARN (its `name`, else its Pulumi name). */
export function roleName(role: PolicyResource): string {
    const name = str(role.props, "name");
    return typeof name === "string" && name !== "" ? name : role.name;
}
